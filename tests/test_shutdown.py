"""How `wmbench` ends: a plugin's leftover thread does not keep it running, SIGTERM stops the driver and its
local workers promptly, and Ctrl-C leaves no "leaked semaphore" warnings behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_control import Straight
from toys import wall_home

TESTS = Path(__file__).parent


class LeavesThread(Straight):
    """Straight that starts a non-daemon thread sleeping for ten minutes."""

    def init(self, problem, generator):
        threading.Thread(target=time.sleep, args=(600,), name="plugin-thread").start()
        return super().init(problem, generator)


class HoldsLock(Straight):
    """Straight that records its process id in ``$WMBENCH_TEST_PIDS``, holds a multiprocessing lock (as tqdm
    creates in any process that shows a progress bar) and sleeps 0.3 s per iteration."""

    def init(self, problem, generator):
        from tqdm import tqdm

        tqdm.get_lock()
        (Path(os.environ["WMBENCH_TEST_PIDS"]) / str(os.getpid())).touch()
        return super().init(problem, generator)

    def iterate(self, problem, state, generator):
        time.sleep(0.3)
        return super().iterate(problem, state, generator)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return wall_home(tmp_path_factory.mktemp("home"))


def _start(home: Path, out: Path, entry: str, *options: str, pids: Path | None = None, **popen):
    command = [sys.executable, "-m", "wmbench.cli", "eval", "--env", "wall", "--entry", entry, "--budgets",
               "it:1,2", "--mode", "open-loop", "--split", "dev", "--n-tasks", "2", "--results", str(out),
               "--home", str(home), *options]
    env = {**os.environ, "PYTHONPATH": str(TESTS), "WMBENCH_TEST_PIDS": str(pids)}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


def _when_two_workers_plan(proc, out: Path, pids: Path) -> list[int]:
    deadline = time.monotonic() + 90
    while (len(list(pids.iterdir())) < 2 or not list((out / "parts").glob("*.parquet"))) \
            and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(p.name) for p in pids.iterdir()]
    assert proc.poll() is None and len(workers) == 2
    return workers


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "State:\tZ" in status.read_text()


def test_a_plugins_leftover_thread_does_not_keep_wmbench_running(home, tmp_path):
    proc = _start(home, tmp_path, "test_shutdown:LeavesThread", "--seeds", "0")
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "results in" in out
    assert "wmbench: exiting without waiting for threads a plugin left running: plugin-thread" in err


def test_sigterm_stops_the_driver_and_its_workers_promptly(home, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    proc = _start(home, tmp_path / "out", "test_shutdown:HoldsLock", "--seeds", "0,1,2,3,4,5,6,7",
                  "--workers", "2", pids=pids)
    try:
        workers = _when_two_workers_plan(proc, tmp_path / "out", pids)
        proc.send_signal(signal.SIGTERM)  # the driver only, as `kill PID` does
        start = time.monotonic()
        _, err = proc.communicate(timeout=30)
        assert time.monotonic() - start < 10
    finally:
        proc.kill()
    assert proc.returncode == 143 and "wmbench: terminated; finished work is kept" in err
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in workers)


def test_ctrl_c_leaves_no_leaked_semaphore_warnings(home, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    proc = _start(home, tmp_path / "out", "test_shutdown:HoldsLock", "--seeds", "0,1,2,3,4,5,6,7",
                  "--workers", "2", pids=pids, start_new_session=True)
    try:
        _when_two_workers_plan(proc, tmp_path / "out", pids)
        os.killpg(proc.pid, signal.SIGINT)  # the whole process group, as Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "wmbench: interrupted" in err
    assert "leaked" not in err and "Traceback" not in err
