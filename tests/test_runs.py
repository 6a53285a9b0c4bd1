"""Budgets that ran the same runs are one tested point: grouping, Holm's family and the leaderboard cells."""

from __future__ import annotations

import pandas as pd
import pytest
from result_rows import episode_rows

from wmbench.harness.schema import write_part
from wmbench.report import report
from wmbench.report.comparisons import reference_differences
from wmbench.report.paired import holm
from wmbench.report.runs import budget_groups, budget_range, same_runs

N = 40


def _entry(entry: str, plan: dict[float, tuple[int, int]]) -> list[dict]:
    """Seconds budgets -> (iterations per plan call, successes of N), 10 plan calls per episode."""
    return [r for budget, (iterations, k) in plan.items()
            for r in episode_rows(entry, budget, k, N, iterations=10 * iterations, seconds=max(budget, 0.09))]


#: CEM's first iteration overruns 0.003-0.03 s; GBP runs one iteration at 0.003 and 0.01 s only; MPPI's
#: runs are the same at 0.003-0.03 s.
PLAN = {"CEM": {0.003: (1, 20), 0.01: (1, 20), 0.03: (1, 20), 0.1: (3, 30)},
        "GBP": {0.003: (1, 5), 0.01: (1, 5), 0.03: (4, 25), 0.1: (12, 35)},
        "MPPI": {0.003: (1, 8), 0.01: (1, 8), 0.03: (1, 8), 0.1: (2, 12)}}


def _episodes() -> pd.DataFrame:
    return pd.DataFrame([r for entry, plan in PLAN.items() for r in _entry(entry, plan)])


def test_consecutive_budgets_with_identical_runs_group():
    episodes = _episodes()
    cem, gbp = episodes[episodes["entry"] == "CEM"], episodes[episodes["entry"] == "GBP"]
    assert budget_groups(cem) == [[0.003, 0.01, 0.03], [0.1]]
    assert budget_groups(gbp) == [[0.003, 0.01], [0.03], [0.1]]
    # a comparison merges only where both sides ran the same runs
    assert budget_groups(gbp, cem) == [[0.003, 0.01], [0.03], [0.1]]
    assert budget_range([0.003, 0.01, 0.03], "seconds") == "0.003–0.03 s"
    assert budget_range([8.0], "iterations") == "8 it"


@pytest.mark.parametrize("column, value", [("success", False), ("iterations", 20), ("final_distance", 0.5),
                                           ("error", "RuntimeError: boom")])
def test_any_difference_but_budget_and_timing_separates_runs(column, value):
    cem = _episodes().query("entry == 'CEM'")
    low, high = cem[cem["budget_value"] == 0.003], cem[cem["budget_value"] == 0.01].copy()
    # timing and the budget's own bookkeeping do not count
    high["planning_seconds"] *= 3
    high["overrun"] = ~high["overrun"]
    high["unit_id"] = "another unit"
    assert same_runs(low, high)
    high.loc[high.index[0], column] = value
    assert not same_runs(low, high)
    assert not same_runs(low, high.iloc[1:])


def test_identical_runs_are_one_test_in_holms_family():
    diffs = reference_differences(_episodes(), ["CEM", "GBP", "MPPI"], "CEM")
    # 8 cells, 5 distinct tests: GBP at 0.003-0.01 s, 0.03 s, 0.1 s; MPPI at 0.003-0.03 s, 0.1 s
    tests = diffs[diffs["budget_value"] == diffs["first_budget"]]
    assert len(diffs) == 8 and len(tests) == 5
    assert tests["p_holm"].tolist() == pytest.approx(holm(tests["p_value"].tolist()))
    gbp = diffs[diffs["entry"] == "GBP"].set_index("budget_value")
    assert (gbp.loc[0.01, "first_budget"], gbp.loc[0.01, "last_budget"]) == (0.003, 0.01)
    assert gbp.loc[0.01, ["difference", "p_value", "p_holm"]].tolist() == \
        gbp.loc[0.003, ["difference", "p_value", "p_holm"]].tolist()


def test_leaderboard_shows_one_test_for_the_merged_budgets(tmp_path):
    write_part(_episodes().to_dict("records"), tmp_path / "parts" / "p.parquet")
    text = report(tmp_path).read_text()
    [mppi] = [line for line in text.splitlines() if line.startswith("| MPPI | -")]
    cells = [c.strip() for c in mppi.strip("|").split("|")]
    assert cells[1].endswith("(one test for 0.003–0.03 s: same runs)")
    assert cells[2:4] == ["same runs as at 0.003 s", "same runs as at 0.003 s"]
    assert "- CEM: first iteration overruns the smallest budgets: 0.003–0.03 s all ran exactly one " \
           "iteration per plan call" in text
