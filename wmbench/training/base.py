"""Base training: teacher-forced next-latent MSE plus a short open-loop rollout term, with resumable steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from tqdm.auto import tqdm

from wmbench.models.history import frame_windows, model_history, reset_windows
from wmbench.training.config import TrainConfig

Batch = tuple[torch.Tensor, torch.Tensor]  # latents [B, H + 1, D], raw actions [B, H, action_dim]


@torch.no_grad()
def window_latents(model, split, cfg: TrainConfig) -> Batch:
    """Encode all windows of ``split``: (latents [N, H + 1, D], actions [N, H, action_dim]) on the model's
    device.

    For a model with frame history h > 1 (`wmbench.models.history`) each window starts h - 1 recorded
    frames earlier, the history of its first latent, and comes twice: with that recorded history, and as if
    the episode had been reset at its first latent's frame (history = that frame repeated), which is what the
    episode loop feeds the model before it has seen h frames (as DINO-WM's causal predictor also learns to
    predict from shorter histories). Each recorded state is encoded once and gathered into windows via
    ``Windows.episode`` / ``start`` when present (pixel models render every state, so this avoids
    re-rendering overlapping windows).
    """
    history = model_history(model)
    windows = split.windows(history, cfg.horizon, cfg.frameskip)
    actions = torch.as_tensor(windows.actions[:, history - 1:], dtype=torch.float32)
    if hasattr(windows, "episode") and hasattr(windows, "start"):
        all_frames = encode_frames(model, torch.as_tensor(split.states, dtype=torch.float32))
        offsets = torch.arange(history + cfg.horizon) * cfg.frameskip
        frames = all_frames[windows.episode[:, None], windows.start[:, None] + offsets]
    else:
        frames = encode_frames(model, torch.as_tensor(windows.states, dtype=torch.float32))
    z, actions = frame_windows(frames, history), actions.to(frames.device)
    if history == 1:
        return z, actions
    return torch.cat([z, reset_windows(frames[:, history - 1:], history)]), torch.cat([actions, actions])


@torch.no_grad()
def encode_frames(model, states: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """``model.encode_states`` over ``states [..., S]`` in chunks -> frame latents ``[..., F]``."""
    flat = states.reshape(-1, states.shape[-1])
    z = torch.cat([model.encode_states(flat[i:i + chunk]) for i in range(0, len(flat), chunk)])
    return z.reshape(*states.shape[:-1], z.shape[-1])


@torch.no_grad()
def encode_in_chunks(model, states: torch.Tensor) -> torch.Tensor:
    """Latent trajectories of state sequences ``[N, T, S]`` -> ``[N, T - h + 1, D]`` (h: the model's history).

    The first h - 1 states of each sequence are the history of its first latent; history-1 models encode
    every state.
    """
    return frame_windows(encode_frames(model, states), model_history(model))


def one_step_loss(model, z_in: torch.Tensor, a: torch.Tensor, z_target: torch.Tensor) -> torch.Tensor:
    """Teacher-forced MSE of ``step(z_in, a)`` against ``z_target`` over any leading axes."""
    lead = z_in.shape[:-1]
    pred = model.step(z_in.reshape(-1, z_in.shape[-1]), a.reshape(-1, a.shape[-1]))
    return torch.nn.functional.mse_loss(pred.reshape(*lead, -1), z_target)


def prediction_loss(model, z: torch.Tensor, a: torch.Tensor, rollout_weight: float) -> torch.Tensor:
    """One-step MSE over all transitions + ``rollout_weight`` x open-loop rollout MSE (latent space)."""
    loss = one_step_loss(model, z[:, :-1], a, z[:, 1:])
    if rollout_weight > 0 and a.shape[1] > 1:
        pred = model.rollout(z[:, 0], a)[:, 1:]
        loss = loss + rollout_weight * torch.nn.functional.mse_loss(pred, z[:, 1:])
    return loss


def sample_batch(data: Batch, batch_size: int, generator: torch.Generator) -> Batch:
    """A uniformly drawn minibatch (with replacement) of windows."""
    idx = torch.randint(len(data[0]), (batch_size,), generator=generator)
    return data[0][idx], data[1][idx]


class NonFiniteLoss(ValueError):
    """A training loss or validation value that is NaN or infinite: the model diverged or returns non-finite
    values."""

    def __init__(self, what: str, step: int, value: float):
        super().__init__(f"the {what} is {value} at step {step}")
        self.what, self.step, self.value = what, step, value


def make_optimizer(model, lr: float, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)


def run_steps(model, optimizer: torch.optim.Optimizer, generator: torch.Generator, start: int, stop: int,
              step_fn: Callable[[torch.Generator], torch.Tensor], cfg: TrainConfig,
              save_fn: Callable[[int], None] | None = None, desc: str = "train",
              progress: bool = True, lr_at: Callable[[int], float] | None = None,
              after_step: Callable[[int, float, bool], bool] | None = None) -> list[float]:
    """Optimise ``step_fn``'s loss from step ``start`` to ``stop``; checkpoint every ``cfg.checkpoint_every``.

    Returns the loss history of these steps (shorter than ``stop - start`` when stopped early).
    ``lr_at(step)`` sets the learning rate of each step (a pure function of the step, so resuming is exact).
    ``after_step(steps_done, loss, last)`` runs after every step (validation); returning True stops training.
    ``save_fn(step)`` is called at every checkpoint boundary, after ``after_step``. A non-finite loss raises
    `NonFiniteLoss` before the optimiser steps on it.
    """
    model.train()
    losses: list[float] = []
    bar = tqdm(range(start, stop), desc=desc, leave=False, dynamic_ncols=True, disable=not progress)
    for step in bar:
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
        loss = step_fn(generator)
        value = loss.item()
        if not math.isfinite(value):
            raise NonFiniteLoss("training loss", step + 1, value)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(optimizer.param_groups[0]["params"], cfg.grad_clip)
        optimizer.step()
        losses.append(value)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)
        if after_step is not None and after_step(step + 1, losses[-1], step + 1 == stop):
            break
        if save_fn is not None and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < stop:
            save_fn(step + 1)
    model.eval()
    return losses


def cosine_lr(lr: float, total: int, floor: float = 0.05) -> Callable[[int], float]:
    """Cosine decay from ``lr`` to ``floor * lr`` over ``total`` steps."""
    return lambda step: lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step / total, 1.0))))


def base_step_fn(model, data: Batch, cfg: TrainConfig) -> Callable[[torch.Generator], torch.Tensor]:
    """The base-variant loss on a fresh minibatch."""
    def step_fn(generator: torch.Generator) -> torch.Tensor:
        z, a = sample_batch(data, cfg.batch_size, generator)
        return prediction_loss(model, z, a, cfg.rollout_weight)
    return step_fn


def training_state(variant: str, step: int, complete: bool, optimizer: torch.optim.Optimizer,
                   generator: torch.Generator, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The resumable part of a checkpoint (``config`` = ``TrainConfig.for_variant(variant)``)."""
    return {"variant": variant, "step": step, "complete": complete, "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(), "config": config, **extra}
