"""Submissions under a named protocol: validated against the protocol, the frozen models and their source,
shown in the reference entries' tables, and recomputed when the planner's code changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wmbench.harness.schema import part_paths, read_part, read_results
from wmbench.models.zoo import manifest
from wmbench.report import report
from wmbench.report.submissions import validate

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = sorted(p.parent for p in (ROOT / "submissions").glob("*/submission.json"))
TESTS = Path(__file__).resolve().parent


def _wmbench(*argv: str, home: Path, pythonpath: Path = TESTS) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if k not in ("WMBENCH_HOME", "PYTHONPATH")},
           "WMBENCH_HOME": str(home), "PYTHONPATH": str(pythonpath), "TQDM_DISABLE": "1"}
    return subprocess.run([sys.executable, "-m", "wmbench.cli", *argv], env=env, capture_output=True,
                          text=True, timeout=600)


def test_there_is_a_committed_submission_and_each_validates():
    assert SUBMISSIONS
    for folder in SUBMISSIONS:
        found = validate(folder)
        assert found.protocol == "quick" and found.rows > 0


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    copy = tmp_path / "submission"
    shutil.copytree(SUBMISSIONS[0], copy, ignore=shutil.ignore_patterns("plots", "*.md"))
    return copy


def _rewrite(folder: Path, column: str, value: str) -> None:
    """Set ``column`` to ``value`` in every part of ``folder`` (one part alone is refused as inconsistent)."""
    for part in part_paths(folder):
        table = read_part(part)
        i = table.schema.get_field_index(column)
        table = table.set_column(i, table.schema.field(i), pa.array([value] * table.num_rows, pa.string()))
        pq.write_table(table, part)


@pytest.mark.parametrize("edit, message", [
    (lambda d: _rewrite(d, "protocol_sha256", "another"), "did not run under protocol quick"),
    (lambda d: _rewrite(d, "checkpoint_hash", "retrained"), "not the protocol's frozen one"),
    (lambda d: part_paths(d)[0].unlink(), "have no results"),
    (lambda d: (d / "random_shooting.py").write_text("# edited\n"), "came from other code"),
    (lambda d: (d / "submission.json").unlink(), "submission.json is missing"),
])
def test_a_submission_that_does_not_hold_is_refused_naming_why(submission, edit, message):
    edit(submission)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        validate(submission)


def test_the_frozen_model_is_the_protocols_dataset_size_not_another_of_the_same_seed(submission):
    # the zoo holds quick's small models and full's full ones, both with a training seed 0
    full = {(m["env"], m["variant"]): m["identity"] for name, m in manifest().items()
            if "-full-seed0" in name}
    for part in part_paths(submission):
        table = read_part(part)
        hashes = [full.get((env, variant), h) for env, variant, h in zip(
            table["env"].to_pylist(), table["variant"].to_pylist(), table["checkpoint_hash"].to_pylist(),
            strict=True)]
        i = table.schema.get_field_index("checkpoint_hash")
        pq.write_table(table.set_column(i, table.schema.field(i), pa.array(hashes, pa.string())), part)
    with pytest.raises(ValueError, match="not the protocol's frozen one"):
        validate(submission)


@pytest.mark.slow
def test_a_plugin_under_the_protocol_pairs_with_the_reference_entries_from_an_empty_home(tmp_path):
    home, mine = tmp_path / "home", tmp_path / "mine"
    done = _wmbench("eval", "--protocol", "quick", "--env", "wall", "--entry", "test_control:Straight",
                    "--results", str(mine), home=home)
    assert done.returncode == 0, done.stderr
    assert not (home / "datasets").exists() and not (home / "models").exists()  # frozen models, no training
    rows = read_results(mine)
    assert set(rows["protocol"]) == {"quick"} and set(rows["level"]) == {"near", "far"}
    assert set(rows["command"]) == {f"PYTHONPATH={TESTS} wmbench eval --protocol quick --env wall --entry "
                                    f"test_control:Straight --results {mine}"}  # what the command needed
    text = report([ROOT / "results" / "quick", mine], tmp_path / "board").read_text()
    wall_mpc = text.split("## wall — mpc, iterations budgets")[1].split("\n## ")[0]
    assert "Not paired" not in wall_mpc
    assert wall_mpc.count("| test_control:Straight | ") == 4  # success and Δ vs CEM tables, both levels
    assert "| CEM |" in wall_mpc and "Δ vs CEM" in wall_mpc


def test_changing_the_plugins_code_makes_a_rerun_recompute(tmp_path):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    shutil.copy(ROOT / "examples" / "random_shooting.py", plugin / "random_shooting.py")
    argv = ("eval", "--env", "wall", "--entry", "random_shooting:RandomShooting(samples=8)", "--split", "dev",
            "--n-tasks", "2", "--budgets", "it:1", "--results", str(tmp_path / "results"))
    first = _wmbench(*argv, home=tmp_path / "home", pythonpath=plugin)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.stat().st_mtime_ns for p in part_paths(tmp_path / "results")}
    same = _wmbench(*argv, home=tmp_path / "home", pythonpath=plugin)
    assert {p.name for p in part_paths(tmp_path / "results")} == set(before)  # same code: reused
    assert "1 of 1 units already done" in same.stderr
    (plugin / "random_shooting.py").write_text((plugin / "random_shooting.py").read_text() + "\n# tuned\n")
    second = _wmbench(*argv, home=tmp_path / "home", pythonpath=plugin)
    assert second.returncode == 0, second.stderr
    after = {p.name for p in part_paths(tmp_path / "results")}
    assert len(after) == 2 * len(before) and set(before) < after  # new units; the old parts are untouched
