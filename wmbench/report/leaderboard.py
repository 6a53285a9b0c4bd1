"""leaderboard.md: per env, control mode, budget kind and task level, success at each budget, paired
differences to a reference entry, time to reach the reference's best, the Oracle ceiling, curve verdicts and
the spread between world models.

The markdown is a pure function of the checked result rows (sorted, no timestamps): the same Parquet gives the
same file byte for byte.
"""

from __future__ import annotations

import math

import pandas as pd

from wmbench.report.cohorts import cohorts
from wmbench.report.comparisons import ceiling, model_variation, reference_differences, variant_effects
from wmbench.report.curves import ALPHA, curve_verdicts, time_to_reach
from wmbench.report.integrity import Checked
from wmbench.report.paired import EPISODE
from wmbench.report.plots import entry_order
from wmbench.report.runs import RUN, budget_range
from wmbench.report.stats import budget_label, difference_interval, summarise

#: The default reference entry of the paired differences and of "time to the reference's best".
REFERENCE = "CEM"
_MACHINE = ["wmbench_version", "git_commit", "torch_version", "python_version", "cpu_model", "threads",
            "device"]
_SETTINGS = ["split", "task_suite", "batch_size", "horizon", "objective", "execute_steps", "max_steps"]
_TABLE = ["env", "mode", "budget_kind"]
#: What the per-table comparisons read of each episode row.
_EPISODE_COLUMNS = ["entry", "budget_value", *EPISODE, "model_seed", *RUN, "planning_seconds",
                    "concurrent_units"]


def _intro(reference: str) -> str:
    return (
        "Success rate in % with its 95% Wilson interval and the number of episodes (tasks x seeds x world "
        "models), per planning budget. A budget limits one plan call for the whole batch of episodes; errors "
        "count as failures. Task levels are reported separately. "
        f"*Δ vs {reference}*: the success difference to {reference} at the same budget in percentage points, "
        "paired episode by episode (same task, planner seed and world-model seed), with its 95% Newcombe "
        "hybrid score interval for paired data (per comparison) and the exact McNemar p-value, "
        f"Holm-adjusted within each table; `*` marks adjusted p < {ALPHA:g}. "
        f"*Budget to {reference}'s best*: the budget at which an entry's success first reaches "
        f"{reference}'s best success at any budget, bracketed by the budget grid: `≤ x` when reached already "
        "at the smallest budget, `> x` when never reached, `(a, b]` between the last budget that does not "
        "reach it and the first that does; beside it the seconds per plan call measured at those budgets (a "
        "planner whose first iteration overruns a small budget spends more than the budget, so measured "
        "seconds need not grow with the budget). The ceiling is the best upper-bound entry (Oracle: planning "
        "with the simulator), listed separately and never ranked with the world-model entries.")


def _cell(row: pd.Series, unit: str = "") -> str:
    models = f" ({int(row['models'])} models)" if row["models"] > 1 else ""
    interval = f"[{100 * row['low']:.0f}–{100 * row['high']:.0f}]"
    return f"{100 * row['rate']:.0f}{unit} {interval} n={int(row['n'])}{models}"


def _points(value: float) -> str:
    return f"{int(round(100 * value)):+d}"


def _p(value: float) -> str:
    return "p<0.001" if value < 0.001 else f"p={value:.2g}"


def _table(group: pd.DataFrame, entries: list[str], kind: str, reference: str) -> list[str]:
    budgets = sorted(group["budget_value"].unique())
    ref = group[group["entry"] == reference]
    best = float(ref["rate"].max()) if len(ref) else math.nan
    header = ["entry", *(budget_label(b, kind) for b in budgets)]
    if best > 0:
        header.append(f"budget to {reference}'s best ({100 * best:.0f}%)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for entry in entries:
        rows = group[group["entry"] == entry].set_index("budget_value")
        cells = [_cell(rows.loc[b]) if b in rows.index else "" for b in budgets]
        if best > 0:
            cells.append(time_to_reach(rows.reset_index(), best).format(kind))
        lines.append("| " + " | ".join([entry, *cells]) + " |")
    return lines


def _differences(episodes: pd.DataFrame, entries: list[str], kind: str, reference: str) -> list[str]:
    if not (episodes["entry"] == reference).any():
        return [f"No {reference} rows in this table: no paired differences to it."]
    diffs = reference_differences(episodes, entries, reference)
    if diffs.empty:
        return []
    budgets = sorted(diffs["budget_value"].unique())
    header = ["entry", *(f"Δ vs {reference} ({budget_label(b, kind)})" for b in budgets)]
    lines = [f"Paired difference to {reference} at the same budget (points [95% interval], Holm-adjusted "
             f"exact McNemar p; `*`: p < {ALPHA:g}; consecutive budgets at which both entries ran the same "
             "runs are one test, counted once by Holm):", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for entry in [e for e in entries if e != reference]:
        rows = {r["budget_value"]: r for r in diffs[diffs["entry"] == entry].to_dict("records")}
        lines.append("| " + " | ".join([entry, *(_difference(rows.get(b), kind) for b in budgets)]) + " |")
    return lines


def _difference(row: dict | None, kind: str) -> str:
    """One ``Δ vs REF`` cell: points [interval] Holm p, ``*`` when significant, how many were paired, and the
    budgets that ran the same runs (the test is shown at the first of them)."""
    if row is None:
        return ""
    if row["budget_value"] != row["first_budget"]:
        return f"same runs as at {budget_label(row['first_budget'], kind)}"
    if row["n"] == 0:
        return "— (no matching episodes)"
    star = "*" if row["p_holm"] < ALPHA else ""
    most = max(row["entry_n"], row["reference_n"])
    partial = f" ({row['n']} of {most} paired)" if row["n"] < most else ""
    same = "" if row["last_budget"] == row["first_budget"] else \
        f" (one test for {budget_range([row['first_budget'], row['last_budget']], kind)}: same runs)"
    return (f"{_points(row['difference'])} [{_points(row['low'])}, {_points(row['high'])}] "
            f"{_p(row['p_holm'])}{star}{partial}{same}")


def _ceiling(group: pd.DataFrame, episodes: pd.DataFrame, kind: str) -> list[str]:
    found = ceiling(group, episodes)
    if found is None:
        return ["Ceiling: no Oracle (upper-bound) rows in this table, so the gap to planning with the "
                "simulator is unknown."]
    bound = found.bound
    text = (f"Ceiling: {bound['entry']} {_cell(bound, '%')} at {budget_label(bound['budget_value'], kind)} "
            "(best upper-bound cell).")
    if found.best is None:
        return [text]
    best = found.best
    text += (f" Best world-model cell: {best['entry']} {_cell(best, '%')} at "
             f"{budget_label(best['budget_value'], kind)}; gap to the ceiling ")
    gap = found.gap
    if gap is None:
        low, high = difference_interval(int(best["successes"]), int(best["n"]), int(bound["successes"]),
                                        int(bound["n"]))
        return [text + f"{_points(best['rate'] - bound['rate'])} points [{_points(low)}, {_points(high)}] "
                       "(unpaired interval: their episodes cannot be matched one to one)."]
    return [text + f"{_points(gap.difference)} points [{_points(gap.low)}, {_points(gap.high)}], paired on "
                   f"{gap.n} episodes, exact McNemar {_p(gap.p_value)}."]


def _verdicts(episodes: pd.DataFrame, entries: list[str], kind: str) -> list[str]:
    lines = []
    for entry in entries:
        lines += [f"- {entry}: {v}" for v in curve_verdicts(episodes[episodes["entry"] == entry], kind)]
    return ["Curves (paired exact tests between budgets of the same entry, uncorrected):", "", *lines] \
        if lines else []


def _seed_columns(frame: pd.DataFrame) -> list[str]:
    """The ``seed N`` columns of a per-model table, by training seed."""
    return sorted((c for c in frame.columns if c.startswith("seed ")), key=lambda c: int(c.split()[1]))


def _variation(episodes: pd.DataFrame, entries: list[str], kind: str) -> list[str]:
    spread = model_variation(episodes, entries)
    if spread.empty:
        return []
    seeds = _seed_columns(spread)
    header = ["entry", "budget", "pooled over episodes", *(f"model {s}" for s in seeds),
              "mean over models [95% t interval]", "range"]
    lines = ["Between-model variation: the intervals above are over episodes and understate the variation "
             "between independently trained world models; the mean over models with its t interval treats "
             "each model as one replicate.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    spread = spread.assign(rank=spread["entry"].map({e: i for i, e in enumerate(entries)}))
    for row in spread.sort_values(["rank", "budget_value"]).to_dict("records"):
        per_model = ["" if pd.isna(row[s]) else f"{100 * row[s]:.0f}" for s in seeds]
        interval = ("—" if math.isnan(row["mean_low"]) else
                    f"{100 * row['mean']:.0f} [{100 * row['mean_low']:.0f}–{100 * row['mean_high']:.0f}]")
        lines.append("| " + " | ".join([
            row["entry"], budget_label(row["budget_value"], kind),
            f"{100 * row['pooled']:.0f} [{100 * row['pooled_low']:.0f}–{100 * row['pooled_high']:.0f}]",
            *per_model, interval, f"{100 * row['range']:.0f} points"]) + " |")
    return lines


def _variant_effects(episodes: pd.DataFrame, entries: list[str], kind: str) -> list[str]:
    effects = variant_effects(episodes, entries)
    if effects.empty:
        return []
    seeds = _seed_columns(effects)
    header = ["variant − base", "budget", *(f"model {s}" for s in seeds), "mean over models [95% t interval]",
              "t-test over models"]
    lines = ["World-model variants, each trained model one replicate: per model the paired difference in "
             "success (same tasks and planner seeds) of the variant entry minus the same planner through the "
             "base model of that training seed; the mean over models, its t interval and a two-sided "
             "one-sample t-test (k − 1 degrees of freedom).", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in effects.to_dict("records"):
        per_model = ["" if pd.isna(row[s]) else _points(row[s]) for s in seeds]
        lines.append("| " + " | ".join([
            f"{row['entry']} − {row['base']}", budget_label(row["budget_value"], kind), *per_model,
            f"{_points(row['mean'])} [{_points(row['low'])}, {_points(row['high'])}]",
            f"{_p(row['p_value'])} ({row['models']} models)"]) + " |")
    return lines


def _notes(group: pd.DataFrame, episodes: pd.DataFrame) -> list[str]:
    notes = []
    for entry, rows in group.groupby("entry", sort=True):
        errors, overruns = int(rows["errors"].sum()), int(rows["overruns"].sum())
        if errors:
            notes.append(f"- {entry}: {errors} episode(s) with errors (counted as failures)")
        if overruns:
            notes.append(f"- {entry}: {overruns} episode(s) with a plan call over 2x its time budget")
    shared = episodes[episodes["concurrent_units"] > 1]
    if len(shared):
        entries = sorted(shared["entry"].unique())
        who = "every entry" if len(entries) == episodes["entry"].nunique() else ", ".join(entries)
        notes.append(f"- {who}: {len(shared)} episode(s) timed while other sweep units ran on the same host "
                     f"(up to {int(shared['concurrent_units'].max())} at once): wall-clock budgets and "
                     "measured seconds are distorted by contention")
    return ["Notes:", "", *notes] if notes else []


def _settings(rows: pd.DataFrame) -> list[str]:
    """The run settings of one level's rows: one line, or one line per group of entries when entries ran
    under different protocols (e.g. Table 1: GBP replans every step, CEM executes the whole plan). Each
    curve has one setting (the integrity check refuses anything else)."""
    lines = []
    settings = rows[["mode", *_SETTINGS, "entry"]].drop_duplicates()
    for key, group in settings.groupby(["mode", *_SETTINGS], sort=True):
        row = dict(zip(["mode", *_SETTINGS], key, strict=True))
        steps = (f"{row['execute_steps']} planning step(s) per replan, at most {row['max_steps']} env steps"
                 if row["mode"] == "mpc" else f"{row['max_steps']} env steps, final state judged")
        lines.append(f"{row['split']} split of suite {row['task_suite']}, batch {row['batch_size']}; horizon "
                     f"{row['horizon']}, {row['objective']} objective, {steps}")
        if settings[["mode", *_SETTINGS]].drop_duplicates().shape[0] > 1:
            lines[-1] = f"- {', '.join(sorted(group['entry']))}: {lines[-1]}."
    if len(lines) == 1:
        return [f"Tasks: {lines[0]}."]
    return ["Tasks, by entry (the entries ran under different protocols):", "", *lines]


def _section(group: pd.DataFrame, episodes: pd.DataFrame, kind: str, reference: str) -> list[str]:
    """Tables and notes of one (env, mode, budget kind, level)."""
    order = entry_order(group)
    bounds = set(group.loc[group["upper_bound"], "entry"])
    entries = [e for e in order if e not in bounds]
    out = _table(group, entries, kind, reference) if entries else ["(no world-model entries)"]
    upper = ["Upper bound:", "", *_table(group, [e for e in order if e in bounds], kind, reference)] \
        if bounds else []
    for block in (_differences(episodes, entries, kind, reference), upper, _ceiling(group, episodes, kind),
                  _verdicts(episodes, order, kind), _variation(episodes, entries, kind),
                  _variant_effects(episodes, entries, kind), _notes(group, episodes)):
        out += ["", *block] if block else []
    return [*out, ""]


def _level(rows: pd.DataFrame, group: pd.DataFrame, kind: str, reference: str) -> list[str]:
    """One level's settings, tables and notes: one section per cohort of curves that may be paired
    (:func:`wmbench.report.cohorts.cohorts`), the later ones with the reason they stand apart."""
    found = cohorts(rows, entry_order(group), reference)
    out: list[str] = []
    for k, cohort in enumerate(found):
        if k:
            entries = ", ".join(sorted(cohort.rows["entry"].unique()))
            out += [f"Not paired with the entries above ({entries}): {cohort.reason}. Compared among "
                    "themselves only:", ""]
        summary = group if len(found) == 1 else summarise(cohort.rows)
        out += [*_settings(cohort.rows), ""]
        out += _section(summary, cohort.rows[_EPISODE_COLUMNS], kind, reference)
    return out


def _duplicates(duplicates: pd.DataFrame) -> list[str]:
    if duplicates.empty:
        return ["Integrity: every episode is stored once (no overlapping sweep units)."]
    lines = [f"Integrity: {int(duplicates['dropped'].sum())} duplicate episode row(s) dropped (overlapping "
             "sweep units stored the same episode more than once; each is counted once, from the larger "
             "unit):", ""]
    for row in duplicates.itertuples():
        level = f", level {row.level}" if row.level else ""
        lines.append(f"- {row.entry} on {row.env} ({row.mode}, {row.budget_kind} budgets{level}): "
                     f"{row.dropped} row(s)")
    return lines


def render(checked: Checked, plots: dict[tuple[str, str, str], list[str]], command: str,
           reference: str = REFERENCE, overview: str | None = None) -> str:
    """The leaderboard markdown of checked result rows. ``plots`` maps (env, mode, kind) to relative figure
    paths; ``overview`` is the relative path of the overview figure, shown first."""
    results = checked.rows
    summary = summarise(results)
    out = [f"<!-- Generated by `{command}` from the results Parquet files. Do not edit by hand. -->",
           "# wmbench leaderboard", "", _intro(reference), "", *_duplicates(checked.duplicates), ""]
    if overview:
        out += [f"![overview: success vs measured seconds and evaluations per plan call]({overview})", ""]
    for (env, mode, kind), group in summary.groupby(_TABLE, sort=True):
        rows = results[(results["env"] == env) & (results["mode"] == mode) & (results["budget_kind"] == kind)]
        levels = sorted(group["level"].unique())
        out += [f"## {env} — {mode}, {kind} budgets", ""]
        if levels != [""]:
            out += [f"Task levels, each reported separately: {', '.join(levels)}.", ""]
        for level in levels:
            out += [f"### level {level}", ""] if level else []
            out += _level(rows[rows["level"] == level], group[group["level"] == level], kind, reference)
        figures = plots.get((env, mode, kind), [])
        caption = " (all levels pooled)" if levels != [""] else ""
        out += [*(f"![{env} {mode}{caption}]({p})" for p in figures), ""] if figures else []
    machines = results[_MACHINE].drop_duplicates().sort_values(_MACHINE)
    out += ["## Machine and software", ""]
    out += [f"- wmbench {m.wmbench_version} (git {m.git_commit}), torch {m.torch_version}, Python "
            f"{m.python_version}; CPU {m.cpu_model}; {m.threads} torch thread(s); device {m.device}"
            for m in machines.itertuples()]
    sweeps = sorted(c for c in results["command"].dropna().unique() if c)
    if sweeps:
        out += ["", "Produced by:", "", *(f"    {c}" for c in sweeps)]
    out += ["", "Regenerate this file:", "", f"    {command}", ""]
    return "\n".join(out)
