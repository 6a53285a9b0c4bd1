"""World-model diagnostics: validation errors on expert windows and the train-test gap (paper section 6).

All errors are mean squared errors in latent space (for the state model: z-normalised state units).
The gap metric compares the model's open-loop ``horizon``-step prediction error on trajectories produced by
executing GBP plans in the simulator with its error on the expert trajectories from the same start states.
A ratio above 1 means the model is worse on the states and actions a planner produces than on expert data.
"""

from __future__ import annotations

from typing import Any

import torch

from wmbench.registry import make_env
from wmbench.training.base import encode_in_chunks, one_step_loss, window_latents
from wmbench.training.config import TrainConfig
from wmbench.training.owm import PlanFn, gbp_planner, plan_and_simulate


@torch.no_grad()
def rollout_error(model, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Per-trajectory open-loop MSE of the predicted steps: states [N, h - 1 + H + 1, S] (h - 1 history frames
    first for a history-h model), actions [N, H, A] -> [N]."""
    z = encode_in_chunks(model, states)
    pred = model.rollout(z[:, 0], actions.to(z.device))
    return ((pred[:, 1:] - z[:, 1:]) ** 2).mean(dim=(1, 2))


@torch.no_grad()
def validation_errors(model, split, cfg: TrainConfig) -> dict[str, float]:
    """One-step (teacher-forced) and open-loop ``horizon``-step MSE on all expert windows of ``split``."""
    z, a = window_latents(model, split, cfg)
    pred = model.rollout(z[:, 0], a)
    return {
        "val_one_step_mse": one_step_loss(model, z[:, :-1], a, z[:, 1:]).item(),
        "val_rollout_mse": ((pred[:, 1:] - z[:, 1:]) ** 2).mean().item(),
        "val_final_step_mse": ((pred[:, -1] - z[:, -1]) ** 2).mean().item(),
    }


def gap_metric(model, split, cfg: TrainConfig, env=None, planner: PlanFn | None = None,
               seed: int = 0) -> dict[str, float]:
    """Model rollout MSE on simulated GBP-plan trajectories vs on expert trajectories (same starts)."""
    env = make_env(model.env) if env is None else env
    planner = gbp_planner(cfg.plan_iterations) if planner is None else planner
    seg, plan_states, actions = plan_and_simulate(model, env, split, cfg.gap_episodes, cfg, planner, seed)
    expert = rollout_error(model, seg.states, seg.actions).mean().item()
    planned = rollout_error(model, plan_states, actions).mean().item()
    return {"gap_expert_mse": expert, "gap_plan_mse": planned, "gap_ratio": planned / max(expert, 1e-12)}


def diagnose(model, dataset, cfg: TrainConfig | None = None, env=None, planner: PlanFn | None = None,
                seed: int = 0) -> dict[str, Any]:
    """Validation errors on ``dataset.val`` plus the train-test gap metric (needs the simulator)."""
    cfg = TrainConfig(frameskip=model.frameskip) if cfg is None else cfg
    model.eval()
    gap = gap_metric(model, dataset.val, cfg, env, planner, seed)
    return {**validation_errors(model, dataset.val, cfg), **gap}
