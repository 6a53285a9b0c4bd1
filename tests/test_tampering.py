"""Hostile planners, as a user of the plugin API could write them, against the loop's isolation: a planner
that changes the world model, the clock or the evaluation counters, or never returns, gets error rows; the
other entries' rows equal a clean run's; the sweep exits 1 with one line naming the plugin."""

from __future__ import annotations

import gc
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_control import RandomShooting

from wmbench.cli import main
from wmbench.harness.schema import read_results
from wmbench.models import checkpoint
from wmbench.models.state_model import StateWorldModel

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


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A models home with one (untrained, fixed) Wall state model where `wmbench eval` looks for it."""
    home = tmp_path_factory.mktemp("home")
    torch.manual_seed(0)
    model = StateWorldModel("wall", 2, hidden=32, layers=1)
    checkpoint.save(model, checkpoint.checkpoint_path("wall", "state", "base", "small", 0, home))
    return home


def _eval(home: Path, out: Path, entries: tuple[str, ...], *options: str) -> int:
    return main(["eval", "--env", "wall", "--entry", ",".join(entries), "--budgets", "it:1,2",
                 "--mode", "open-loop", "--tasks", "dev", "--n-tasks", "2", "--seeds", "0",
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
