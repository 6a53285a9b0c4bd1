"""Sweep harness: entries and plugins, budget parsing, Parquet schema, error rows and resume after a kill."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from test_control import TOY, Straight, ToyModel

from wmbench import registry
from wmbench.harness.entries import ENTRIES, resolve_entry
from wmbench.harness.executors import SerialExecutor
from wmbench.harness.schema import COLUMNS, SCHEMA_VERSION, part_paths, read_results
from wmbench.harness.sweep import SweepConfig, prepare, run_sweep
from wmbench.planning import Budget, parse_budgets
from wmbench.tasks import LevelSteps, TaskSuite

torch.set_num_threads(1)
TESTS = Path(__file__).parent
KEY = ["entry", "env", "task", "budget_value", "seed", "mode"]


class SlowStraight(Straight):
    """Straight, but each iteration sleeps 0.2 s (so a sweep can be killed part-way)."""

    def iterate(self, problem, state, generator):
        time.sleep(0.2)
        return super().iterate(problem, state, generator)


def toy_tasks(env: str, split: str) -> TaskSuite:
    goals = np.random.default_rng(7).uniform(-0.8, 0.8, (6, 2))
    return TaskSuite(env, split, "toy-v0", np.zeros_like(goals), goals, 12, 10, "toysha")


def toy_models(env: str, variant: str) -> ToyModel:
    if variant == "awm":
        raise FileNotFoundError("no awm checkpoint for the toy env")
    return ToyModel()


def _sweep(out: Path, models=toy_models, **overrides) -> list[Path]:
    config = SweepConfig(**{"entries": ("test_control:Straight",), "envs": (TOY,), "n_tasks": 4,
                            "budgets": parse_budgets("it:1,2"), "mode": "open-loop", **overrides})
    return run_sweep(config, out, models, tasks=toy_tasks, command="pytest sweep", progress=False).parts


def test_open_loop_sweep_writes_the_documented_schema(tmp_path):
    paths = _sweep(tmp_path, entries=("test_control:Straight", "test_control:RandomShooting"), seeds=(0, 1))
    # one unit per entry and seed: the budgets share one anytime plan call
    assert len(paths) == 4 and sorted(paths) == part_paths(tmp_path)
    df = read_results(tmp_path)
    assert list(df.columns) == COLUMNS
    assert len(df) == 2 * 2 * 2 * 4 and not df.duplicated(KEY).any()
    assert set(df["budget_value"]) == {1.0, 2.0} and set(df["budget_kind"]) == {"iterations"}
    assert (df["schema_version"] == SCHEMA_VERSION).all() and (df["threads"] == 1).all()
    assert set(df["checkpoint_hash"]) == {"ckpt0"} and set(df["dataset_hash"]) == {"data0"}
    assert df.groupby("unit_id").size().tolist() == [8] * 4 and set(df["concurrent_units"]) == {1}
    assert set(df["torch_version"]) == {torch.__version__} and set(df["command"]) == {"pytest sweep"}
    assert (df["max_steps"] == 10).all() and (df["batch_size"] == 4).all() and df["error"].isna().all()
    straight = df[df["entry"] == "test_control:Straight"]
    assert straight["planner"].eq("test_control:Straight").all() and straight["variant"].eq("base").all()
    assert straight["iterations"].tolist() == straight["budget_value"].astype(int).tolist()
    field = pq.read_schema(paths[0]).field("success")
    assert b"sticky" in field.metadata[b"description"]


def test_mpc_runs_each_budget_as_a_unit_and_reruns_skip_finished_units(tmp_path):
    paths = _sweep(tmp_path, mode="mpc")
    assert len(paths) == 2
    df = read_results(tmp_path)
    assert len(df) == 2 * 4 and (df["max_steps"] == 12).all() and df["success"].all()
    assert (df["replans"] >= 1).all() and (df["steps"] <= 12).all()
    mtimes = [p.stat().st_mtime_ns for p in paths]
    assert _sweep(tmp_path, mode="mpc") == paths
    assert [p.stat().st_mtime_ns for p in paths] == mtimes
    # a changed setting is a different unit, never a reused part
    assert len(set(_sweep(tmp_path, mode="mpc", step_cap=6)) - set(paths)) == 2


def levelled_toy_tasks(env: str, split: str) -> TaskSuite:
    goals = np.random.default_rng(7).uniform(-0.8, 0.8, (6, 2))
    return TaskSuite(env, split, "toy-v1", np.zeros_like(goals), goals, 12, 10, "toysha",
                     levels=np.array(["near", "far"] * 3, dtype=object),
                     level_steps={"near": LevelSteps(6, 5), "far": LevelSteps(12, 10)})


class Workers(SerialExecutor):
    """A stand-in for parallel workers that counts the units it ran."""

    in_process = False
    ran = 0

    def submit(self, job):
        self.ran += 1
        super().submit(job)


def test_seconds_budgets_run_one_unit_at_a_time_whatever_the_executor(tmp_path, capsys):
    workers = Workers()
    config = SweepConfig(("test_control:Straight",), (TOY,), parse_budgets("it:1,2"), n_tasks=2)
    run_sweep(config, tmp_path / "it", toy_models, tasks=toy_tasks, progress=False, executor=workers)
    assert workers.ran == 2 and capsys.readouterr().err == ""
    seconds = replace(config, budgets=parse_budgets("0.01,0.02"))
    run_sweep(prepare(seconds, tasks=toy_tasks), tmp_path / "s", toy_models, progress=False, executor=workers)
    assert workers.ran == 2 and len(part_paths(tmp_path / "s")) == 2  # ran here, serially
    assert "seconds budgets run one unit at a time" in capsys.readouterr().err


def test_levels_restrict_a_sweep_and_set_its_step_cap(tmp_path):
    def sweep(levels):
        config = SweepConfig(("test_control:Straight",), (TOY,), parse_budgets("it:1"), levels=levels,
                             n_tasks=2)
        run_sweep(config, tmp_path, toy_models, tasks=levelled_toy_tasks, progress=False)

    sweep(("far",))
    df = read_results(tmp_path)
    assert df["task"].tolist() == [1, 3] and set(df["level"]) == {"far"} and set(df["max_steps"]) == {12}
    sweep(("near",))
    near = read_results(tmp_path).query("level == 'near'")
    assert near["task"].tolist() == [0, 2] and set(near["max_steps"]) == {6}
    with pytest.raises(ValueError, match="unknown task level"):
        sweep(("medium",))


def test_models_from_a_mapping(tmp_path):
    config = SweepConfig(("test_control:Straight", "test_control:Straight@owm"), (TOY,),
                         parse_budgets("it:1"), mode="open-loop", n_tasks=2)
    run_sweep(config, tmp_path, {(TOY, "base"): ToyModel()}, tasks=toy_tasks, progress=False)
    df = read_results(tmp_path)
    assert df.loc[df["variant"] == "base", "error"].isna().all()
    assert df.loc[df["variant"] == "owm", "error"].str.contains("KeyError").all()


def test_failing_planner_and_missing_model_give_error_rows(tmp_path, capsys):
    entries = ("test_control:RaisingPlanner", "test_control:Straight@awm", "test_control:Straight")
    config = SweepConfig(entries, (TOY,), parse_budgets("it:1,2"), mode="open-loop", n_tasks=4)
    outcome = run_sweep(config, tmp_path, toy_models, tasks=toy_tasks, progress=False)
    assert capsys.readouterr().err.count("wmbench sweep:") == 2  # one line per failed unit
    df = read_results(tmp_path)
    errors = {entry: set(rows["error"].fillna("ok")) for entry, rows in df.groupby("entry")}
    assert errors["test_control:RaisingPlanner"] == {"RuntimeError: boom"}
    assert len(outcome.failed) == 2 and "RaisingPlanner" in outcome.failed[0]
    (missing,) = errors["test_control:Straight@awm"]
    assert missing.startswith("model test_control:ToyEnv/awm: FileNotFoundError: no awm checkpoint")
    assert errors["test_control:Straight"] == {"ok"}
    assert not df.loc[df["error"].notna(), "success"].any()


def test_resume_after_killed_sweep(tmp_path):
    out = tmp_path / "results"
    script = (f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
              "from pathlib import Path\n"
              "import test_harness as h\n"
              f"h._sweep(Path({str(out)!r}), entries=('test_harness:SlowStraight',),\n"
              "         seeds=tuple(range(10)))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(TESTS)})
    try:
        deadline = time.monotonic() + 60
        while not part_paths(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.kill()
    finally:
        proc.wait()
    done = {p: p.stat().st_mtime_ns for p in part_paths(out)}
    assert 1 <= len(done) < 10, "the sweep should have been killed part-way"
    paths = _sweep(out, entries=("test_harness:SlowStraight",), seeds=tuple(range(10)))
    assert sorted(paths) == part_paths(out) and len(paths) == 10
    assert all(p.stat().st_mtime_ns == m for p, m in done.items())  # finished units were not rerun
    df = read_results(out)
    assert len(df) == 10 * 2 * 4 and not df.duplicated(KEY).any()
    assert sorted(df["seed"].unique()) == list(range(10))


def test_named_entries_and_plugins(monkeypatch):
    assert list(ENTRIES)[:5] == ["GBP", "GBP+OWM", "GBP+AWM", "CEM", "MPPI"]
    assert [ENTRIES[n].variant for n in ("GBP", "GBP+OWM", "GBP+AWM", "CEM", "MPPI")] == \
        ["base", "owm", "awm", "base", "base"]
    assert {"GD", "iCEM", "GBP-CEM", "Oracle"} <= set(ENTRIES)
    assert [n for n, e in ENTRIES.items() if e.upper_bound] == ["Oracle"]
    plugin = resolve_entry("test_control:RandomShooting@owm")
    assert (plugin.variant, plugin.planner) == ("owm", "test_control:RandomShooting")
    assert type(plugin.make_planner()).__name__ == "RandomShooting"
    fake = [EntryPoint(name="mine", value="test_control:Straight", group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: fake if group == "wmbench.planners" else [])
    assert resolve_entry("mine").planner == "test_control:Straight"


def _one_line_error(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_clear_one_line_errors(tmp_path):
    _one_line_error(lambda: resolve_entry("NoSuchPlanner"), "unknown entry 'NoSuchPlanner'; choose one of")
    _one_line_error(lambda: resolve_entry("test_control:Nope"), "entry 'test_control:Nope': cannot import")
    _one_line_error(lambda: _sweep(tmp_path, envs=("atlantis",)), "unknown env 'atlantis'")
    _one_line_error(lambda: _sweep(tmp_path, entries=("GPB",)), "unknown entry 'GPB'")
    _one_line_error(lambda: _sweep(tmp_path, mode="closed"), "unknown control mode")
    assert not (tmp_path / "parts").exists()
    for bad in ("0.1,abc", "xx:1,2", "it:1.5", "0,1", "", "it:", "0.1,0.1", "-1"):
        _one_line_error(lambda bad=bad: parse_budgets(bad), "malformed budget list")


def test_budget_lists_parse_into_budgets_of_one_kind(tmp_path):
    assert parse_budgets("0.1,0.01,0.03") == tuple(Budget(seconds=s) for s in (0.01, 0.03, 0.1))
    assert parse_budgets("it:10,30,100") == tuple(Budget(iterations=i) for i in (10, 30, 100))
    (budget,) = parse_budgets("ev:300")
    assert (budget.kind, budget.value, budget.evaluations) == ("evaluations", 300, 300)
    assert isinstance(budget.value, int)
    for budgets, message in [((), "a sweep needs a tuple of Budgets"),
                             ((Budget(iterations=1), Budget(seconds=1.0)), "must be of one kind"),
                             ((Budget(iterations=2), Budget(iterations=1)), "ascending without duplicates")]:
        _one_line_error(lambda budgets=budgets: _sweep(tmp_path, budgets=budgets), message)


def test_named_entries_run_on_a_real_env(tmp_path):
    from wmbench.models.state_model import StateWorldModel
    from wmbench.report import report

    asked = []

    def models(env_name, variant):
        asked.append((env_name, variant))
        torch.manual_seed(0)
        return StateWorldModel(env_name, 2)

    config = SweepConfig(("GBP", "CEM", "Oracle"), ("wall",), parse_budgets("it:1,2"), mode="open-loop",
                         split="dev", n_tasks=2)
    run_sweep(config, tmp_path, models, progress=False)  # the shipped task suite
    df = read_results(tmp_path)
    assert asked == [("wall", "base")]  # the Oracle plans with the simulator, never a learned model
    assert len(df) == 3 * 2 * 2 and df["error"].isna().all() and (df["steps"] == 25).all()
    assert set(df["task_suite"]) == {"v1"} and set(df["split"]) == {"dev"} and (df["batch_size"] == 2).all()
    assert df.groupby("task")["level"].first().to_dict() == {0: "near", 1: "far"}
    bounds = df.groupby("entry")["upper_bound"].first().to_dict()
    assert bounds == {"CEM": False, "GBP": False, "Oracle": True}
    assert set(df.loc[df["entry"] == "CEM", "forward_evals"]) == {300, 600}
    text = report(tmp_path).read_text()
    assert "Upper bound:" in text and "| Oracle |" in text


def test_checkpoint_models_records_the_checkpoint_hash(tmp_path):
    from wmbench.harness.sweep import checkpoint_models
    from wmbench.models import checkpoint
    from wmbench.models.state_model import StateWorldModel

    model = StateWorldModel("wall", 2, hidden=8, layers=1)
    model.metadata["dataset_hash"] = "abc"
    path = checkpoint.save(model, tmp_path / "wall-base.pt")
    loaded = checkpoint_models(lambda env, variant: tmp_path / f"{env}-{variant}.pt")("wall", "base")
    assert loaded.metadata["checkpoint_hash"] == checkpoint.identity_hash(checkpoint.read(path))
    assert loaded.metadata["dataset_hash"] == "abc"


def test_named_entry_with_variant_runs_any_pair():
    entry = resolve_entry("CEM@awm")
    assert (entry.name, entry.variant, entry.planner) == ("CEM@awm", "awm", "wmbench_baselines.cem:CEM")
    assert resolve_entry("GD@owm").kwargs == {"optimizer": "gd"}
    _one_line_error(lambda: resolve_entry("Oracle@awm"), "plans with the simulator")


# ---------------------------------------------------------------- silent wrong results (issue: hardening)
def test_overlapping_budgets_and_task_counts_never_duplicate_an_episode(tmp_path):
    _sweep(tmp_path, budgets=parse_budgets("it:1,2"), n_tasks=4)
    _sweep(tmp_path, budgets=parse_budgets("it:2,4"), n_tasks=6)
    df = read_results(tmp_path)
    # two units per seed now hold budget 2 for tasks 0-3: the rows are there twice, under different units
    assert df.duplicated(KEY).sum() == 4 and df["unit_id"].nunique() == 2
    assert set(df["task"]) == set(range(6))


def test_a_retrained_checkpoint_is_a_new_unit(tmp_path):
    first = _sweep(tmp_path)

    def retrained(env, variant):
        model = toy_models(env, variant)
        model.metadata = {**model.metadata, "checkpoint_hash": "ckpt1"}
        return model

    second = _sweep(tmp_path, models=retrained)
    assert set(first).isdisjoint(second)
    df = read_results(tmp_path)
    assert df.groupby("checkpoint_hash")["unit_id"].nunique().to_dict() == {"ckpt0": 1, "ckpt1": 1}


def test_a_corrupt_or_foreign_part_is_recomputed(tmp_path, capsys):
    (path,) = _sweep(tmp_path)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    assert _sweep(tmp_path) == [path] and path.read_bytes() != good[: len(good) // 2]
    assert "recomputing" in capsys.readouterr().err
    read_results(tmp_path)  # readable again
    other = _sweep(tmp_path / "other", n_tasks=3)[0]
    path.write_bytes(other.read_bytes())  # a complete part, but of another unit
    _sweep(tmp_path)
    df = read_results(tmp_path)
    assert df["unit_id"].nunique() == 1 and len(df) == 8


def test_units_have_short_file_names_and_their_identity_covers_the_settings(tmp_path):
    long_entry = "test_control:Straight@" + "v" * 300
    config = SweepConfig((long_entry,), (TOY,), parse_budgets("it:1"), mode="open-loop", n_tasks=2)
    outcome = run_sweep(config, tmp_path, lambda env, variant: ToyModel(), tasks=toy_tasks, progress=False)
    (path,) = outcome.parts
    assert len(path.name) < 160 and path.exists()
    assert read_results(tmp_path)["entry"].iloc[0] == long_entry


def test_results_path_that_is_a_file_is_a_clear_error(tmp_path):
    file = tmp_path / "results"
    file.write_text("")
    with pytest.raises(NotADirectoryError, match="is a file"):
        _sweep(file)


def test_planner_defaults_and_simulator_settings_are_part_of_a_units_identity(tmp_path, monkeypatch):
    import test_control

    first = _sweep(tmp_path, entries=("test_control:RandomShooting",))
    assert "samples=8" in read_results(tmp_path)["planner_args"].iloc[0]
    monkeypatch.setattr(test_control.RandomShooting.__init__, "__defaults__", (9,))  # a changed default
    second = _sweep(tmp_path, entries=("test_control:RandomShooting",))
    assert set(first).isdisjoint(second)

    from wmbench.harness.sweep import model_hash
    from wmbench.models.simulator import SimulatorModel

    assert model_hash(SimulatorModel("wall")) != model_hash(SimulatorModel("wall", angle_scale=1.0))
