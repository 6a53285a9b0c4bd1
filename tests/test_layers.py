"""The import contract of docs/interfaces.md: layers flow one way (import-linter, configured in pyproject)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_flow_one_way():
    """Every contract (the wmbench layers, the torch-free envs package, the baselines' planner-API-only rule)
    is checked and kept."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert [c["type"] for c in contracts] == ["layers", "forbidden", "forbidden"]
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{len(contracts)} kept, 0 broken" in result.stdout


def test_importing_wmbench_registers_the_envs_without_torch():
    code = ("import sys, gymnasium, wmbench; gymnasium.make('wmbench/PushT-v0'); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
