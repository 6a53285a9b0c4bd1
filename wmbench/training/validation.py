"""Validation during training: periodic evaluation on the val split, early stopping, best weights, curve.

The base metric is the multi-step open-loop error on val windows: the mean squared latent error of the
``horizon``-step rollout from each window's first latent (what planners use), on at most
``TrainConfig.val_windows`` windows (a seeded subset, the same at every evaluation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from wmbench.training.base import Batch, NonFiniteLoss, window_latents
from wmbench.training.config import TrainConfig


@torch.no_grad()
def rollout_mse(model, data: Batch) -> float:
    """Mean squared error of the open-loop rollouts from ``data``'s first latents over all predicted steps."""
    z, a = data
    pred = model.rollout(z[:, 0], a)
    return ((pred[:, 1:] - z[:, 1:]) ** 2).mean().item()


def val_batch(model, split, cfg: TrainConfig, seed: int = 0) -> Batch:
    """The encoded val windows of ``split``, at most ``cfg.val_windows`` of them (seeded, sorted subset)."""
    z, a = window_latents(model, split, cfg)
    if len(z) <= cfg.val_windows:
        return z, a
    order = torch.randperm(len(z), generator=torch.Generator().manual_seed(seed))
    keep = order[:cfg.val_windows].sort().values
    return z[keep], a[keep]


class Validator:
    """Evaluates ``metric()`` every ``eval_every`` steps and at the end of each training stretch.

    Keeps a copy of the weights at the best (lowest) value and counts evaluations without improvement;
    ``after_step`` returns True (stop) once ``patience`` evaluations in a row did not improve (``patience``
    0: never stop). ``history`` holds ``(step, mean training loss since the previous evaluation, value)``
    per evaluation. ``state()`` / the ``state`` argument make it resumable exactly at any step.
    """

    def __init__(self, model, metric: Callable[[], float], eval_every: int, patience: int,
                 state: dict[str, Any] | None = None):
        self.model, self.metric, self.eval_every, self.patience = model, metric, eval_every, patience
        self.history: list[list[float]] = []
        self.best_value, self.best_step, self.best_weights, self.wait = math.inf, 0, None, 0
        self.loss_sum, self.loss_count = 0.0, 0
        if state is not None:
            self.history = [list(row) for row in state["history"]]
            self.best_value, self.best_step = state["best_value"], state["best_step"]
            self.best_weights, self.wait = state["best_weights"], state["wait"]
            self.loss_sum, self.loss_count = state["loss_sum"], state["loss_count"]

    def after_step(self, step: int, loss: float, last: bool) -> bool:
        """Record the loss of step ``step`` (1-based count of steps done); evaluate when due; True = stop."""
        self.loss_sum, self.loss_count = self.loss_sum + loss, self.loss_count + 1
        if step % self.eval_every and not last:
            return False
        self.evaluate(step)
        return 0 < self.patience <= self.wait

    def evaluate(self, step: int) -> float:
        """Evaluate now (model in eval mode, restored after) and update the best weights and patience; a
        non-finite value raises [`NonFiniteLoss`][wmbench.training.base.NonFiniteLoss]."""
        training = self.model.training
        self.model.eval()
        value = float(self.metric())
        if not math.isfinite(value):
            raise NonFiniteLoss("validation value", step, value)
        self.model.train(training)
        train_loss = self.loss_sum / self.loss_count if self.loss_count else math.nan
        self.history.append([float(step), train_loss, value])
        self.loss_sum, self.loss_count = 0.0, 0
        if value < self.best_value:
            self.best_value, self.best_step, self.wait = value, step, 0
            self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.wait += 1
        return value

    def restore_best(self) -> None:
        """Load the best weights seen (no-op before the first evaluation)."""
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)

    def state(self) -> dict[str, Any]:
        return {"history": [list(row) for row in self.history], "best_value": self.best_value,
                "best_step": self.best_step, "best_weights": self.best_weights, "wait": self.wait,
                "loss_sum": self.loss_sum, "loss_count": self.loss_count}

    def stats(self) -> dict[str, Any]:
        """Summary for checkpoint metadata: best value and step, evaluations, and the curve."""
        return {"best_val": self.best_value, "best_step": self.best_step, "evaluations": len(self.history),
                "curve": [list(row) for row in self.history]}
