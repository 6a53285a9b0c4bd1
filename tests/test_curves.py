"""Curve verdicts and censored times: what a budget grid resolves."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from result_rows import episode_rows

from wmbench.report.curves import Bracket, Reach, curve_verdicts, time_to_reach


def _curve(rates: dict[float, int], n: int = 40) -> pd.DataFrame:
    """One entry's episodes: at each budget the first k of n tasks succeed (so budgets nest)."""
    return pd.DataFrame([r for budget, k in rates.items()
                         for r in episode_rows("CEM", budget, k, n, budget_kind="iterations")])


def test_a_flat_curve_is_not_resolved():
    [verdict] = curve_verdicts(_curve({1: 20, 2: 22, 4: 24}), "iterations")
    assert verdict == ("at its smallest budget not significantly below its best (50% at 1 it vs 60% at 4 it, "
                       "paired exact p=0.12): the grid does not resolve its rise; add smaller budgets")
    [verdict] = curve_verdicts(_curve({1: 30, 2: 30, 4: 29}), "iterations")
    assert verdict.startswith("best at its smallest budget (75% at 1 it)")


def test_a_curve_still_rising_at_its_largest_budget():
    [verdict] = curve_verdicts(_curve({1: 5, 2: 10, 4: 30}), "iterations")
    assert verdict == ("still rising at its largest budget (25% at 2 it vs 75% at 4 it, paired exact "
                       "p=1.9e-06); add larger budgets")


def test_a_resolved_curve():
    [verdict] = curve_verdicts(_curve({1: 5, 2: 30, 4: 31}), "iterations")
    assert verdict.startswith("resolved: its best is significantly above its smallest budget (12% at 1 it vs "
                              "78% at 4 it, paired exact p=")
    assert curve_verdicts(_curve({1: 5}), "iterations") == []
    assert curve_verdicts(_curve({1: 0, 2: 0}), "iterations") == [
        "no success at any budget: the grid does not resolve it"]


def test_time_to_reach_is_bracketed_by_the_budget_grid_with_measured_seconds_beside():
    curve = pd.DataFrame({"budget_value": [4.0, 1.0, 2.0], "rate": [0.7, 0.2, 0.5],
                          "seconds_per_call": [0.4, 0.1, 0.2]})
    assert time_to_reach(curve, 0.1) == Reach(Bracket(0.0, 1.0), 0.1, 0.1)
    assert time_to_reach(curve, 0.5) == Reach(Bracket(1.0, 2.0), 0.1, 0.2)
    assert time_to_reach(curve, 0.9) == Reach(Bracket(4.0, math.inf), 0.4, 0.4)
    assert time_to_reach(curve, 0.5).format("iterations") == "(1 it, 2 it] budget; measured 0.1–0.2 s"
    assert time_to_reach(curve, 0.9).format("iterations") == "> 4 it budget; measured 0.4 s"


def test_a_bracket_stays_monotone_when_a_small_budget_overruns():
    """A first iteration that overruns the 0.1 s budget (0.365 s measured) and then a 0.3 s budget that ran
    in 0.296 s: the bracket is on the budgets, the measured seconds are reported beside it."""
    curve = pd.DataFrame({"budget_value": [0.1, 0.3, 1.0], "rate": [0.2, 0.6, 0.7],
                          "seconds_per_call": [0.365, 0.296, 0.98]})
    reach = time_to_reach(curve, 0.5)
    assert reach.budget == Bracket(0.1, 0.3) and reach.budget.low < reach.budget.high
    assert reach.format("seconds") == "(0.1 s, 0.3 s] budget; measured 0.296–0.365 s"
    unmeasured = curve.assign(seconds_per_call=math.nan)
    assert time_to_reach(unmeasured, 0.5).format("seconds") == "(0.1 s, 0.3 s] budget"


@pytest.mark.parametrize(("bracket", "text"), [
    (Bracket(0.0, 0.1), "≤ 0.1 s"), (Bracket(0.4, math.inf), "> 0.4 s"),
    (Bracket(0.1, 0.25), "(0.1 s, 0.25 s]"), (Bracket(0.0, math.inf), "unbounded"),
    (Bracket(math.nan, 1.0), "—")])
def test_brackets_are_written_as_bounds_never_as_points(bracket, text):
    assert bracket.format() == text


def test_a_ratio_of_brackets_spans_both():
    assert Bracket(0.1, 0.3) / Bracket(0.5, 1.0) == Bracket(pytest.approx(0.1), pytest.approx(0.6))
    assert Bracket(0.0, 0.1) / Bracket(0.0, 0.5) == Bracket(0.0, math.inf)
    assert (Bracket(3.0, math.inf) / Bracket(0.5, 1.0)).format("%", 100) == "> 300%"
