"""Sweep manifests: a sweep lists its units before running them, so a process that dies mid-sweep (even by
``os._exit(0)``, exit status 0) leaves a folder whose report names the missing units; reruns complete them and
retry failed units."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_control import TOY, Straight
from test_harness import toy_models, toy_tasks

from wmbench.cli import main
from wmbench.harness import manifest
from wmbench.harness.schema import part_paths, read_results
from wmbench.harness.sweep import SweepConfig, run_sweep
from wmbench.planning import parse_budgets

TESTS = Path(__file__).parent


class ExitOnce(Straight):
    """Ends its process with ``os._exit(0)`` the first time any process plans it (per ``marker`` file)."""

    def __init__(self, marker: str):
        self.marker = Path(marker)

    def init(self, problem, generator):
        if not self.marker.exists():
            self.marker.touch()
            os._exit(0)
        return super().init(problem, generator)


class FailOnce(ExitOnce):
    """Raises the first time any process plans it (per ``marker`` file)."""

    def init(self, problem, generator):
        if not self.marker.exists():
            self.marker.touch()
            raise RuntimeError("a passing fault")
        return Straight.init(self, problem, generator)


def _sweep(out: Path, entries: tuple[str, ...], command: str = "pytest sweep"):
    config = SweepConfig(entries=entries, envs=(TOY,), budgets=parse_budgets("it:1,2"), seeds=(0, 1),
                         mode="open-loop", n_tasks=4)
    return run_sweep(config, out, toy_models, tasks=toy_tasks, command=command, progress=False)


def test_a_serial_sweep_that_exits_leaves_a_manifest_the_report_reads_and_a_rerun_completes(tmp_path,
                                                                                               capsys):
    out = tmp_path / "results"
    entries = ("test_control:Straight", f"test_manifest:ExitOnce(marker={str(tmp_path / 'exited')!r})",
               "test_control:RandomShooting")
    script = (f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
              "from pathlib import Path\n"
              "import test_manifest as m\n"
              f"m._sweep(Path({str(out)!r}), {entries!r})\n")
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(TESTS)},
                          timeout=120)
    assert proc.returncode == 0 and len(part_paths(out)) == 2  # Straight, seeds 0 and 1
    (listed,) = (out / manifest.SWEEPS).iterdir()
    units = json.loads(listed.read_text())["units"]
    assert len(units) == 6 and {u["file"] for u in units} >= {p.name for p in part_paths(out)}
    assert main(["report", str(out)]) == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warning.startswith(f"wmbench report: warning: 4 of the 6 units of the sweeps in {out} have no "
                              "results and 0 failed (first: test_manifest:ExitOnce")
    assert warning.endswith("rerun `pytest sweep` to run the missing units and retry the failed ones")
    assert "> **Incomplete:** 4 of the 6 units" in (out / "leaderboard.md").read_text()
    assert _sweep(out, entries).ran == 4
    assert "2 of 6 units already done; running 4 missing" in capsys.readouterr().err
    assert main(["report", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert "Incomplete" not in (out / "leaderboard.md").read_text() and len(read_results(out)) == 6 * 2 * 4


def test_a_rerun_retries_failed_units(tmp_path, capsys):
    entries = (f"test_manifest:FailOnce(marker={str(tmp_path / 'failed')!r})", "test_control:Straight")
    first = _sweep(tmp_path, entries)
    assert len(first.failed) == 1 and "RuntimeError: a passing fault" in first.failed[0]
    label = f"{entries[0]} on {TOY} (open-loop, iterations 2, seed 0)"
    assert manifest.check(tmp_path).failed == (label,)
    capsys.readouterr()
    again = _sweep(tmp_path, entries)
    assert again.ran == 1 and not again.failed and read_results(tmp_path)["error"].isna().all()
    err = capsys.readouterr().err
    assert f"wmbench sweep: retrying {label} (8 of 8 episodes failed)" in err and "retrying 1 failed" in err
    assert manifest.check(tmp_path) == manifest.Completeness(4, (), (), ())


def test_several_sweeps_into_one_folder_keep_one_manifest_each(tmp_path):
    _sweep(tmp_path, ("test_control:Straight",), command="first")
    _sweep(tmp_path, ("test_control:RandomShooting",), command="second")
    assert len(list((tmp_path / manifest.SWEEPS).iterdir())) == 2
    _sweep(tmp_path, ("test_control:Straight",), command="first")  # a rerun rewrites its own
    assert len(list((tmp_path / manifest.SWEEPS).iterdir())) == 2
    next(p for p in part_paths(tmp_path) if "RandomShooting" in p.name).unlink()
    done = manifest.check(tmp_path)
    assert (done.units, len(done.missing), done.failed, done.commands) == (4, 1, (), ("second",))
    assert "rerun `second`" in done.summary(tmp_path)
