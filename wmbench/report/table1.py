"""The paper's Table 1 and its time-budget claim, rebuilt from results Parquet with 95% Wilson intervals.

Table 1 rows are (world-model variant x control mode), columns (env x planner), planners identified by the
entry names the reproduction runs: ``GD[@variant]`` (plain gradient descent GBP), ``GBP[@variant]`` (Adam) and
``CEM[@variant]``. Each cell shows our success %, its interval, the episode count and the paper's number.
"""

from __future__ import annotations

import math

import pandas as pd

from wmbench.report.paper import CELLS, FOOTNOTED, TABLE1, VARIANT_LABELS
from wmbench.report.stats import summarise

#: Entry name prefix -> Table 1 planner column.
PLANNER_OF_ENTRY = {"GD": "GD", "GBP": "Adam", "CEM": "CEM"}
MODE_LABELS = {"open-loop": "open-loop", "mpc": "+ MPC"}


def table1_entries(variant: str) -> tuple[str, str, str]:
    """The (GD, Adam, CEM) entry names planning through ``variant``."""
    suffix = "" if variant == "base" else f"@{variant}"
    return tuple(f"{prefix}{suffix}" for prefix in PLANNER_OF_ENTRY)


def table1_frame(results: pd.DataFrame) -> pd.DataFrame:
    """One row per Table 1 cell we measured: variant, mode, env, planner, n, rate, low, high, paper."""
    summary = summarise(results)
    summary = summary[~summary["upper_bound"]]
    # a cell is planned at one budget; if several were run, the largest counts
    summary = summary.sort_values("budget_value").groupby(["env", "mode", "entry"], sort=False).tail(1)
    base = summary["entry"].str.partition("@")
    summary = summary.assign(planner=base[0].map(PLANNER_OF_ENTRY),
                             variant=base[2].where(base[2] != "", "base"))
    summary = summary.dropna(subset=["planner"])
    keys = zip(summary["variant"], summary["mode"], summary["env"], summary["planner"], strict=True)
    summary["paper"] = [TABLE1.get((v, m), {}).get((e, p), math.nan) for v, m, e, p in keys]
    columns = ["variant", "mode", "env", "planner", "n", "rate", "low", "high", "paper"]
    return summary[columns].reset_index(drop=True)


def _cell(row: pd.Series | None, key: tuple[str, str, str]) -> str:
    paper = f"{TABLE1[key[:2]][key[2:]]}{'*' if (key[2], key[3], key[1]) in FOOTNOTED else ''}"
    if row is None:
        return f"— (paper {paper})"
    return (f"{100 * row['rate']:.0f} [{100 * row['low']:.0f}–{100 * row['high']:.0f}] n={int(row['n'])} "
            f"(paper {paper})")


def table1_markdown(results: pd.DataFrame) -> str:
    """Table 1 in the paper's layout: ours with 95% Wilson interval and n, the paper's number in brackets."""
    frame = table1_frame(results).set_index(["variant", "mode", "env", "planner"])
    header = ["world model", *(f"{env} {planner}" for env, planner in CELLS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant, mode in TABLE1:
        cells = []
        for env, planner in CELLS:
            key = (variant, mode, env, planner)
            cells.append(_cell(frame.loc[key] if key in frame.index else None, key))
        lines.append(f"| {VARIANT_LABELS[variant]} {MODE_LABELS[mode]} | " + " | ".join(cells) + " |")
    notes = ("Cells: our success % [95% Wilson interval] n=episodes (paper's %, 50 episodes, one seed). "
             "* Wall open-loop CEM: the paper prints DINO-WM's published value; its authors measured 32%.")
    return "\n".join([*lines, "", notes]) + "\n"


def budget_claim(results: pd.DataFrame, reference: str = "CEM",
                 challengers: tuple[str, ...] = ("GBP+AWM", "GBP+OWM", "GBP")) -> pd.DataFrame:
    """The paper's "matches CEM in 10% of the time" claim, measured per env and mode.

    ``reference_best``: the reference's best success over budgets; ``reference_seconds``: the measured seconds
    per plan call at the smallest budget where it reaches it; per challenger, the measured seconds per plan
    call at the smallest budget where its success reaches the reference's best, and that as a fraction of
    ``reference_seconds`` (NaN when never reached). ``ci_seconds_to_match`` / ``ci_fraction`` relax "reaches"
    to "its 95% Wilson interval contains the reference's best" (statistically indistinguishable). Measured,
    not nominal, seconds: a planner whose first iteration overruns a small budget is charged what it spent.
    """
    summary = summarise(results)
    summary = summary.assign(x_seconds=summary["seconds_per_call"])
    rows = []
    for (env, mode), group in summary.groupby(["env", "mode"], sort=True):
        ref = group[group["entry"] == reference]
        if ref.empty:
            continue
        best = float(ref["rate"].max())
        ref_seconds = float(ref.loc[ref["rate"] >= best, "x_seconds"].min())
        for entry in challengers:
            mine = group[group["entry"] == entry]
            seconds = float(mine.loc[mine["rate"] >= best, "x_seconds"].min())
            ci_seconds = float(mine.loc[mine["high"] >= best, "x_seconds"].min())
            rows.append({"env": env, "mode": mode, "entry": entry, "reference_best": best,
                         "reference_seconds": ref_seconds, "seconds_to_match": seconds,
                         "fraction_of_reference_time": seconds / ref_seconds,
                         "ci_seconds_to_match": ci_seconds, "ci_fraction": ci_seconds / ref_seconds})
    return pd.DataFrame(rows)


def budget_claim_markdown(claim: pd.DataFrame) -> str:
    """The budget-claim table as markdown."""
    lines = ["| env | mode | entry | CEM best | CEM time | time to match | fraction of CEM time | "
             "time to match within 95% CI | fraction (CI) |", "|---|---|---|---|---|---|---|---|---|"]
    for row in claim.itertuples():
        lines.append(f"| {row.env} | {row.mode} | {row.entry} | {100 * row.reference_best:.0f}% | "
                     f"{row.reference_seconds:.3g} s | {_time(row.seconds_to_match)} | "
                     f"{_percent(row.fraction_of_reference_time)} | {_time(row.ci_seconds_to_match)} | "
                     f"{_percent(row.ci_fraction)} |")
    return "\n".join(lines) + "\n"


def _time(seconds: float) -> str:
    return "never" if math.isnan(seconds) else f"{seconds:.3g} s"


def _percent(fraction: float) -> str:
    return "—" if math.isnan(fraction) else f"{100 * fraction:.0f}%"
