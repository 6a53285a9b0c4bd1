"""Executors: local worker processes and a real local Ray instance give the serial sweep's rows; dead workers
are retried once, then recorded as error rows; Ctrl-C stops cleanly and a rerun resumes; training jobs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_control import TOY, Straight
from test_harness import KEY, SlowStraight, toy_models, toy_tasks

from wmbench.cli import main
from wmbench.harness.executors import (
    Job,
    PeakConcurrency,
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    make_executor,
)
from wmbench.harness.schema import part_paths, read_results
from wmbench.harness.sweep import SweepConfig, run_sweep
from wmbench.harness.transport import ModelPayload, pack, simulator, unpack
from wmbench.models import checkpoint
from wmbench.models.simulator import SimulatorModel
from wmbench.models.state_model import StateWorldModel
from wmbench.planning import parse_budgets
from wmbench.presets import Preset, prepare_models
from wmbench.training.config import VARIANTS, TrainConfig

TESTS = Path(__file__).parent
#: Columns that legitimately differ between executors: timing, where and with what it ran, the command.
MACHINE = ["planning_seconds", "host", "concurrent_units", "command"]
ENTRIES = ("test_control:Straight", "test_control:RandomShooting")


class KillOnce(Straight):
    """Straight, but the first process to plan it (per ``marker`` file) dies by SIGKILL, mid-unit."""

    def __init__(self, marker: str):
        self.marker = Path(marker)

    def init(self, problem, generator):
        if not self.marker.exists():
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().init(problem, generator)


class KillAlways(Straight):
    """Every process that plans it dies by SIGKILL."""

    def init(self, problem, generator):
        os.kill(os.getpid(), signal.SIGKILL)


class PidStraight(SlowStraight):
    """SlowStraight that records its process id in ``$WMBENCH_TEST_PIDS``."""

    def init(self, problem, generator):
        (Path(os.environ["WMBENCH_TEST_PIDS"]) / str(os.getpid())).touch()
        return super().init(problem, generator)


def _config(**overrides) -> SweepConfig:
    return SweepConfig(**{"entries": ENTRIES, "envs": (TOY,), "n_tasks": 4, "seeds": (0, 1, 2),
                          "budgets": parse_budgets("it:1,3"), "mode": "open-loop", **overrides})


def _sweep(out: Path, executor=None, **overrides):
    return run_sweep(_config(**overrides), out, toy_models, tasks=toy_tasks, command="pytest",
                     progress=False, executor=executor)


def _rows(out: Path) -> pd.DataFrame:
    df = read_results(out)
    assert not df.duplicated(KEY).any()
    return df.drop(columns=MACHINE).sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("serial")
    _sweep(out)
    return _rows(out)


@pytest.fixture(scope="module")
def pool():
    with ProcessExecutor(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def ray_executor():
    import ray

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        try:
            with RayExecutor() as executor:
                yield executor
        finally:
            ray.shutdown()


def test_peak_concurrency_counts_units_per_host_and_forgets_dead_attempts():
    peaks = PeakConcurrency()
    peaks.start("a", "u1")
    peaks.start("a", "u2")
    peaks.start("b", "u3")
    assert peaks.finish("u2") == ("a", 2)
    peaks.start("b", "u1")  # u1's retry, on host b: its dead attempt left host a
    peaks.start("a", "u4")
    assert peaks.finish("u4") == ("a", 1)
    assert peaks.finish("u1") == ("b", 2)  # the retry's own peak
    assert peaks.finish("u3") == ("b", 2)
    assert peaks.finish("never-started") == ("unknown", 0)


def test_serial_rows_record_one_unit_at_a_time(serial):
    assert len(serial) == 2 * 3 * 2 * 4 and serial["error"].isna().all()


def test_models_travel_as_hash_verified_checkpoint_bytes():
    model = StateWorldModel("wall", 2, hidden=8, layers=1)
    model.metadata = {"env": "wall", "checkpoint_hash": "abc"}
    payload = pack(model)
    assert payload.kind == "checkpoint" and isinstance(payload.data, bytes)
    corrupt = bytearray(payload.data)
    weight = model.dynamics.nets[0][0].weight.detach().numpy().tobytes()
    corrupt[bytes(corrupt).find(weight[:16]) + 3] ^= 0x7F
    with pytest.raises(ValueError, match="arrived corrupt"):
        unpack(replace(payload, data=bytes(corrupt)))
    rebuilt = unpack(payload)
    assert rebuilt is not model and rebuilt.metadata["checkpoint_hash"] == "abc"
    assert all(torch.equal(v, rebuilt.state_dict()[k]) for k, v in model.state_dict().items())


def test_two_worker_processes_give_the_serial_rows(serial, pool, tmp_path):
    outcome = _sweep(tmp_path, pool)
    assert outcome.ran == 6 and not outcome.failed
    pd.testing.assert_frame_equal(_rows(tmp_path), serial)
    df = read_results(tmp_path)
    assert set(df["host"]) == {os.uname().nodename} and df["concurrent_units"].max() == 2
    assert _sweep(tmp_path, pool).ran == 0  # a rerun resumes: nothing left to do


def test_a_killed_worker_is_retried_once_then_gives_error_rows(pool, tmp_path, capsys):
    marker = tmp_path / "killed"
    entries = (f"test_executors:KillOnce(marker={str(marker)!r})", "test_executors:KillAlways",
               "test_control:Straight")
    outcome = _sweep(tmp_path / "out", pool, entries=entries, seeds=(0,))
    assert marker.exists() and outcome.ran == 3
    assert capsys.readouterr().err.count("retrying it once") == 2  # KillOnce once, KillAlways once
    df = read_results(tmp_path / "out")
    assert len(df) == 3 * 2 * 4 and not df.duplicated(KEY).any()
    errors = df.groupby("entry")["error"].agg(lambda e: set(e.fillna("ok")))
    assert errors["test_executors:KillAlways"] == {"worker: worker process died twice (exit code -9)"}
    assert errors[entries[0]] == {"ok"} and errors["test_control:Straight"] == {"ok"}
    assert len(outcome.failed) == 1 and "KillAlways" in outcome.failed[0]
    once, straight = (df[df["entry"] == e].sort_values(KEY) for e in (entries[0], "test_control:Straight"))
    assert once["final_distance"].tolist() == straight["final_distance"].tolist()


def test_ctrl_c_stops_the_workers_and_a_rerun_resumes(pool, tmp_path):
    out, pids = tmp_path / "results", tmp_path / "pids"
    pids.mkdir()
    script = (f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
              "from pathlib import Path\n"
              "import test_executors as t\n"
              "from wmbench.harness.executors import ProcessExecutor\n"
              "with ProcessExecutor(2) as pool:\n"
              f"    t._sweep(Path({str(out)!r}), pool, entries=('test_executors:PidStraight',),\n"
              "             seeds=tuple(range(6)), budgets=t.parse_budgets('it:1,2'))\n")
    env = {**os.environ, "PYTHONPATH": str(TESTS), "WMBENCH_TEST_PIDS": str(pids)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while (not part_paths(out) or len(list(pids.iterdir())) < 2) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in err
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2
    for pid in workers:  # the workers were stopped with the driver
        assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    done = {p: p.stat().st_mtime_ns for p in part_paths(out)}
    assert 1 <= len(done) < 6, "the sweep should have been interrupted part-way"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WMBENCH_TEST_PIDS", str(pids))
        outcome = _sweep(out, SerialExecutor(), entries=("test_executors:PidStraight",),
                         seeds=tuple(range(6)), budgets=parse_budgets("it:1,2"))
    assert outcome.ran == 6 - len(done) and all(p.stat().st_mtime_ns == m for p, m in done.items())
    df = read_results(out)
    assert len(df) == 6 * 2 * 4 and not df.duplicated(KEY).any()


def test_ray_tasks_give_the_serial_rows(serial, ray_executor, tmp_path):
    outcome = _sweep(tmp_path, ray_executor)
    assert outcome.ran == 6 and not outcome.failed
    pd.testing.assert_frame_equal(_rows(tmp_path), serial)
    df = read_results(tmp_path)
    assert set(df["host"]) == {os.uname().nodename} and set(df["concurrent_units"]) <= {1, 2}
    assert _sweep(tmp_path, ray_executor).ran == 0


def test_a_killed_ray_worker_is_retried_once_then_gives_error_rows(ray_executor, tmp_path):
    marker = tmp_path / "killed"
    entries = (f"test_executors:KillOnce(marker={str(marker)!r})", "test_executors:KillAlways",
               "test_control:Straight")
    outcome = _sweep(tmp_path / "out", ray_executor, entries=entries, seeds=(0,))
    assert marker.exists() and outcome.ran == 3
    df = read_results(tmp_path / "out")
    assert len(df) == 3 * 2 * 4 and not df.duplicated(KEY).any()
    errors = df.groupby("entry")["error"].agg(lambda e: set(e.fillna("ok")))
    (died,) = errors["test_executors:KillAlways"]
    assert died.startswith("worker: Ray task died twice")
    assert errors[entries[0]] == {"ok"} and errors["test_control:Straight"] == {"ok"}
    assert len(outcome.failed) == 1 and "KillAlways" in outcome.failed[0]
    again = _sweep(tmp_path / "out", ray_executor, entries=entries, seeds=(0,))  # retries the failed unit
    assert again.ran == 1 and len(again.failed) == 1 and "KillAlways" in again.failed[0]


def test_the_watchdog_stops_a_ray_task_that_never_returns(ray_executor, tmp_path):
    entries = ("test_tampering:ConstantClock", "test_control:Straight")
    outcome = _sweep(tmp_path, ray_executor, entries=entries, seeds=(0,), plan_timeout=1.0)
    assert len(outcome.failed) == 1 and outcome.failed[0].startswith(entries[0])
    errors = read_results(tmp_path).groupby("entry")["error"].agg(lambda e: set(e.fillna("ok")))
    assert errors[entries[0]] == {"PlanTimeout: plan call stopped by the watchdog after 1 s"}
    assert errors[entries[1]] == {"ok"}


def test_a_job_that_raises_is_a_bug_reported_by_its_key(pool, ray_executor):
    for executor in (pool, ray_executor):
        with pytest.raises(RuntimeError, match=r"job-7 failed in a .*ValueError: invalid literal"):
            list(executor.map([Job("job-7", int, ("x",))]))
    with RayExecutor() as executor, pytest.raises(RuntimeError, match="needs 1 GPU.* Ray cluster has 0"):
        list(executor.map([Job("gpu-job", int, ("1",), gpus=1.0)]))


def test_the_simulator_travels_as_its_env_name():
    payload = simulator("wall")
    assert payload == ModelPayload("simulator", "wall")
    model = unpack(payload)
    assert isinstance(model, SimulatorModel) and model.env == "wall" and unpack(payload) is model


def test_ray_missing_and_bad_options_are_one_line_errors(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RuntimeError, match=r"--executor ray needs Ray: pip install wmbench\[ray\]"):
        make_executor("ray")
    args = ["eval", "--env", "wall", "--entry", "Oracle", "--results", "unused"]
    for option in ("--workers", "--threads"):
        with pytest.raises(SystemExit) as exit_info:
            main([*args, option, "0"])
        assert exit_info.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1].endswith(
            f"error: argument {option}: expected a whole number >= 1, got '0'")


def test_executor_options_are_checked():
    with pytest.raises(ValueError, match="--workers must be >= 1"):
        make_executor("local", 0)
    with pytest.raises(ValueError, match="--ray-address needs --executor ray"):
        make_executor("local", 2, "auto")
    with pytest.raises(ValueError, match="unknown executor 'spark'"):
        make_executor("spark")
    assert isinstance(make_executor("local"), SerialExecutor)


def test_parallel_training_jobs_give_the_serial_checkpoints(pool, tmp_path):
    preset = Preset("tiny", "small", "dev", n_tasks=2, budgets="it:1", envs=("wall",), frozen=False)
    config = TrainConfig(steps=20, batch_size=32, awm_steps=5, owm_rounds=1, owm_rollouts=4, owm_steps=5,
                         plan_iterations=5, gap_episodes=4, model_options={"hidden": 16, "layers": 1})
    prepare_models(preset, tmp_path / "serial", progress=False, config=config)
    shutil.copytree(tmp_path / "serial" / "datasets", tmp_path / "pool" / "datasets")
    prepare_models(preset, tmp_path / "pool", progress=False, executor=pool, config=config)
    for variant in VARIANTS:
        name = f"wall-state-{variant}-small-seed0.pt"
        ours, theirs = (checkpoint.load(tmp_path / home / "models" / name) for home in ("pool", "serial"))
        assert ours.state_dict().keys() == theirs.state_dict().keys()
        assert all(torch.equal(v, theirs.state_dict()[k]) for k, v in ours.state_dict().items()), variant
    assert not list((tmp_path / "pool" / "models").glob(".*"))  # no stray temp files
