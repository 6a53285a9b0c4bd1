"""What a success-vs-budget curve resolves: censored "time to match" and saturation verdicts.

A budget grid only brackets the budget at which a curve reaches a target rate: matched at the smallest budget
means "at most that much" (left-censored), never matched means "more than the largest" (right-censored),
otherwise the first match lies between the last budget that does not match and the first that does. The
bracket is on the nominal budget grid, which is ordered; the measured seconds per plan call are not (a
planner can overrun a small budget and spend more than at the next one), so they are reported beside it.
Times are :class:`Bracket` intervals and are printed as such, never as a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from wmbench.report.paired import align, paired_difference
from wmbench.report.stats import UNITS, budget_label

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

    def format(self, kind: str) -> str:
        """E.g. ``(0.3 s, 1 s] budget; measured 0.29–0.37 s`` for budgets of ``kind``."""
        text = f"{self.budget.format(f' {UNITS[kind]}')} budget"
        if math.isnan(self.measured_low):
            return text
        low, high = f"{self.measured_low:.3g}", f"{self.measured_high:.3g}"
        return f"{text}; measured {low if low == high else f'{low}–{high}'} s"


def time_to_reach(curve: pd.DataFrame, target: float, rate: str = "rate") -> Reach:
    """Where ``curve`` (one entry's summary rows: ``budget_value``, ``rate``, ``seconds_per_call``) first has
    ``rate >= target``: bracketed by its budgets, with the measured seconds at the bracket's ends."""
    curve = curve.sort_values("budget_value")
    reached = (curve[rate] >= target).to_numpy()
    budgets = curve["budget_value"].to_numpy(float)
    seconds = curve["seconds_per_call"].to_numpy(float)
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

    *Flat*: the smallest budget is the best one, or not significantly below the best one (two-sided exact
    McNemar on the episodes both budgets ran, level :data:`ALPHA`, not corrected across curves).
    *Still rising*: the largest budget's success is above the previous budget's, significantly.
    Otherwise *resolved*. Empty when the curve has fewer than two budgets; a curve without successes says so.
    """
    by_budget = dict(tuple(rows.groupby("budget_value", sort=True)))
    budgets = list(by_budget)
    if len(budgets) < 2:
        return []
    rate = {b: 100 * float(g["success"].mean()) for b, g in by_budget.items()}
    best = max(budgets, key=lambda b: (rate[b], -b))
    first, previous, last = budgets[0], budgets[-2], budgets[-1]

    def change(low: float, high: float) -> tuple[str, float]:
        pairs = align(by_budget[high], by_budget[low])
        p = paired_difference(*pairs).p_value if pairs is not None else math.nan
        return (f"{rate[low]:.0f}% at {budget_label(low, kind)} vs {rate[high]:.0f}% at "
                f"{budget_label(high, kind)}, paired exact p={p:.2g}"), p

    if rate[best] == 0:
        return ["no success at any budget: the grid does not resolve it"]
    verdicts = []
    if best == first:
        verdicts.append(f"best at its smallest budget ({rate[first]:.0f}% at {budget_label(first, kind)}): "
                        "the grid does not show where it saturates; add smaller budgets")
    else:
        text, p = change(first, best)
        if not p < ALPHA:
            verdicts.append(f"at its smallest budget not significantly below its best ({text}): the grid "
                            "does not resolve its rise; add smaller budgets")
    text, p = change(previous, last)
    if rate[last] > rate[previous] and p < ALPHA:
        verdicts.append(f"still rising at its largest budget ({text}); add larger budgets")
    if not verdicts:
        verdicts.append(f"resolved: its best is significantly above its smallest budget "
                        f"({change(first, best)[0]}), with no significant rise at its largest budget")
    return verdicts
