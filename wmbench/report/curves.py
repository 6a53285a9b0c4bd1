"""What a success-vs-budget curve resolves: censored "time to match" and saturation verdicts.

A budget grid only brackets the budget at which a curve reaches a target rate: matched at the smallest budget
means "at most that much" (left-censored), never matched means "more than the largest" (right-censored),
otherwise the first match lies between the last budget that does not match and the first that does. The
bracket is on the nominal budget grid, which is ordered; the measured seconds per plan call are not (a
planner can overrun a small budget and spend more than at the next one), so they are reported beside it.
Times are `Bracket` intervals and are printed as such, never as a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from wmbench.report.paired import align, paired_difference
from wmbench.report.runs import budget_groups, budget_range
from wmbench.report.stats import UNITS

#: Significance level of the per-curve paired tests.
ALPHA = 0.05


@dataclass(frozen=True)
class Bracket:
    """A quantity known to lie in ``(low, high]``; ``low == 0``: at most ``high``; ``high == inf``: more than
    ``low``."""

    low: float
    high: float

    def __truediv__(self, other: Bracket) -> Bracket:
        """The range of ``self / other`` over both brackets."""
        low = self.low / other.high if other.high > 0 else math.nan
        high = self.high / other.low if other.low > 0 else math.inf
        return Bracket(low, high)

    def format(self, unit: str = " s", scale: float = 1.0) -> str:
        """``≤ b``, ``> a``, ``(a, b]`` or ``—`` (unknown) with ``unit`` appended to each number."""
        if math.isnan(self.low) or math.isnan(self.high):
            return "—"
        low, high = f"{scale * self.low:.3g}{unit}", f"{scale * self.high:.3g}{unit}"
        if self.low == 0 and math.isinf(self.high):
            return "unbounded"
        if self.low == 0:
            return f"≤ {high}"
        if math.isinf(self.high):
            return f"> {low}"
        return f"({low}, {high}]"


@dataclass(frozen=True)
class Reach:
    """Where a curve first reaches a target: ``budget``, bracketed by the nominal budget grid, and the
    measured seconds per plan call at the bracket's finite ends (``measured_low <= measured_high``; NaN when
    not measured)."""

    budget: Bracket
    measured_low: float
    measured_high: float

    @property
    def seconds(self) -> Bracket:
        """The measured seconds bracketed as the budget is: at most the first point's, between the
        bracket's ends', or more than the last point's when never reached."""
        return Bracket(0.0 if self.budget.low == 0 else self.measured_low,
                       math.inf if math.isinf(self.budget.high) else self.measured_high)

    def format(self, kind: str) -> str:
        """E.g. ``(0.3 s, 1 s] budget; measured 0.29–0.37 s`` for budgets of ``kind``."""
        text = f"{self.budget.format(f' {UNITS[kind]}')} budget"
        if math.isnan(self.measured_low):
            return text
        return f"{text}; measured {seconds_range(self.measured_low, self.measured_high)}"


def seconds_range(low: float, high: float) -> str:
    """``0.29–0.37 s``, or ``0.3 s`` when both ends print the same."""
    low_text, high_text = f"{low:.3g}", f"{high:.3g}"
    return f"{low_text} s" if low_text == high_text else f"{low_text}–{high_text} s"


def time_to_reach(curve: pd.DataFrame, target: float, rate: str = "rate", seconds: str = "seconds_per_call"
                  ) -> Reach:
    """Where ``curve`` (one entry's summary rows: ``budget_value``, ``rate``, ``seconds``) first has
    ``rate >= target``: bracketed by its budgets, with the measured seconds at the bracket's ends."""
    curve = curve.sort_values("budget_value")
    reached = (curve[rate] >= target).to_numpy()
    budgets = curve["budget_value"].to_numpy(float)
    seconds = curve[seconds].to_numpy(float)
    if not reached.any():
        ends = [len(curve) - 1]
        bracket = Bracket(budgets[-1], math.inf)
    else:
        first = int(reached.argmax())
        ends = [first] if first == 0 else [first - 1, first]
        bracket = Bracket(0.0 if first == 0 else budgets[first - 1], budgets[first])
    measured = seconds[ends]
    if pd.isna(measured).any():
        return Reach(bracket, math.nan, math.nan)
    return Reach(bracket, float(measured.min()), float(measured.max()))


def curve_verdicts(rows: pd.DataFrame, kind: str) -> list[str]:
    """Plain-language verdicts on one entry's curve from its episode rows (one level, all budgets of
    ``kind``).

    Budgets that ran the same runs are one point first (`wmbench.report.runs.budget_groups`). Tests
    are two-sided exact McNemar tests on the episodes both points ran, level `ALPHA`, not corrected
    across curves; the best point (highest success, the smallest on ties) is chosen after looking, so read
    them as a screen.

    *First iteration overruns the smallest budgets*: seconds budgets whose smallest point merges several
    budgets at which every plan call ran exactly one iteration (smaller seconds budgets cannot run less).
    *Flat*: the smallest point is the best one, or not significantly below it.
    *Declining*: the largest point is significantly below the best one.
    *Still rising*: the largest point's success is above the previous point's, significantly.
    Otherwise *resolved*. Empty when the curve has fewer than two budgets; a curve without successes says so.
    """
    if rows["budget_value"].nunique() < 2:
        return []
    groups = budget_groups(rows)
    by_budget = dict(tuple(rows.groupby("budget_value", sort=True)))
    points = [by_budget[group[0]] for group in groups]
    labels = [budget_range(group, kind) for group in groups]
    rate = [100 * float(point["success"].mean()) for point in points]
    if max(rate) == 0:
        return ["no success at any budget: the grid does not resolve it"]
    notes = []
    first_runs = pd.concat([by_budget[b] for b in groups[0]])
    overruns = kind == "seconds" and len(groups[0]) > 1 and bool(
        (first_runs["iterations"] == first_runs["replans"]).all())
    if overruns:
        seconds = [by_budget[b]["planning_seconds"].sum() / by_budget[b]["replans"].sum() for b in groups[0]]
        notes.append(f"first iteration overruns the smallest budgets: {labels[0]} all ran exactly one "
                     f"iteration per plan call (measured {seconds_range(min(seconds), max(seconds))} per "
                     "call), one tested point")
    if len(points) == 1:
        return [*notes, f"every budget ran the same runs ({rate[0]:.0f}% at {labels[0]}): the grid does not "
                        "resolve it"]
    best, last = rate.index(max(rate)), len(points) - 1
    smaller = ("smaller seconds budgets run the same single iteration; compare iteration or evaluation "
               "budgets" if overruns else "add smaller budgets")

    def change(i: int, j: int) -> tuple[str, float]:
        pairs = align(points[i], points[j])
        p = paired_difference(*pairs).p_value if pairs is not None else math.nan
        return f"{rate[i]:.0f}% at {labels[i]} vs {rate[j]:.0f}% at {labels[j]}, paired exact p={p:.2g}", p

    shape = []
    declining, p_decline = change(best, last) if best != last else ("", math.nan)
    if best == 0 and not p_decline < ALPHA:
        shape.append(f"best at its smallest budget ({rate[0]:.0f}% at {labels[0]}): the grid does not show "
                     f"where it saturates; {smaller}")
    elif best != 0:
        text, p = change(0, best)
        if not p < ALPHA:
            shape.append(f"at its smallest budget not significantly below its best ({text}): the grid does "
                         f"not resolve its rise; {smaller}")
    if p_decline < ALPHA:
        shape.append(f"declining: at its largest budget significantly below its best ({declining})")
    text, p = change(last - 1, last)
    if rate[last] > rate[last - 1] and p < ALPHA:
        shape.append(f"still rising at its largest budget ({text}); add larger budgets")
    if not shape:
        shape.append(f"resolved: its best is significantly above its smallest budget ({change(0, best)[0]}), "
                     "with no significant rise at its largest budget")
    return [*notes, *shape]
