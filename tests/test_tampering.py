"""Hostile planners, as a user of the plugin API could write them, against the loop's isolation: a planner
that changes the world model, the clock or the evaluation counters, or never returns, gets error rows; the
other entries' rows equal a clean run's; the sweep exits 1 with one line naming the plugin."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from test_control import TOY, RandomShooting, ToyModel
from test_harness import toy_models, toy_tasks
from toys import wall_home

from wmbench.cli import main
from wmbench.harness.episodes import run_episodes
from wmbench.harness.executors import ProcessExecutor
from wmbench.harness.schema import read_results
from wmbench.harness.sweep import SweepConfig, run_sweep
from wmbench.harness.watchdog import plan_limit
from wmbench.planning import Budget, parse_budgets, planner, run_planner

torch.set_num_threads(1)
#: Columns that differ between runs of the same unit: timing, where it ran, the command line.
MACHINE = ["planning_seconds", "host", "concurrent_units", "command"]
KEY = ["entry", "task", "budget_value", "seed"]
HONEST = ("CEM(samples=16, topk=4)", "GBP")


class ZeroWeights(RandomShooting):
    """Zeroes the parameters of the world model it reaches through the plan problem, then plans."""

    def iterate(self, problem, state, generator):
        with torch.no_grad():
            for parameter in problem._model.parameters():
                parameter.zero_()
        return super().iterate(problem, state, generator)


class ZeroEveryModel(RandomShooting):
    """Zeroes the parameters of every module the garbage collector knows of, then plans."""

    def iterate(self, problem, state, generator):
        with torch.no_grad():
            for obj in gc.get_objects():
                if issubclass(type(obj), torch.nn.Module):
                    for parameter in obj.parameters():
                        parameter.zero_()
        return super().iterate(problem, state, generator)


class SlowClock(RandomShooting):
    """Replaces the planning loop's module's ``time``, in its constructor, by a clock running 10x slow."""

    def __init__(self, samples: int = 8):
        super().__init__(samples)
        planner.time = SimpleNamespace(perf_counter=lambda: REAL_CLOCK() / 10)


class Sleepy(RandomShooting):
    """RandomShooting that sleeps 10 ms per iteration (its iteration count measures the loop's clock)."""

    def iterate(self, problem, state, generator):
        time.sleep(0.01)
        return super().iterate(problem, state, generator)


class LowerCounter(RandomShooting):
    """Decrements the plan problem's private forward counter after evaluating (the issue's attack)."""

    def iterate(self, problem, state, generator):
        out = super().iterate(problem, state, generator)
        problem._forward -= self.samples
        return out


class ReplaceCounter(RandomShooting):
    """Swaps the plan problem's counter for one that counts nothing, around the attribute guard."""

    def iterate(self, problem, state, generator):
        object.__setattr__(problem, "_tally", lambda *more: (0, 0))
        return super().iterate(problem, state, generator)


class NegativeCount(RandomShooting):
    """Reports negative evaluations into the plan problem's counter."""

    def iterate(self, problem, state, generator):
        out = super().iterate(problem, state, generator)
        problem._tally(-self.samples, 0)
        return out


class ConstantClock(RandomShooting):
    """Loops until its own clock, a shim returning a constant, passes a deadline: forever."""

    def iterate(self, problem, state, generator):
        clock = SimpleNamespace(perf_counter=lambda: 0.0)
        deadline = clock.perf_counter() + 0.01
        while clock.perf_counter() < deadline:
            time.sleep(0.01)
        return super().iterate(problem, state, generator)


class Stubborn(RandomShooting):
    """Never returns, and swallows every exception it can."""

    def iterate(self, problem, state, generator):
        while True:
            with contextlib.suppress(Exception):
                time.sleep(0.01)


REAL_CLOCK = time.perf_counter


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return wall_home(tmp_path_factory.mktemp("home"))


def _eval(home: Path, out: Path, entries: tuple[str, ...], *options: str) -> int:
    return main(["eval", "--env", "wall", "--entry", ",".join(entries), "--budgets", "it:1,2",
                 "--mode", "open-loop", "--split", "dev", "--n-tasks", "2", "--seeds", "0",
                 "--results", str(out), "--home", str(home), *options])


def _rows(out: Path) -> pd.DataFrame:
    return read_results(out).drop(columns=MACHINE).sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def clean(home, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("clean")
    assert _eval(home, out, HONEST) == 0
    return _rows(out)


def _plugin_lines(err: str, plugin: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("wmbench") and plugin in line]


@pytest.mark.parametrize("plugin", ["ZeroWeights", "ZeroEveryModel"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_planner_that_changes_the_world_model_gets_error_rows(plugin, workers, home, clean, tmp_path,
                                                                 capsys):
    entry = f"test_tampering:{plugin}"
    assert _eval(home, tmp_path, (entry, *HONEST), "--workers", workers) == 1
    (line,) = _plugin_lines(capsys.readouterr().err, plugin)
    assert "changed the world model's weights" in line
    rows = _rows(tmp_path)
    hostile = rows[rows["entry"] == entry]
    assert len(hostile) == 2 * 2 and hostile["error"].str.contains("changed the world model").all()
    honest = rows[rows["entry"] != entry].reset_index(drop=True)
    assert honest["error"].isna().all()
    pd.testing.assert_frame_equal(honest, clean)


def _toy_sweep(out: Path, entries: tuple[str, ...], executor=None, budgets: str = "it:1,2", **overrides):
    config = SweepConfig(entries=entries, envs=(TOY,), budgets=parse_budgets(budgets), mode="open-loop",
                         n_tasks=4, **overrides)
    return run_sweep(config, out, toy_models, tasks=toy_tasks, command="pytest", progress=False,
                     executor=executor)


def test_rebinding_the_loops_clock_changes_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(planner, "time", planner.time)  # put back after the test
    outcome = _toy_sweep(tmp_path, ("test_tampering:SlowClock", "test_tampering:Sleepy"), budgets="0.05")
    assert not outcome.failed and planner.time.perf_counter() < REAL_CLOCK() / 5  # the shim is in place
    sleepy = read_results(tmp_path).query("entry == 'test_tampering:Sleepy'")
    # ~5 iterations of 10 ms in 0.05 s; the slow clock would have allowed ~50 (0.5 s measured as 0.05 s)
    assert sleepy["iterations"].between(2, 8).all() and sleepy["planning_seconds"].between(0.02, 0.2).all()


def test_a_loop_clock_changed_deeper_is_detected(monkeypatch):
    monkeypatch.setitem(run_planner.__kwdefaults__, "_clock", lambda: REAL_CLOCK() / 10)
    records = run_episodes(TOY, ToyModel(), Sleepy(), Budget(seconds=0.05), toy_tasks(TOY, "test").head(2),
                           "open-loop")
    assert all("its clock was changed" in r.error for r in records)


@pytest.mark.parametrize(("plugin", "error"), [
    ("LowerCounter", "AttributeError: 'PlanProblem' object has no attribute '_forward'"),
    ("ReplaceCounter", "RuntimeError: ReplaceCounter changed the plan problem's evaluation counters"),
    ("NegativeCount", "ValueError: evaluation counts only grow; got -8, 0"),
])
def test_a_planner_that_hides_its_evaluations_gets_error_rows(plugin, error, tmp_path, capsys):
    entry = f"test_tampering:{plugin}"
    _toy_sweep(tmp_path / "clean", ("test_control:Straight",))
    outcome = _toy_sweep(tmp_path / "hostile", (entry, "test_control:Straight"))
    assert len(outcome.failed) == 1 and entry in outcome.failed[0]
    (line,) = _plugin_lines(capsys.readouterr().err, plugin)
    rows = _rows(tmp_path / "hostile")
    assert set(rows.loc[rows["entry"] == entry, "error"]) == {error}
    assert line.endswith(error)
    pd.testing.assert_frame_equal(rows[rows["entry"] != entry].reset_index(drop=True),
                                  _rows(tmp_path / "clean"))


def test_the_watchdogs_limits():
    assert plan_limit(Budget(seconds=0.1)) == pytest.approx(30.1)
    assert plan_limit(Budget(seconds=10)) == 100
    assert plan_limit(Budget(iterations=10)) == 1800 and plan_limit(Budget(evaluations=5), 2.5) == 2.5
    # an iteration-budgeted call's limit grows with its batch (an open-loop level plans all its tasks at once)
    assert plan_limit(Budget(iterations=30), batch=100) == 1800
    assert plan_limit(Budget(iterations=30), 1800, batch=250) == 4500
    assert plan_limit(Budget(seconds=10), batch=250) == 100


@pytest.mark.parametrize("workers", [1, 2])
def test_the_watchdog_stops_a_plan_call_that_never_returns(workers, tmp_path, capsys):
    entries = ("test_tampering:ConstantClock", "test_tampering:Stubborn", "test_control:Straight")
    start = time.monotonic()
    if workers == 1:
        outcome = _toy_sweep(tmp_path, entries, plan_timeout=1.0)
    else:
        with ProcessExecutor(workers) as pool:
            outcome = _toy_sweep(tmp_path, entries, pool, plan_timeout=1.0)
    assert time.monotonic() - start < 30
    assert [line.split(" on ")[0] for line in outcome.failed] == list(entries[:2])
    rows = _rows(tmp_path)
    errors = rows.groupby("entry")["error"].agg(lambda e: set(e.fillna("ok")))
    stopped = {"PlanTimeout: plan call stopped by the watchdog after 1 s"}
    assert errors[entries[0]] == stopped and errors[entries[1]] == stopped and errors[entries[2]] == {"ok"}
    assert len(_plugin_lines(capsys.readouterr().err, "ConstantClock")) == 1


def test_the_watchdog_works_outside_the_main_thread():
    records = []
    thread = threading.Thread(target=lambda: records.extend(run_episodes(
        TOY, ToyModel(), ConstantClock(), Budget(iterations=1), (np.zeros((2, 2)), np.ones((2, 2))), "mpc",
        step_cap=4, plan_timeout=0.5)))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [r.error for r in records] == ["PlanTimeout: plan call stopped by the watchdog after 0.5 s"] * 2
