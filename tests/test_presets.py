"""Presets: every model seed, level and mode is swept, with the level's step caps and the Oracle beside."""

from __future__ import annotations

import pytest
import torch

from wmbench.harness.schema import read_results
from wmbench.presets import PRESETS, Preset, evaluate, prepare_models, run, table1_sweeps
from wmbench.training.config import TrainConfig

torch.set_num_threads(1)
TINY = TrainConfig(steps=20, batch_size=32, awm_steps=5, owm_rounds=1, owm_rollouts=4, owm_steps=5,
                   plan_iterations=5, gap_episodes=4, model_options={"hidden": 16, "layers": 1})


def test_shipped_presets_resolve_curves_and_replicate_models():
    quick, full = PRESETS["quick"], PRESETS["full"]
    assert quick.budgets == "it:1,2,4,8,16,32"  # from one iteration past CEM's 30
    assert full.budgets == "it:1,2,4,8,16,30"  # to the paper's CEM budget: Table 1's CEM cell
    assert len(full.model_seeds) >= 3 and full.split == "test" and quick.split == "dev"
    assert quick.oracle_budgets and full.oracle_budgets
    assert "MPPI" in quick.entries and full.entries == ("GBP", "GBP+OWM", "GBP+AWM", "CEM")
    assert full.table1 and not quick.table1
    entries = ("GBP", "GBP+OWM", "CEM", "MPPI", "Oracle", "test_control:Straight")
    mpc = {(names, s["levels"]): (s["horizon"], s["execute_steps"], s["objective"])
           for names, s in full.sweeps("mpc", entries)}
    loop = {(names, s["levels"]): (s["horizon"], s["execute_steps"])
            for names, s in full.sweeps("open-loop", entries)}
    for level in ("near", "far"):  # the paper's settings per planner; a planner it does not name gets CEM's
        assert mpc[("GBP", "GBP+OWM"), (level,)] == (5, 1, "exponential")
        assert mpc[("MPPI",), (level,)] == (5, 1, "last")
        assert mpc[("CEM", "Oracle", "test_control:Straight"), (level,)] == (5, 5, "last")
    assert {horizon for (_, levels), (horizon, execute) in loop.items() if execute == 1 and levels == ("far",)
            } == {10} and len(mpc) == len(loop) == 6


def test_full_runs_table1_cells_the_curves_share_where_they_can():
    full = PRESETS["full"]
    for mode in full.modes:
        sweeps = dict((entries, budgets) for entries, budgets in table1_sweeps(mode))
        gbp, cem, oracle = sweeps  # GD and Adam on every variant, CEM on every variant, the Oracle
        assert set(full.entries) - {"CEM"} <= set(gbp) and "CEM" in cem and oracle == ("Oracle",)
        # CEM's and the Oracle's Table 1 budget is a point of the curves: the same units, run once
        assert sweeps[cem] == sweeps[oracle] == full.oracle_budgets == "it:30"
        assert full.budgets.endswith(",30")


def test_each_planner_gets_the_papers_objective_and_mpc_execution():
    quick = PRESETS["quick"]
    assert quick.planner_setting("GBP") == ("exponential", 1)
    assert quick.planner_setting("Oracle") == ("last", 5)
    assert quick.planner_setting("wmbench_baselines.cem:CEM") == ("last", 5)
    assert quick.planner_setting("mine:Planner") == (quick.objective, quick.execute_steps) == ("last", 5)


@pytest.mark.slow
def test_a_preset_sweeps_every_model_seed_level_and_mode_with_the_oracle(tmp_path):
    preset = Preset("tiny", "small", "dev", model_seeds=(0, 1), entries=("GBP", "CEM(samples=16, topk=4)"),
                    envs=("wall",), n_tasks=2, budgets="it:1,2", oracle_budgets="it:1")
    prepare_models(preset, tmp_path, progress=False, config=TINY)
    failed = evaluate(preset, tmp_path / "results", tmp_path, "pytest", progress=False)
    df = read_results(tmp_path / "results")
    assert failed == [] and df["error"].isna().all()
    models = df[~df["upper_bound"]]
    assert set(models["model_seed"]) == {0, 1} and set(df.loc[df["upper_bound"], "model_seed"]) == {-1}
    assert set(df["level"]) == {"near", "far"} and set(df["mode"]) == {"mpc", "open-loop"}
    # per level: its own MPC cap; open-loop plans cover the level's open-loop length
    loop = df[df["mode"] == "open-loop"].groupby("level")[["horizon", "max_steps"]].max().to_dict("index")
    assert loop == {"far": {"horizon": 10, "max_steps": 50}, "near": {"horizon": 5, "max_steps": 25}}
    settings = df[df["mode"] == "mpc"].groupby("planner")[["execute_steps", "objective"]].agg(set)
    last = {"execute_steps": {5}, "objective": {"last"}}
    assert settings.to_dict("index") == {
        "wmbench_baselines.gbp:GBP": {"execute_steps": {1}, "objective": {"exponential"}},
        "wmbench_baselines.cem:CEM": last, "wmbench_baselines.oracle:Oracle": last}
    # 2 entries x 2 seeds x 2 budgets x 2 tasks per level and mode, plus the Oracle's 2 tasks
    assert df.groupby(["mode", "level"]).size().tolist() == [2 * 2 * 2 * 2 + 2] * 4


@pytest.mark.slow
def test_a_run_with_table1_reuses_the_curves_units_times_its_stages_and_writes_its_summaries(tmp_path):
    preset = Preset("tiny", "small", "dev", entries=("GBP", "CEM"), envs=("wall",), n_tasks=1,
                    modes=("open-loop",), levels=("near",), budgets="it:1,30", oracle_budgets="it:30",
                    frozen=False, table1=True)
    outcome = run(preset, tmp_path / "results", "wmbench run --preset tiny", tmp_path, progress=False,
                  config=TINY)
    assert outcome.failed == [] and outcome.report.is_file()
    assert list(outcome.stages) == ["datasets", "training", "evaluation", "report"]
    assert all(seconds >= 0 for seconds in outcome.stages.values())
    summaries = {p.name for p in (tmp_path / "results").glob("*.md")}
    assert summaries == {"leaderboard.md", "TABLE1.md", "BUDGET.md", "CLAIMS.md"}
    df = read_results(tmp_path / "results")
    # CEM's and the Oracle's Table 1 cells are points of the curves at 30 iterations: run once
    counts = df.groupby(["entry", "budget_value"]).size()
    assert counts["CEM", 30] == counts["Oracle", 30] == 1
    # Adam's Table 1 cells continue the named entries' curves
    assert set(df.loc[df["entry"] == "GBP", "budget_value"]) == {1, 30, 300}
    assert {"GD@owm", "GBP+AWM", "CEM@awm"} <= set(df["entry"])
