"""The paper's Table 1 and its time-budget claim, rebuilt from results Parquet with 95% Wilson intervals.

Table 1 rows are (world-model variant x control mode), columns (env x planner), planners identified by the
entry names the reproduction runs (`table1_cell`): ``GD[@variant]`` (plain gradient descent GBP), ``GBP``,
``GBP+OWM``, ``GBP+AWM`` or ``GBP@variant`` (Adam) and ``CEM[@variant]``. Each cell shows our success %, its
interval, the episode count and the paper's number.
"""

from __future__ import annotations

import math

import pandas as pd

from wmbench.harness.entries import ENTRIES
from wmbench.report.curves import Bracket, Reach, time_to_reach
from wmbench.report.integrity import check
from wmbench.report.paper import CELLS, FOOTNOTED, TABLE1, VARIANT_LABELS
from wmbench.report.stats import GROUP, summarise

#: Named entry -> Table 1 planner column.
PLANNER_OF_ENTRY = {"GD": "GD", "GBP": "Adam", "GBP+OWM": "Adam", "GBP+AWM": "Adam", "CEM": "CEM"}
MODE_LABELS = {"open-loop": "open-loop", "mpc": "+ MPC"}


def table1_cell(entry: str) -> tuple[str, str] | None:
    """``(planner column, variant)`` of an entry name ``NAME[@variant]`` with ``NAME`` in
    `PLANNER_OF_ENTRY` (the variant is the named entry's own unless given), else None."""
    name, _, variant = entry.partition("@")
    if name not in PLANNER_OF_ENTRY:
        return None
    return PLANNER_OF_ENTRY[name], variant or ENTRIES[name].variant


def table1_entries(variant: str) -> tuple[str, str, str]:
    """The (GD, Adam, CEM) entry names planning through ``variant``: Adam's is the named entry of that
    variant (``GBP``, ``GBP+OWM``, ``GBP+AWM``), so its Table 1 cell continues its curve."""
    suffix = "" if variant == "base" else f"@{variant}"
    adam = next(name for name, column in PLANNER_OF_ENTRY.items()
                if column == "Adam" and ENTRIES[name].variant == variant)
    return f"GD{suffix}", adam, f"CEM{suffix}"


def table1_frame(results: pd.DataFrame) -> pd.DataFrame:
    """One row per Table 1 cell we measured: variant, mode, env, planner, n, models, rate, low, high, paper.

    The rows are checked first (`wmbench.report.integrity.check`); task levels and world-model seeds
    are pooled (a cell is the whole split)."""
    return _table1_cells(_largest_budgets(results))


def _largest_budgets(results: pd.DataFrame) -> pd.DataFrame:
    """The checked rows summarised per env, mode and entry, levels and world-model seeds pooled, at the
    entry's largest budget (a cell is planned at one budget; if several were run, the largest counts)."""
    summary = summarise(check(results).rows, by=[c for c in GROUP if c != "level"])
    return summary.sort_values("budget_value").groupby(["env", "mode", "entry"], sort=False).tail(1)


def _table1_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """The world-model entries of `_largest_budgets` as Table 1 cells, with the paper's numbers."""
    summary = summary[~summary["upper_bound"]]
    cells = [table1_cell(entry) for entry in summary["entry"]]
    summary = summary.assign(planner=[cell and cell[0] for cell in cells],
                             variant=[cell and cell[1] for cell in cells])
    summary = summary.dropna(subset=["planner"])
    keys = zip(summary["variant"], summary["mode"], summary["env"], summary["planner"], strict=True)
    summary["paper"] = [TABLE1.get((v, m), {}).get((e, p), math.nan) for v, m, e, p in keys]
    columns = ["variant", "mode", "env", "planner", "n", "models", "rate", "low", "high", "paper"]
    return summary[columns].reset_index(drop=True)


def _cell(row: pd.Series | None, key: tuple[str, str, str]) -> str:
    paper = f"{TABLE1[key[:2]][key[2:]]}{'*' if (key[2], key[3], key[1]) in FOOTNOTED else ''}"
    if row is None:
        return f"— (paper {paper})"
    return f"{_rate(row)} (paper {paper})"


def table1_markdown(results: pd.DataFrame) -> str:
    """Table 1 in the paper's layout: ours with 95% Wilson interval and n, the paper's number in brackets;
    then the upper bound (the Oracle: planning through the simulator) under the CEM columns, where it ran."""
    measured = _largest_budgets(results)
    frame = _table1_cells(measured).set_index(["variant", "mode", "env", "planner"])
    header = ["world model", *(f"{env} {planner}" for env, planner in CELLS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant, mode in TABLE1:
        cells = []
        for env, planner in CELLS:
            key = (variant, mode, env, planner)
            cells.append(_cell(frame.loc[key] if key in frame.index else None, key))
        lines.append(f"| {VARIANT_LABELS[variant]} {MODE_LABELS[mode]} | " + " | ".join(cells) + " |")
    ceiling = measured[measured["upper_bound"]]  # open-loop rows first, as in the paper's table
    ceiling = ceiling.sort_values(["entry", "mode"], ascending=[True, False], kind="stable")
    for (entry, mode), group in ceiling.groupby(["entry", "mode"], sort=False):
        by_env = group.set_index("env")
        cells = [_rate(by_env.loc[env]) if planner == "CEM" and env in by_env.index else ""
                 for env, planner in CELLS]
        lines.append(f"| {entry} (upper bound) {MODE_LABELS[mode]} | " + " | ".join(cells) + " |")
    notes = ("Cells: our success % [95% Wilson interval] n=episodes (paper's %, 50 episodes, one seed). "
             "* Wall open-loop CEM: the paper prints DINO-WM's published value; its authors measured 32%.")
    if len(ceiling):
        notes += (" Upper bound: sampling-based planning through the simulator itself (a perfect model) on "
                  "the same tasks; not part of the paper's table.")
    return "\n".join([*lines, "", notes]) + "\n"


def _rate(row: pd.Series) -> str:
    models = f", {int(row['models'])} models" if row["models"] > 1 else ""
    interval = f"[{100 * row['low']:.0f}–{100 * row['high']:.0f}]"
    return f"{100 * row['rate']:.0f} {interval} n={int(row['n'])}{models}"


def budget_claim(results: pd.DataFrame, reference: str = "CEM",
                 challengers: tuple[str, ...] = ("GBP+AWM", "GBP+OWM", "GBP")) -> pd.DataFrame:
    """The paper's "matches CEM in 10% of the time" claim, measured per env, mode, budget kind and level.

    Budgets are bracketed by the budget grid (`time_to_reach`; columns ``*_low``/``*_high``: the budget
    lies in ``(low, high]``, 0 = at most ``high``, inf = more than ``low``), with the seconds per plan call
    measured at the bracket's ends beside them (``*_measured_low``/``*_measured_high``).
    ``reference_best``: the reference's best success over budgets; ``reference_*``: where the reference first
    reaches it; ``match_*``: where the challenger's success first reaches it; ``fraction_*``: the range of
    match budget / reference budget over both brackets for seconds budgets (per plan call), and for iteration
    or evaluation budgets, whose units differ between planners, of the measured planning seconds per
    episode (``*_measured_*`` are then per episode: planners that replan at different rates compare whole).
    ``ci_*`` relax "reaches" to "its 95% Wilson interval contains the reference's best" (statistically
    indistinguishable). ``concurrent``: some of these rows were timed while other units ran on the same
    host. Rows are checked first ([`wmbench.report.integrity.check`][wmbench.report.integrity.check]).
    """
    rows = check(results).rows
    summary = summarise(rows)
    table = ["env", "mode", "budget_kind", "level"]
    shared = rows.groupby([*table, "entry"])["concurrent_units"].max() > 1
    out = []
    for key, group in summary.groupby(table, sort=True):
        ref = group[group["entry"] == reference]
        if ref.empty:
            continue
        best = float(ref["rate"].max())
        per_call = key[2] == "seconds"
        seconds = "seconds_per_call" if per_call else "seconds_per_episode"
        ref_reach = time_to_reach(ref, best, seconds=seconds)
        for entry in challengers:
            mine = group[group["entry"] == entry]
            if mine.empty:
                continue
            reaches = {"reference": ref_reach, "match": time_to_reach(mine, best, seconds=seconds),
                       "ci_match": time_to_reach(mine, best, rate="high", seconds=seconds)}
            cost = {name: reach.budget if per_call else reach.seconds for name, reach in reaches.items()}
            brackets = {**{name: reach.budget for name, reach in reaches.items()},
                        "fraction": cost["match"] / cost["reference"],
                        "ci_fraction": cost["ci_match"] / cost["reference"]}
            out.append({**dict(zip(table, key, strict=True)), "entry": entry, "reference_best": best,
                        **{f"{name}_{end}": getattr(bracket, end) for name, bracket in brackets.items()
                           for end in ("low", "high")},
                        **{f"{name}_measured_{end}": getattr(reach, f"measured_{end}")
                           for name, reach in reaches.items() for end in ("low", "high")},
                        "concurrent": bool(shared[(*key, entry)] or shared[(*key, reference)])})
    return pd.DataFrame(out)


def _reach(row: tuple, name: str) -> str:
    """One claim row's ``name`` budget bracket with its measured seconds."""
    low, high, measured_low, measured_high = (getattr(row, f"{name}_{end}")
                                              for end in ("low", "high", "measured_low", "measured_high"))
    return Reach(Bracket(low, high), measured_low, measured_high).format(row.budget_kind)


def budget_claim_markdown(claim: pd.DataFrame, reference: str = "CEM") -> str:
    """The budget-claim table as markdown, every budget and fraction written as its bracket."""
    lines = [f"| env | mode | level | entry | {reference} best | {reference} budget to its best | budget to "
             f"match | fraction of {reference}'s budget | budget to match within 95% CI | fraction (CI) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in claim.itertuples():
        mark = " †" if row.concurrent else ""
        lines.append(
            f"| {row.env} | {row.mode}, {row.budget_kind} | {row.level or 'all'} | {row.entry}{mark} | "
            f"{100 * row.reference_best:.0f}% | {_reach(row, 'reference')} | {_reach(row, 'match')} | "
            f"{Bracket(row.fraction_low, row.fraction_high).format('%', 100)} | {_reach(row, 'ci_match')} | "
            f"{Bracket(row.ci_fraction_low, row.ci_fraction_high).format('%', 100)} |")
    notes = [
        "", "Budgets per plan call, bracketed by the budget grid: `≤ x` reached at the smallest budget, "
        "`> x` never reached, `(a, b]` first reached between two budgets; beside each, the seconds per plan "
        "call measured at those budgets (a first iteration that overruns a small budget spends more than "
        f"it). A fraction is the range of match budget / {reference}'s budget over both brackets "
        "(`unbounded` when neither is bounded).",
    ]
    if len(claim) and (claim["budget_kind"] != "seconds").any():
        notes.append("Iteration budgets: the measured seconds are planning seconds per episode (every "
                     "replan's plan call), and a fraction is the range of the match's / "
                     f"{reference}'s over both brackets: one iteration costs each planner differently, and "
                     "GBP replans five times as often as CEM.")
    if len(claim) and claim["concurrent"].any():
        notes.append("† timed while other sweep units ran on the same host: wall-clock times are distorted "
                     "by contention.")
    return "\n".join([*lines, *notes]) + "\n"
