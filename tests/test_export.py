"""Minari export: a round trip through ``minari.load_dataset`` keeps every step and observation, and each
episode's goal and data policy."""

from __future__ import annotations

import importlib
import sys
from dataclasses import replace
from pathlib import Path

import gymnasium
import minari
import numpy as np
import pytest
import torch

from wmbench import data
from wmbench.cli import main
from wmbench.data import export
from wmbench.data.errors import DatasetError
from wmbench.data.export import export_minari, minari_dataset_id
from wmbench_envs import ENVS

TINY = replace(data.get_spec("pusht-expert-v0", "small"), name="pusht-tiny-v0", n_episodes=5, episode_len=12)
#: v1 mixes the expert with PushTPoker; eight episodes draw both
TINY_V1 = replace(data.get_spec("pusht-expert-v1", "small"), name="pusht-tiny-v1", n_episodes=8,
                  episode_len=10)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    data.build_spec(TINY, home=tmp_path / "home", workers=1, progress=False)
    return tmp_path / "home"


def test_dataset_ids_follow_minari_naming():
    assert minari_dataset_id(data.get_spec("pusht-expert-v0", "full")) == "wmbench/pusht/expert-v0"
    assert minari_dataset_id(data.get_spec("wall-expert-v0", "small")) == "wmbench/wall/expert-small-v0"
    assert minari_dataset_id(data.get_spec("pusht-expert-v1", "full")) == "wmbench/pusht/expert-v1"
    assert minari_dataset_id(data.get_spec("wall-expert-v1", "small")) == "wmbench/wall/expert-small-v1"


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


def _replay(seed: int, infos: dict, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Roll an episode out again from its exported reset seed and data policy alone: states and actions."""
    env = gymnasium.make(ENVS["pusht"][0]).unwrapped
    _, info = env.reset(seed=seed)
    policy_class = getattr(importlib.import_module("wmbench_envs.pusht_expert"), infos["policy"][0])
    policy = policy_class(env, noise=float(infos["policy_noise"][0]), seed=int(infos["policy_seed"][0]))
    policy.reset(infos["goal_state"][0])
    low, high = env.action_space.low, env.action_space.high
    states, actions = [info["state"]], []
    for _ in range(horizon):
        actions.append(np.clip(policy.act(states[-1]), low, high).astype(np.float32))
        states.append(env.step(actions[-1])[-1]["state"])
    return np.array(states, dtype=np.float32), np.array(actions)


def test_export_records_goals_data_policies_and_the_episode_length(tmp_path, monkeypatch):
    home = tmp_path / "home"
    data.build_spec(TINY_V1, home=home, workers=1, progress=False)
    export_minari(TINY_V1.name, tmp_path / "minari", home=home)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    exported = minari.load_dataset("wmbench/pusht/tiny-small-v1")
    assert exported.spec.env_spec.max_episode_steps == TINY_V1.episode_len
    assert exported.recover_environment().spec.max_episode_steps == TINY_V1.episode_len
    assert exported.recover_environment(eval_env=True).spec.max_episode_steps == 300  # the registered env
    seeds = [meta["seed"] for meta in exported.storage.get_episode_metadata(range(TINY_V1.n_episodes))]
    drawn = set()
    for episode, seed in zip(exported.iterate_episodes(), seeds, strict=True):
        infos = episode.infos
        assert set(infos) == {"goal_state", "policy", "policy_noise", "policy_seed"}
        for values in infos.values():  # one goal and one policy per episode, at each observation
            assert len(values) == TINY_V1.episode_len + 1 and (values == values[0]).all()
        goal = infos["goal_state"][0]
        distances = exported.recover_environment().unwrapped.state_distance(episode.observations[1:], goal)
        np.testing.assert_allclose(episode.rewards, -distances, rtol=1e-5, atol=1e-3)  # the rewards' goal
        states, actions = _replay(seed, infos, TINY_V1.episode_len)
        np.testing.assert_array_equal(episode.observations, states)
        np.testing.assert_array_equal(episode.actions, actions)
        drawn.add((str(infos["policy"][0]), float(infos["policy_noise"][0])))
    mix = {(entry[2] if len(entry) == 3 else "PushTExpert", entry[0]) for entry in TINY_V1.noise_mix}
    assert drawn <= mix
    assert {policy for policy, _ in drawn} == {"PushTExpert", "PushTPoker"}


def test_export_refuses_data_its_spec_does_not_redraw(home, tmp_path, monkeypatch):
    redraw = export.episode_setup
    monkeypatch.setattr(export, "episode_setup", lambda spec, i: redraw(spec, i + 1))
    with pytest.raises(DatasetError, match="episode 0 of pusht-tiny-v0 .* does not start where its spec"):
        export_minari(TINY.name, tmp_path / "minari", home=home)
    assert not any((tmp_path / "minari").iterdir())


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
