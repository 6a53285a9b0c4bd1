"""Executing model-step action sequences in the true simulator."""

from __future__ import annotations

import torch


def simulate(env, starts: torch.Tensor, actions: torch.Tensor, frameskip: int) -> torch.Tensor:
    """Run each sequence from its true start; return states at model-step boundaries [B, H + 1, S].

    ``actions [B, H, frameskip * A]`` are split into ``frameskip`` env actions per model step and executed
    in order ([`wmbench_envs.base.GoalEnv.replay`][wmbench_envs.base.GoalEnv.replay]).
    """
    batch, horizon, dim = actions.shape
    env_actions = actions.detach().cpu().double().numpy().reshape(batch, horizon, frameskip, dim // frameskip)
    return torch.from_numpy(env.replay(starts.double().numpy(), env_actions)).float()
