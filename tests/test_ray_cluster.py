"""A real two-node Ray cluster with token authentication (a head and a joined node, on 127.0.0.1): a sweep
through ``--executor ray --ray-address`` runs units on both nodes and gives the serial sweep's rows; a
driver without ``RAY_AUTH_MODE=token`` or without the cluster's token is refused with a one-line error."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from wmbench.cli import main
from wmbench.harness.schema import part_paths, read_results
from wmbench_baselines.oracle import Oracle

pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
WMBENCH = Path(sys.executable).parent / "wmbench"
#: The cluster helper stops itself after this many seconds, whatever happens to the test.
LIFETIME_S = 300
#: Columns that legitimately differ between executors: timing, where and with what it ran, the command.
MACHINE = ["planning_seconds", "host", "concurrent_units", "command"]
KEY = ["entry", "env", "task", "budget_kind", "budget_value", "seed", "mode"]
SWEEP = ["eval", "--env", "wall", "--entry", "test_ray_cluster:NodeOracle(samples=16, topk=4)@oracle",
         "--budgets",
         "it:1,2", "--mode", "open-loop", "--split", "dev", "--n-tasks", "2", "--seeds", "0,1,2,3"]


class NodeOracle(Oracle):
    """The Oracle, leaving a file named after the Ray node it plans on in ``$WMBENCH_TEST_NODES`` (if set)."""

    def init(self, problem, generator):
        if "WMBENCH_TEST_NODES" in os.environ:
            import ray

            (Path(os.environ["WMBENCH_TEST_NODES"]) / ray.get_runtime_context().get_node_id()).touch()
        return super().init(problem, generator)


@dataclass(frozen=True)
class TwoNodes:
    address: str  #: 127.0.0.1:PORT of the head
    nodes: tuple[str, str]  #: node ids: head, joined node
    env: dict[str, str]  #: a driver's environment: token authentication with the cluster's token
    planned_on: Path  #: where NodeOracle records the nodes it planned on


@pytest.fixture(scope="module")
def cluster() -> Iterator[TwoNodes]:
    # a short root: Ray's socket paths under it must fit in 107 bytes
    root = Path(tempfile.mkdtemp(prefix="wmbench-ray-", dir="/tmp"))
    token, planned_on = root / "auth_token", root / "planned-on"
    token.write_text(secrets.token_hex(32))
    planned_on.mkdir()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "WMBENCH_"))}
    env = {**inherited, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "RAY_TMPDIR": str(root),
           # Ray replaces 127.0.0.1 in node and cluster addresses with this machine's routable IP unless
           # multi-node mode is off (its Windows and macOS default); off, every node and server stays on
           # 127.0.0.1
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    err = (root / "cluster.err").open("w")
    proc = subprocess.Popen([sys.executable, str(TESTS / "ray_two_nodes.py"), str(LIFETIME_S)],
                            env={**env, "WMBENCH_TEST_NODES": str(planned_on)}, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        line = proc.stdout.readline() if ready else ""
        assert line, f"no cluster within 120 s:\n{(root / 'cluster.err').read_text()[-3000:]}"
        started = json.loads(line)
        yield TwoNodes(started["address"], tuple(started["nodes"]), env, planned_on)
    finally:
        proc.stdin.close()  # the helper shuts its nodes down
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):  # whatever is left of its process group
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        err.close()
        shutil.rmtree(root, ignore_errors=True)


def _rows(results: Path) -> pd.DataFrame:
    df = read_results(results)
    assert not df.duplicated(KEY).any()
    return df.drop(columns=MACHINE).sort_values(KEY).reset_index(drop=True)


def test_a_sweep_runs_on_both_nodes_and_gives_the_serial_rows(cluster, tmp_path):
    ray_run = subprocess.run([WMBENCH, *SWEEP, "--results", str(tmp_path / "ray"), "--home",
                              str(tmp_path / "home"), "--executor", "ray", "--ray-address", cluster.address],
                             env=cluster.env, capture_output=True, text=True, timeout=180)
    assert ray_run.returncode == 0, ray_run.stderr[-3000:]
    assert {p.name for p in cluster.planned_on.iterdir()} == set(cluster.nodes)
    assert main([*SWEEP, "--results", str(tmp_path / "serial"), "--home", str(tmp_path / "home")]) == 0
    serial = _rows(tmp_path / "serial")
    assert len(serial) == 4 * 2 * 2 and serial["error"].isna().all()
    pd.testing.assert_frame_equal(_rows(tmp_path / "ray"), serial)


@pytest.mark.parametrize("drop, refusal", [
    ("RAY_AUTH_MODE", "Authentication token is missing or incorrect"),  # the cluster refuses it
    ("RAY_AUTH_TOKEN_PATH", "Token authentication is enabled but"),  # Ray refuses to try without a token
], ids=["token-mode-unset", "no-token"])
def test_a_driver_without_token_mode_or_token_is_refused(cluster, tmp_path, drop, refusal):
    env = {k: v for k, v in cluster.env.items() if k != drop}
    refused = subprocess.run([WMBENCH, *SWEEP, "--results", str(tmp_path / "ray"), "--executor", "ray",
                              "--ray-address", cluster.address],
                             env={**env, "HOME": str(tmp_path),  # no ~/.ray/auth_token
                                  "RAY_gcs_server_port_wait_time_s": "2"},  # give up after 2 tries
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert refusal in refused.stderr
    error = refused.stderr.strip().splitlines()[-1]
    assert error.startswith(f"wmbench: error: cannot connect to the Ray cluster at '{cluster.address}'")
    assert error.endswith("a cluster with token authentication needs RAY_AUTH_MODE=token and its token "
                          "(see the README)")
    assert not part_paths(tmp_path / "ray")  # nothing ran
