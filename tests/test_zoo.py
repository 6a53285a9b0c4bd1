"""Frozen reference world models: shipped, hash-checked, preferred over training, the models they froze."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wmbench.harness.schema import read_results
from wmbench.models import checkpoint, zoo
from wmbench.models.state_model import StateWorldModel

TESTS = Path(__file__).resolve().parent


def tiny_checkpoint(home: Path, variant: str = "base") -> Path:
    model = StateWorldModel("wall", 2, hidden=8, layers=1)
    model.metadata.update(env="wall", variant=variant, seed=0, dataset="wall-expert-v1")
    path = checkpoint.checkpoint_path("wall", "state", variant, "small", 0, home)
    return checkpoint.save(model, path, training={"step": 3, "optimizer": {"lr": 1.0}})


def test_freeze_drops_training_state_keeps_identity_and_lists_file_hashes(tmp_path):
    trained = tiny_checkpoint(tmp_path / "home")
    [frozen] = zoo.freeze([trained], tmp_path / "zoo")
    entry = zoo.manifest(tmp_path / "zoo")[trained.name]
    assert checkpoint.read(frozen)["training"] is None and checkpoint.read(trained)["training"] is not None
    assert entry["identity"] == checkpoint.identity_hash(checkpoint.read(trained))
    assert checkpoint.load(frozen).metadata["checkpoint_hash"] == entry["identity"]
    assert (entry["env"], entry["variant"], entry["seed"]) == ("wall", "base", 0)
    assert zoo.frozen_checkpoint("wall", zoo=tmp_path / "zoo") == frozen
    assert zoo.frozen_checkpoint("wall", variant="awm", zoo=tmp_path / "zoo") is None


def test_find_checkpoint_prefers_the_frozen_model_unless_told_otherwise(tmp_path, monkeypatch):
    zoo.freeze([tiny_checkpoint(tmp_path / "home")], tmp_path / "zoo")
    monkeypatch.setattr(zoo, "ZOO", tmp_path / "zoo")
    home = tmp_path / "empty"
    assert zoo.find_checkpoint("wall", home=home).parent == tmp_path / "zoo"
    assert zoo.find_checkpoint("wall", home=home, frozen=False) == \
        checkpoint.checkpoint_path("wall", "state", "base", "small", 0, home)
    assert zoo.find_checkpoint("wall", variant="awm", home=home).parent == home / "models"


def test_a_modified_frozen_model_is_refused_naming_the_file(tmp_path):
    [frozen] = zoo.freeze([tiny_checkpoint(tmp_path / "home")], tmp_path / "zoo")
    frozen.write_bytes(frozen.read_bytes() + b"\0")
    with pytest.raises(ValueError, match=f"frozen world model {frozen} is missing or does not match"):
        zoo.frozen_checkpoint("wall", zoo=tmp_path / "zoo")
    (tmp_path / "zoo" / zoo.MANIFEST).write_text("{not json")
    with pytest.raises(ValueError, match="frozen-model manifest .* is corrupt"):
        zoo.manifest(tmp_path / "zoo")


def test_the_shipped_zoo_is_intact_and_holds_every_presets_models():
    from wmbench.presets import PRESETS

    for preset in PRESETS.values():  # quick: one model per variant; full: three training seeds each
        for seed in preset.model_seeds:
            for env in preset.envs:
                for variant in ("base", "owm", "awm"):
                    path = zoo.frozen_checkpoint(env, "state", variant, preset.dataset_size, seed)
                    assert path is not None and checkpoint.read(path)["training"] is None
    assert len(zoo.manifest()) == sum(len(p.model_seeds) * len(p.envs) * 3 for p in PRESETS.values())


def test_an_empty_home_plans_through_the_frozen_models_without_data_or_training(tmp_path):
    home, results = tmp_path / "home", tmp_path / "results"
    env = {"WMBENCH_HOME": str(home), "PYTHONPATH": str(TESTS), "TQDM_DISABLE": "1"}
    done = subprocess.run([sys.executable, "-m", "wmbench.cli", "eval", "--env", "wall",
                           "--entry", "test_control:Straight,CEM", "--budgets", "it:1", "--n-tasks", "2",
                           "--split", "dev", "--results", str(results)],
                          env={**_base_env(), **env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not (home / "datasets").exists() and not (home / "models").exists()
    rows = read_results(results)
    frozen = json.loads((zoo.ZOO / zoo.MANIFEST).read_text())["models"]
    [identity] = [m["identity"] for m in frozen if m["file"] == "wall-state-base-small-seed0.pt"]
    assert set(rows["checkpoint_hash"]) == {identity} and len(rows) == 4


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("WMBENCH_HOME", "PYTHONPATH")}
