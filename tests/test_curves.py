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


def test_a_declining_curve_from_its_smallest_budget():
    """100% at the smallest budget falling to 57% at the largest: declining, not "add smaller budgets"."""
    assert curve_verdicts(_curve({1: 40, 2: 35, 4: 23}), "iterations") == [
        "declining: at its largest budget significantly below its best (100% at 1 it vs 57% at 4 it, paired "
        "exact p=1.5e-05)"]


def test_a_curve_declining_after_its_best():
    assert curve_verdicts(_curve({1: 10, 2: 30, 4: 15}), "iterations") == [
        "declining: at its largest budget significantly below its best (75% at 2 it vs 38% at 4 it, paired "
        "exact p=6.1e-05)"]
    # a drop within the noise is no decline
    [verdict] = curve_verdicts(_curve({1: 5, 2: 30, 4: 28}), "iterations")
    assert verdict.startswith("resolved: its best is significantly above its smallest budget")


def _seconds_curve(iterations: dict[float, int], successes: dict[float, int], n: int = 40) -> pd.DataFrame:
    """Seconds budgets whose plan calls ran ``iterations[budget]`` iterations each (10 calls per episode, 0.09
    s measured per call when one iteration overruns the budget)."""
    return pd.DataFrame([r for budget, k in successes.items()
                         for r in episode_rows("CEM", budget, k, n, iterations=10 * iterations[budget],
                                               seconds=max(budget, 0.09))])


def test_first_iteration_overruns_the_smallest_budgets():
    """Three seconds budgets under one CEM iteration all ran that one iteration with the same outcomes: one
    point, said so, and no advice to add smaller budgets."""
    curve = _seconds_curve({0.003: 1, 0.01: 1, 0.03: 1, 0.3: 3, 1.0: 10},
                           {0.003: 30, 0.01: 30, 0.03: 30, 0.3: 31, 1.0: 31})
    assert curve_verdicts(curve, "seconds") == [
        "first iteration overruns the smallest budgets: 0.003–0.03 s all ran exactly one iteration per plan "
        "call (measured 0.09 s per call), one tested point",
        "at its smallest budget not significantly below its best (75% at 0.003–0.03 s vs 78% at 0.3 s, "
        "paired exact p=1): the grid does not resolve its rise; smaller seconds budgets run the same single "
        "iteration; compare iteration or evaluation budgets"]
    # every budget under one iteration: a single point
    below = _seconds_curve({0.003: 1, 0.01: 1}, {0.003: 30, 0.01: 30})
    assert curve_verdicts(below, "seconds")[1] == (
        "every budget ran the same runs (75% at 0.003–0.01 s): the grid does not resolve it")


def test_merged_budgets_without_single_iterations_are_no_overrun():
    # the same runs at two budgets, but several iterations per plan call: merged, not an overrun
    curve = _seconds_curve({0.1: 4, 0.3: 4, 1.0: 12, 3.0: 36}, {0.1: 10, 0.3: 10, 1.0: 30, 3.0: 31})
    assert curve_verdicts(curve, "seconds") == [
        "resolved: its best is significantly above its smallest budget (25% at 0.1–0.3 s vs 78% at 3 s, "
        "paired exact p=9.5e-07), with no significant rise at its largest budget"]
    # one single-iteration budget alone is not "several budgets"
    single = _seconds_curve({0.003: 1, 0.1: 4}, {0.003: 10, 0.1: 30})
    assert not any(v.startswith("first iteration") for v in curve_verdicts(single, "seconds"))
