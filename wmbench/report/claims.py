"""The paper's claims, one verdict per claim, env and mode, with the world models as the replication unit.

A comparison claim (`COMPARISONS`) is measured on Table 1's cells (each entry at its largest budget, task
levels pooled): within each world-model training seed, the success difference of the two entries on the
same tasks; over the seeds (the independently trained models), its mean, 95% t interval and one-sample
t-test. Verdicts, in this order:

- *out of reach*: the compared-against cell is saturated (pooled success ≥ `SATURATED`), so no gain can show;
- *reproduced*: "better" claims: mean > 0 with p < `ALPHA`; "matches or beats": the interval's lower end
  ≥ -`MARGIN` (not worse by more than the margin);
- *refuted*: the effect runs the other way (mean < 0, p < `ALPHA`; "matches": the interval's upper end < 0),
  or a "better" claim's interval ends below the paper's own (positive) effect;
- *not shown*: otherwise (too few models, or too small an effect, to tell).

The time claim ("GBP+AWM matches CEM at about 10% of its time") is `budget_claim` on the MPC iteration
curves, per task level (levels differ in step cap), models pooled and per model seed: *out of reach* when
CEM's best is saturated (≥ `SATURATED`: a match is then down to single episodes), *reproduced* when the
challenger's first match costs at most `TIME_FRACTION` of CEM's planning seconds per episode, *refuted*
when it never matches or costs more, *not shown* when the budget grid's bracket straddles
`TIME_FRACTION`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from wmbench.report.comparisons import over_models, seed_differences
from wmbench.report.curves import Bracket
from wmbench.report.integrity import check
from wmbench.report.paper import ENVS, TABLE1
from wmbench.report.table1 import budget_claim, table1_cell

#: Significance level of the over-models t-tests.
ALPHA = 0.05
#: A compared-against cell at or above this success leaves no room for a gain.
SATURATED = 0.95
#: "Matches": the 95% interval of the difference ends above -MARGIN.
MARGIN = 0.05
#: "About 10% of CEM's time": a match costing at most this fraction of CEM's planning seconds.
TIME_FRACTION = 0.2
MODES = ("open-loop", "mpc")


@dataclass(frozen=True)
class Comparison:
    """A claim that entry ``first`` is better than (or, ``matches``, at least as good as) ``second``."""

    claim: str
    first: str
    second: str
    modes: tuple[str, ...] = MODES
    matches: bool = False


COMPARISONS = (
    Comparison("Adam ≫ GD", "GBP", "GD"),
    Comparison("GBP+OWM > GBP", "GBP+OWM", "GBP"),
    Comparison("GBP+AWM > GBP", "GBP+AWM", "GBP"),
    Comparison("GBP+AWM matches or beats CEM in MPC", "GBP+AWM", "CEM", ("mpc",), matches=True),
)
#: The time claim's challenger and reference.
TIME_CLAIM = ("GBP+AWM", "CEM")


def _paper_rate(entry: str, env: str, mode: str) -> float:
    planner, variant = table1_cell(entry)
    return TABLE1[variant, mode][env, planner] / 100


def _largest_budget(rows: pd.DataFrame, env: str, mode: str, entry: str) -> pd.DataFrame:
    cell = rows[(rows["env"] == env) & (rows["mode"] == mode) & (rows["entry"] == entry)
                & ~rows["upper_bound"] & (rows["budget_kind"] == "iterations")]
    return cell[cell["budget_value"] == cell["budget_value"].max()] if len(cell) else cell


def _verdict(comparison: Comparison, stats: dict[str, float], second_rate: float, paper: float) -> str:
    if comparison.matches:
        if second_rate >= SATURATED and stats["low"] >= -MARGIN:
            return "out of reach (saturated)"
        if stats["low"] >= -MARGIN:
            return "**reproduced**"
        return "**refuted**" if stats["high"] < 0 else "not shown"
    if second_rate >= SATURATED:
        return "out of reach (saturated)"
    if stats["mean"] > 0 and stats["p_value"] < ALPHA:
        return "**reproduced**" + (", smaller than the paper's" if stats["high"] < paper else "")
    if (stats["mean"] < 0 and stats["p_value"] < ALPHA) or (paper > 0 and stats["high"] < paper):
        return "**refuted**"
    return "not shown"


def comparison_claims(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison claim, env and mode both entries ran through several world models: pooled
    rates, per-seed differences, the over-models statistics, the paper's difference and the verdict."""
    out = []
    for comparison in COMPARISONS:
        for env in ENVS:
            for mode in comparison.modes:
                first = _largest_budget(rows, env, mode, comparison.first)
                second = _largest_budget(rows, env, mode, comparison.second)
                diffs = seed_differences(first, second)
                if len(diffs) < 2:
                    continue
                stats = over_models(diffs)
                paper = (_paper_rate(comparison.first, env, mode)
                         - _paper_rate(comparison.second, env, mode))
                second_rate = float(second["success"].mean())
                out.append({"claim": comparison.claim, "env": env, "mode": mode,
                            "first": comparison.first, "second": comparison.second,
                            "first_rate": float(first["success"].mean()), "second_rate": second_rate,
                            "n": len(first), "diffs": diffs, **stats, "paper": paper,
                            "verdict": _verdict(comparison, stats, second_rate, paper)})
    return pd.DataFrame(out)


def _time_fraction(rows: pd.DataFrame) -> pd.DataFrame:
    challenger, reference = TIME_CLAIM
    curves = rows[(rows["mode"] == "mpc") & (rows["budget_kind"] == "iterations")]
    return budget_claim(curves, reference=reference, challengers=(challenger,))


def _time_verdict(fraction: Bracket) -> str:
    if fraction.high <= TIME_FRACTION:
        return "**reproduced**"
    if fraction.low > TIME_FRACTION:
        return "**refuted**"
    return "not shown"


def time_claims(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per env and level with the time claim's curves: CEM's best success (models pooled), the
    fraction of CEM's planning seconds at which the challenger first matches it, the same per model seed,
    and the verdict on the pooled fraction."""
    out = []
    pooled = _time_fraction(rows)
    if pooled.empty:
        return pd.DataFrame(out)
    seeds = sorted(rows.loc[rows["entry"].isin(TIME_CLAIM), "model_seed"].unique())
    per_seed = {int(seed): _time_fraction(rows[rows["model_seed"] == seed]).set_index(["env", "level"])
                for seed in seeds}
    for claim in pooled.itertuples():
        fraction = Bracket(claim.fraction_low, claim.fraction_high)
        key = (claim.env, claim.level)
        if claim.reference_best >= SATURATED:
            verdict = "out of reach (saturated)"
        elif math.isinf(claim.match_high):
            verdict = "**refuted** (never matches)"
        else:
            verdict = _time_verdict(fraction)
        out.append({"env": claim.env, "level": claim.level, "reference_best": claim.reference_best,
                    "fraction": fraction,
                    "ci_fraction": Bracket(claim.ci_fraction_low, claim.ci_fraction_high),
                    "per_seed": {seed: Bracket(frame.loc[key, "fraction_low"],
                                               frame.loc[key, "fraction_high"])
                                 for seed, frame in per_seed.items() if key in frame.index},
                    "concurrent": claim.concurrent, "verdict": verdict})
    return pd.DataFrame(out)


def _points(value: float) -> str:
    return f"{100 * value:+.0f}"


def _comparison_table(comparisons: pd.DataFrame) -> list[str]:
    if comparisons.empty:
        return ["No comparison claim: no two of its entries ran through two or more world models."]
    lines = ["| claim | env | mode | success (models pooled) | difference per model seed | over the models: "
             "mean [95% t] | p | paper | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for c in comparisons.itertuples():
        seeds = " / ".join(_points(d) for d in c.diffs.values())
        lines.append(
            f"| {c.claim} | {c.env} | {c.mode} | {c.first} {100 * c.first_rate:.0f}% vs {c.second} "
            f"{100 * c.second_rate:.0f}% (n={c.n}) | {seeds} (seeds {', '.join(map(str, c.diffs))}) | "
            f"{_points(c.mean)} [{_points(c.low)}, {_points(c.high)}] | {c.p_value:.2g} | {_points(c.paper)} "
            f"| {c.verdict} |")
    return lines


def _time_table(times: pd.DataFrame) -> list[str]:
    challenger, reference = TIME_CLAIM
    if times.empty:
        return [f"No time claim: no MPC iteration curves of both {reference} and {challenger}."]
    lines = [f"| claim | env | level | {reference} best (MPC) | fraction of {reference}'s planning seconds "
             f"at which {challenger} first reaches it | per model seed | within 95% CI | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for t in times.itertuples():
        mark = " †" if t.concurrent else ""
        seeds = " / ".join(b.format("%", 100) for b in t.per_seed.values())
        lines.append(f"| {challenger} matches {reference} at about 10% of its time | {t.env} | "
                     f"{t.level or 'all'} | {100 * t.reference_best:.0f}% | "
                     f"{t.fraction.format('%', 100)}{mark} | {seeds} | {t.ci_fraction.format('%', 100)} | "
                     f"{t.verdict} |")
    return lines


def claims_markdown(results: pd.DataFrame) -> str:
    """The claims tables (`comparison_claims`, `time_claims`) with the verdict rules beneath."""
    rows = check(results).rows
    times = time_claims(rows)
    lines = [*_comparison_table(comparison_claims(rows)), "", *_time_table(times)]
    challenger, reference = TIME_CLAIM
    notes = [
        "", "Comparison claims: Table 1's cells (each entry at its largest budget, task levels pooled). "
        "Within each world-model training seed, the success difference in points on the same tasks; over "
        f"the independently trained models, its mean, 95% t interval and t-test p. Paper: the same "
        f"difference in the paper's Table 1. Verdicts: *out of reach* when the compared-against cell is at "
        f"or above {100 * SATURATED:.0f}%; *reproduced* when the mean is above 0 with p < {ALPHA} (\"matches "
        f"or beats\": the interval ends above −{100 * MARGIN:.0f} points); *refuted* when the effect runs "
        f"the other way with p < {ALPHA} (\"matches\": the interval ends below 0) or the interval ends below "
        "the paper's positive effect; otherwise *not shown*.",
        "", "Time claim: `BUDGET.md`'s measure on the MPC iteration curves, per task level: the "
        f"budget grid brackets where {challenger} first reaches {reference}'s best success (within 95% CI: "
        f"its Wilson interval contains it) and where {reference} does; the fraction compares the planning "
        "seconds per episode measured there (`> x` when it never reaches it). *Out of reach* when "
        f"{reference}'s best is at or above {100 * SATURATED:.0f}%, *reproduced* when the fraction is at "
        f"most {100 * TIME_FRACTION:.0f}% (about 10%, within a factor of two), *refuted* when it never "
        f"matches or the whole bracket is above {100 * TIME_FRACTION:.0f}%, otherwise *not shown*.",
    ]
    if not times.empty and times["concurrent"].any():
        notes.append("† timed while other sweep units ran on the same host: wall-clock times are distorted "
                     "by contention.")
    return "\n".join([*lines, *notes]) + "\n"
