import math

import numpy as np
import pandas as pd
import pytest
from result_rows import episode_rows

from wmbench.report.paper import CELLS, TABLE1
from wmbench.report.stats import wilson_interval
from wmbench.report.table1 import (
    budget_claim,
    budget_claim_markdown,
    table1_entries,
    table1_frame,
    table1_markdown,
)


def _rows(entry, env, mode, budget, successes, n=100, kind="iterations", seconds=None, **columns):
    return episode_rows(entry, budget, successes, n, env=env, mode=mode, budget_kind=kind,
                        seconds=budget if seconds is None else seconds, replans=1, **columns)


def test_table1_layout_intervals_and_paper_numbers():
    rows = _rows("GBP@awm", "pusht", "mpc", 100, 80) + _rows("CEM", "wall", "open-loop", 30, 25)
    rows += _rows("GD@owm", "pointmaze", "mpc", 100, 3) + _rows("Oracle", "pusht", "mpc", 30, 100)
    table = table1_markdown(pd.DataFrame(rows))
    lines = table.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["world model", *(f"{e} {p}" for e, p in CELLS)]
    body = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")[1:]]
            for line in lines[2:8]}
    assert list(body) == ["Base WM open-loop", "Base WM + MPC", "Online WM open-loop", "Online WM + MPC",
                          "Adversarial WM open-loop", "Adversarial WM + MPC"]
    lo, hi = wilson_interval(80, 100)
    col = CELLS.index(("pusht", "Adam"))
    assert body["Adversarial WM + MPC"][col] == f"80 [{100 * lo:.0f}–{100 * hi:.0f}] n=100 (paper 92)"
    assert body["Base WM open-loop"][CELLS.index(("wall", "CEM"))].endswith("(paper 74*)")
    assert body["Online WM + MPC"][CELLS.index(("pointmaze", "GD"))].startswith("3 [")
    assert body["Base WM + MPC"][col] == f"— (paper {TABLE1['base', 'mpc']['pusht', 'Adam']})"
    # the upper bound gets its own row, under the CEM column, without a paper number
    oracle = [c.strip() for c in lines[8].strip("|").split("|")]
    assert oracle[0] == "Oracle (upper bound) + MPC" and len(lines[2:9]) == 7 and lines[9] == ""
    assert oracle[1 + CELLS.index(("pusht", "CEM"))] == "100 [96–100] n=100"
    assert [c for c in oracle[1:] if c] == ["100 [96–100] n=100"]
    assert "Upper bound: sampling-based planning through the simulator" in table


def test_table1_entries_name_the_variant_and_adam_cells_continue_the_named_curves():
    assert table1_entries("base") == ("GD", "GBP", "CEM")
    assert table1_entries("awm") == ("GD@awm", "GBP+AWM", "CEM@awm")
    # the named entry and the older GBP@variant spelling fill the same cell
    rows = _rows("GBP+OWM", "wall", "mpc", 100, 40) + _rows("GBP@awm", "wall", "mpc", 100, 60)
    rows += _rows("MPPI", "wall", "mpc", 30, 90)
    cells = table1_frame(pd.DataFrame(rows)).set_index(["variant", "planner"])["rate"]
    assert cells.to_dict() == {("owm", "Adam"): pytest.approx(0.4), ("awm", "Adam"): pytest.approx(0.6)}


def test_budget_claim_on_iteration_budgets_compares_planning_seconds_per_episode():
    # CEM: 2 plan calls per episode at 1 s per call at 30 it; GBP: 10 calls at 0.02 s at 30 it
    rows = _rows("CEM", "wall", "mpc", 8, 40, seconds=1.0) + _rows("CEM", "wall", "mpc", 30, 60, seconds=2.0)
    rows += _rows("GBP+AWM", "wall", "mpc", 8, 50, seconds=0.1) + _rows("GBP+AWM", "wall", "mpc", 30, 65,
                                                                         seconds=0.2)
    claim = budget_claim(pd.DataFrame(rows), challengers=("GBP+AWM",)).iloc[0]
    # in iterations GBP+AWM matches between 8 and 30 (CEM: between 8 and 30 too): the time fraction is
    # (0.1 s, 0.2 s] / (1 s, 2 s], i.e. (5%, 20%], not a ratio of iterations
    assert (claim["match_low"], claim["match_high"]) == (8, 30)
    assert (claim["fraction_low"], claim["fraction_high"]) == pytest.approx((0.05, 0.2))
    text = budget_claim_markdown(budget_claim(pd.DataFrame(rows), challengers=("GBP+AWM",)))
    assert "| (5%, 20%] |" in text and "planning seconds per episode" in text


def test_budget_claim_brackets_times_and_fractions():
    rows = []
    for budget, cem, awm in [(0.1, 20, 62), (0.3, 50, 70), (1.0, 70, 72), (3.0, 70, 72)]:
        rows += _rows("CEM", "pusht", "mpc", budget, cem, kind="seconds", seconds=max(budget, 0.5))
        rows += _rows("GBP+AWM", "pusht", "mpc", budget, awm, kind="seconds")
        rows += _rows("GBP", "pusht", "mpc", budget, 10, kind="seconds", concurrent_units=3)
    # CEM's first iteration overruns the 0.1 and 0.3 s budgets (0.5 s measured): bracketed by the budgets,
    # with what it spent beside them
    rows += _rows("CEM", "wall", "mpc", 0.1, 50, kind="seconds", seconds=0.5)
    rows += _rows("GBP+AWM", "wall", "mpc", 0.1, 50, kind="seconds")
    claim = budget_claim(pd.DataFrame(rows), challengers=("GBP+AWM", "GBP"))
    # Wall: both reach CEM's best at their smallest (only) budget, so CEM's budget is only bounded above and
    # no fraction of it can be stated
    wall = claim[claim["env"] == "wall"].set_index("entry").loc["GBP+AWM"]
    assert (wall["reference_low"], wall["reference_high"]) == (0.0, pytest.approx(0.1))
    assert (wall["reference_measured_low"], wall["reference_measured_high"]) == pytest.approx((0.5, 0.5))
    assert (wall["match_low"], wall["match_high"]) == (0.0, pytest.approx(0.1))
    assert wall["fraction_low"] == 0.0 and math.isinf(wall["fraction_high"])
    claim = claim[claim["env"] == "pusht"].set_index("entry")
    awm = claim.loc["GBP+AWM"]
    assert awm["reference_best"] == pytest.approx(0.7)
    # CEM first reaches 70% at 1 s (0.5 s measured at the budget before); GBP+AWM between 0.1 and 0.3 s
    assert (awm["reference_low"], awm["reference_high"]) == pytest.approx((0.3, 1.0))
    assert (awm["reference_measured_low"], awm["reference_measured_high"]) == pytest.approx((0.5, 1.0))
    assert (awm["match_low"], awm["match_high"]) == pytest.approx((0.1, 0.3))
    assert (awm["fraction_low"], awm["fraction_high"]) == pytest.approx((0.1, 1.0))
    # 62/100 already has 70% inside its 95% interval (Wilson [52, 71]): at most 0.1 s, at most 1/3 of 0.3 s
    assert (awm["ci_match_low"], awm["ci_match_high"]) == pytest.approx((0.0, 0.1))
    assert (awm["ci_fraction_low"], awm["ci_fraction_high"]) == pytest.approx((0.0, 1 / 3))
    gbp = claim.loc["GBP"]
    assert gbp["match_low"] == pytest.approx(3.0) and math.isinf(gbp["match_high"])
    assert gbp["concurrent"] and not awm["concurrent"]
    text = budget_claim_markdown(claim.reset_index())
    assert ("| pusht | mpc, seconds | all | GBP+AWM | 70% | (0.3 s, 1 s] budget; measured 0.5–1 s | "
            "(0.1 s, 0.3 s] budget; measured 0.1–0.3 s | (10%, 100%] | ≤ 0.1 s budget; measured 0.1 s | "
            "≤ 33.3% |") in text
    assert ("| pusht | mpc, seconds | all | GBP † | 70% | (0.3 s, 1 s] budget; measured 0.5–1 s | "
            "> 3 s budget; measured 3 s | > 300% | > 3 s budget; measured 3 s | > 300% |") in text
    assert "† timed while other sweep units ran on the same host" in text
    assert np.isfinite(claim["reference_high"]).all()
    wall_text = budget_claim_markdown(budget_claim(pd.DataFrame(rows), challengers=("GBP+AWM",)))
    assert ("| wall | mpc, seconds | all | GBP+AWM | 50% | ≤ 0.1 s budget; measured 0.5 s | ≤ 0.1 s budget; "
            "measured 0.1 s | unbounded |") in wall_text


def test_budget_claim_per_level_and_table1_pools_levels():
    rows = []
    for level, cem, gbp in [("near", 80, 80), ("far", 20, 60)]:
        tasks = {"near": 0, "far": 100}[level]
        for budget in (1, 10):
            for entry, k in (("CEM", cem), ("GBP", gbp)):
                rows += [{**r, "task": r["task"] + tasks}
                         for r in _rows(entry, "wall", "mpc", budget, k, level=level, kind="seconds")]
    claim = budget_claim(pd.DataFrame(rows), challengers=("GBP",))
    assert list(claim["level"]) == ["far", "near"]
    frame = table1_frame(pd.DataFrame(rows)).set_index("planner")
    assert frame.loc["CEM", "n"] == 200 and frame.loc["CEM", "rate"] == pytest.approx(0.5)


@pytest.mark.parametrize("command, written", [
    ("wmbench reproduce budget --preset quick --model state", "BUDGET.md"),
    ("wmbench reproduce table1 --preset quick --model state", "TABLE1.md"),
    ("wmbench run --preset quick", None),
    ("wmbench run --preset full", "TABLE1.md"),
])
def test_report_writes_the_reproduction_summary_of_reproduce_rows(command, written, tmp_path):
    from wmbench.harness.schema import write_part
    from wmbench.report import report

    rows = []
    for budget, cem, gbp in [(0.1, 3, 5), (1.0, 7, 6)]:
        rows += _rows("CEM", "wall", "mpc", budget, cem, n=10, kind="seconds", command=command)
        rows += _rows("GBP", "wall", "mpc", budget, gbp, n=10, kind="seconds", command=command)
    if command.endswith("full"):  # a run holding Table 1's cells gets all three summaries
        rows += _rows("GD", "wall", "mpc", 100, 2, n=10, command=command)
        written = {"TABLE1.md", "BUDGET.md", "CLAIMS.md"}
    results = tmp_path / "results"
    for i, unit in enumerate(pd.DataFrame(rows).groupby("unit_id")):
        write_part(unit[1].to_dict("records"), results / "parts" / f"{i}.parquet")
    report(results)
    written = written if isinstance(written, set) else {written} - {None}
    assert sorted(p.name for p in results.glob("*.md")) == sorted({"leaderboard.md", *written})
    # a front page elsewhere may leave the summaries beside the run's results
    report(results, tmp_path / "front", summaries=False)
    assert [p.name for p in (tmp_path / "front").glob("*.md")] == ["leaderboard.md"]
    if written == {"BUDGET.md"}:
        text = (results / "BUDGET.md").read_text()
        assert f"Runs: `{command}`" in text and f"`wmbench report {results}`" in text
        assert ("| wall | mpc, seconds | all | GBP | 70% | (0.1 s, 1 s] budget; measured 0.1–1 s | "
                "> 1 s budget; measured 1 s |") in text
    # mixed commands: no summary
    if written:
        extra = _rows("CEM", "wall", "mpc", 3.0, 7, n=10, kind="seconds", command="wmbench eval ...")
        write_part(extra, results / "parts" / "extra.parquet")
        for name in written:
            (results / name).unlink()
        report(results)
        assert not any((results / name).exists() for name in written)
