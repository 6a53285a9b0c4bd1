"""Executing model-step action sequences in the true simulator."""

from __future__ import annotations

import numpy as np
import torch


def simulate(env, starts: torch.Tensor, goals: torch.Tensor, actions: torch.Tensor,
             frameskip: int) -> torch.Tensor:
    """Run each sequence from its true start; return states at model-step boundaries [B, H + 1, S].

    ``actions [B, H, frameskip * A]`` are split into ``frameskip`` env actions per model step and executed
    in order after ``env.reset(options={"state": start, "goal": goal})``.
    """
    batch, horizon, dim = actions.shape
    env_actions = actions.detach().cpu().double().numpy().reshape(batch, horizon, frameskip, dim // frameskip)
    out = np.empty((batch, horizon + 1, starts.shape[-1]))
    for b in range(batch):
        env.reset(options={"state": starts[b].double().numpy(), "goal": goals[b].double().numpy()})
        out[b, 0] = env.get_state()
        for h in range(horizon):
            for k in range(frameskip):
                env.step(env_actions[b, h, k])
            out[b, h + 1] = env.get_state()
    return torch.from_numpy(out).float()
