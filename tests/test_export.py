"""Minari export: a round trip through ``minari.load_dataset`` keeps every step and observation."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import minari
import numpy as np
import pytest
import torch

from wmbench import data
from wmbench.cli import main
from wmbench.data.export import export_minari, minari_dataset_id

TINY = replace(data.get_spec("pusht-expert-v0", "small"), name="pusht-tiny-v0", n_episodes=5, episode_len=12)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    data.build_spec(TINY, home=tmp_path / "home", workers=1, progress=False)
    return tmp_path / "home"


def test_dataset_ids_follow_minari_naming():
    assert minari_dataset_id(data.get_spec("pusht-expert-v0", "full")) == "wmbench/pusht/expert-v0"
    assert minari_dataset_id(data.get_spec("wall-expert-v0", "small")) == "wmbench/wall/expert-small-v0"


def test_cli_export_round_trips_through_minari(home, tmp_path, monkeypatch, capsys):
    out = tmp_path / "minari"
    argv = ["data", "export", TINY.name, "--size", "small", "--format", "minari", "--out", str(out),
            "--home", str(home)]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == str(out / "wmbench/pusht/tiny-small-v0")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(out))
    exported = minari.load_dataset("wmbench/pusht/tiny-small-v0")
    assert (exported.total_episodes, exported.total_steps) == (5, 60)
    assert exported.storage.metadata["data_format"] == "arrow"
    assert exported.spec.env_spec.id == "wmbench/PushT-v0"
    ours = data.load(TINY.name, home=home)
    ids = torch.cat([ours.train.episodes, ours.val.episodes])
    states = torch.cat([ours.train.states, ours.val.states])[ids.argsort()].numpy()
    actions = torch.cat([ours.train.actions, ours.val.actions])[ids.argsort()].numpy()
    for episode in exported.iterate_episodes():
        np.testing.assert_array_equal(episode.observations, states[episode.id])
        np.testing.assert_array_equal(episode.actions, actions[episode.id])
        assert episode.truncations[-1] and not episode.terminations.any() and len(episode.rewards) == 12
    assert not any(p.name.startswith(".wmbench-export-") for p in out.iterdir())

    assert main(argv) == 2  # never silently overwritten
    assert "already exists; pass --force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0


@pytest.mark.parametrize("out", ["minari", "a/../exports/minari", "."])
def test_export_to_a_relative_path(out, home, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["data", "export", TINY.name, "--format", "minari", "--out", out, "--home", str(home)]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == str(Path(out) / "wmbench/pusht/tiny-small-v0")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / out))
    assert minari.load_dataset("wmbench/pusht/tiny-small-v0").total_episodes == 5
    assert not any(p.name.startswith(".wmbench-export-") for p in (tmp_path / out).iterdir())


def test_missing_minari_names_the_extra(home, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "minari", None)
    with pytest.raises(RuntimeError, match=r"pip install 'wmbench\[export\]'"):
        export_minari(TINY.name, tmp_path / "out", home=home)


@pytest.mark.parametrize("extra, message", [
    (["--out", "minari"], "run `wmbench data build wall-expert-v0 --size small`"),
    ([], "needs --out DIR"),
])
def test_export_errors_are_one_line(extra, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "export", "wall-expert-v0", *extra, "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wmbench: error:") and message in err and len(err.splitlines()) == 1
