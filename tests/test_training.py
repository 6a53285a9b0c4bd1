"""Training to convergence: step budgets, validation with early stopping and best weights, learning curves,
the ``wmbench train`` options, and the wall-contact probe."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from PIL import Image
from test_models import SMALL, fit_kwargs, make_dataset

import wmbench.training
from wmbench.cli import main
from wmbench.models import checkpoint
from wmbench.models.checkpoint import checkpoint_path
from wmbench.models.state_model import StateWorldModel
from wmbench.training import trainer
from wmbench.training.config import TrainConfig
from wmbench.training.curves import curve_path
from wmbench.training.probes import FACE_DISTANCES, JAMB_DISTANCES, wall_contact_probe
from wmbench.training.trainer import train
from wmbench.training.validation import Validator
from wmbench_envs.wall import BOX_HI, BOX_LO, WallEnv

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def dataset():
    return make_dataset()


def test_base_step_budget_scales_with_the_dataset() -> None:
    cfg = TrainConfig()
    assert cfg.base_steps(1000) == cfg.min_steps
    assert cfg.base_steps(20_000) == math.ceil(cfg.epochs * 20_000 / cfg.batch_size) > cfg.min_steps
    assert cfg.base_steps(10**8) == cfg.max_steps
    assert TrainConfig(steps=7).base_steps(10**6) == 7
    with pytest.raises(ValueError, match="max_steps >= min_steps"):
        TrainConfig(min_steps=10, max_steps=5)


def test_validator_stops_after_patience_and_keeps_the_best_weights() -> None:
    model = torch.nn.Linear(2, 2)
    values = iter([3.0, 1.0, 2.0, 1.5])
    validator = Validator(model, lambda: next(values), eval_every=2, patience=2)
    stops = []
    for step in range(1, 9):
        with torch.no_grad():
            model.weight.fill_(step)
        stops.append(validator.after_step(step, float(step), last=False))
    assert stops == [False] * 7 + [True]  # evaluations at 2, 4, 6, 8; no improvement after step 4
    assert (validator.best_step, validator.best_value) == (4, 1.0)
    assert validator.history == [[2, 1.5, 3.0], [4, 3.5, 1.0], [6, 5.5, 2.0], [8, 7.5, 1.5]]
    validator.restore_best()
    assert torch.all(model.weight == 4)
    resumed = Validator(model, lambda: 0.0, 2, 2, state=validator.state())
    assert resumed.history == validator.history and resumed.wait == 2 and resumed.best_step == 4


def test_training_stops_early_and_checkpoints_the_best_weights(dataset, tmp_path, monkeypatch) -> None:
    snapshots, values = [], iter([0.5, 0.2, 0.3, 0.4, 0.6, 0.7])

    def metric(model, data):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return next(values)

    monkeypatch.setattr(trainer, "rollout_mse", metric)
    cfg = dataclasses.replace(SMALL, steps=100, eval_every=5, patience=3)
    path = train("pointmass", **{**fit_kwargs(dataset, tmp_path), "config": cfg, "diagnose": False})
    model = checkpoint.load(path)
    stats = model.metadata["training"]
    assert (stats["steps"], stats["max_steps"], stats["stopped_early"]) == (25, 100, True)
    assert (stats["best_step"], stats["best_val"]) == (10, 0.2)
    assert [row[0] for row in stats["curve"]] == [5, 10, 15, 20, 25]
    for key, value in snapshots[1].items():
        assert torch.equal(model.state_dict()[key], value), key
    assert checkpoint.read(path)["training"]["validation"]["best_weights"] is None  # no second copy
    png = curve_path(path)
    assert png == path.with_name("pointmass-state-base-small-seed0.curve.png")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 100


def test_awm_and_owm_record_validation_curves(dataset, tmp_path) -> None:
    cfg = dataclasses.replace(SMALL, eval_every=5)
    for variant, name, evaluations in (("awm", "adversarial", 2), ("owm", "open-loop", 4)):
        path = train("pointmass", variant=variant, **{**fit_kwargs(dataset, tmp_path), "config": cfg,
                                                      "diagnose": False})
        stats = checkpoint.load(path).metadata["training"]
        assert name in stats["val_metric"] and len(stats["curve"]) == evaluations
        assert all(np.isfinite(row[2]) for row in stats["curve"]) and curve_path(path).exists()


def test_train_cli_options_reach_the_config(tmp_path, monkeypatch, capsys) -> None:
    seen = {}

    def fake_train(*args, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("stopped before training")

    monkeypatch.setattr(wmbench.training, "train", fake_train, raising=False)
    argv = ["train", "wall", "--steps", "123", "--lr", "0.01", "--batch-size", "64", "--patience", "0",
            "--model-seed", "2", "--dataset", "wall-expert-v0", "--home", str(tmp_path)]
    assert main(argv) == 2
    cfg = seen["config"]
    assert (cfg.steps, cfg.lr, cfg.batch_size, cfg.patience) == (123, 0.01, 64, 0)
    assert (seen["seed"], seen["dataset_name"]) == (2, "wall-expert-v0")
    assert main(["train", "wall", "--home", str(tmp_path)]) == 2
    assert seen["config"] == TrainConfig() and seen["dataset_name"] is None
    assert "stopped before training" in capsys.readouterr().err


class WallStand(torch.nn.Module):
    """A Wall 'state model' with latent = state: the true simulator, or free motion ignoring the wall."""

    frameskip, state_dim, angle_dims = 5, 2, []

    def __init__(self, wall: bool):
        super().__init__()
        self.wall, self.env = wall, WallEnv()
        self.state_mean, self.state_std = torch.zeros(2), torch.ones(2)

    def encode_states(self, states):
        return states

    def step(self, z, a):
        a = a.double().reshape(len(z), 1, self.frameskip, 2)
        if self.wall:
            return torch.from_numpy(self.env.replay(z.double().numpy(), a.numpy())[:, 1]).float()
        return (z + 2 * a.sum((1, 2))).clamp(BOX_LO, BOX_HI).float()


def test_wall_contact_probe_measures_passing_through_the_wall() -> None:
    exact = wall_contact_probe(WallStand(wall=True))
    assert all(value < 1e-4 for value in exact.values())
    no_wall = wall_contact_probe(WallStand(wall=False))
    assert no_wall["face_mean_px"] == pytest.approx(10 - np.mean(FACE_DISTANCES), abs=1e-4)
    assert no_wall["jamb_mean_px"] == pytest.approx(10 - np.mean(JAMB_DISTANCES), abs=1e-4)
    assert no_wall["free_max_px"] < 1e-4
    with pytest.raises(ValueError, match="Wall state world model"):
        wall_contact_probe(torch.nn.Linear(2, 2))


class NaNStep(StateWorldModel):
    """A plugin world model whose ``step`` returns NaN."""

    def step(self, z, a):
        return super().step(z, a) * math.nan


class NaNWhenEvaluated(StateWorldModel):
    """A plugin world model that is finite while it trains and NaN when validated."""

    def step(self, z, a):
        return super().step(z, a) * (1.0 if self.training else math.nan)


@pytest.mark.parametrize("model, problem", [
    ("test_training:NaNStep", "the training loss is nan at step 1"),
    ("test_training:NaNWhenEvaluated", "the validation value is nan at step 5 (val open-loop MSE)"),
])
def test_a_non_finite_loss_is_an_error_naming_the_model(model, problem, dataset, tmp_path) -> None:
    cfg = dataclasses.replace(SMALL, eval_every=5)
    with pytest.raises(ValueError) as caught:
        train("pointmass", model=model, **{**fit_kwargs(dataset, tmp_path), "config": cfg, "diagnose": False})
    assert str(caught.value) == (
        f"training the {model} world model for pointmass (base variant, seed 0): {problem}: the model "
        "diverged or returns non-finite values; lower the learning rate (--lr, now 0.001) or check the "
        "model's step and rollout")
    assert not checkpoint_path("pointmass", model, home=tmp_path).exists()
