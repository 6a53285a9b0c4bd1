"""The simulator as a world model: the true dynamics of an env behind the world-model interface.

Latents are the raw simulator states (float64) and ``rollout`` replays every plan through the env's
``replay`` (no gradients, so only gradient-free planners apply): PointMaze and Wall step all plans at once in
numpy, PushT runs its block contacts in pymunk, and with several workers the plans are split across
processes; every path gives the states of ``GoalEnv.replay`` bit for bit. The Oracle entry plans through it;
its results are an upper bound (the planner sees the true dynamics), never a world-model result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from wmbench.envs.base import GoalEnv
from wmbench.models.replay_pool import ReplayPool


class SimulatorModel(torch.nn.Module):
    """The true dynamics of ``env`` (a short name from ``wmbench.envs.ENVS`` or a ``GoalEnv`` instance).

    One planning step is ``frameskip`` env steps; its action of dim ``frameskip * env action dim`` is the env
    actions concatenated in time order (as in the datasets).

    ``workers``: processes that replay the rollouts of one call, the calling one included (``None``: as
    many as torch has intra-op threads, which the sweep pins to ``--threads``, so the simulator uses the
    cores a learned model would). Only an env given by name is replayed in worker processes; the results do
    not depend on the number of workers.
    """

    def __init__(self, env: str | GoalEnv, frameskip: int = 5, workers: int | None = None):
        super().__init__()
        self.pool: ReplayPool | None = None
        if isinstance(env, str):
            self.pool = ReplayPool(env)
            name, env = env, self.pool.env
        elif isinstance(env, GoalEnv):
            name = type(env).__name__
        else:
            raise TypeError("SimulatorModel env must be an env short name or a GoalEnv, got "
                            f"{type(env).__name__}")
        if int(frameskip) != frameskip or frameskip < 1:
            raise ValueError(f"SimulatorModel frameskip must be an integer >= 1, got {frameskip!r}")
        if workers is not None and (int(workers) != workers or workers < 1):
            raise ValueError(f"SimulatorModel workers must be an integer >= 1 or None, got {workers!r}")
        self.workers = workers
        self.sim = env
        self.env = name
        self.frameskip = int(frameskip)
        self.env_action_dim = int(np.prod(env.action_space.shape))
        self.action_dim = self.frameskip * self.env_action_dim
        self.latent_dim = env.state_dim
        goal_dims = range(self.latent_dim) if env.goal_dims is None else env.goal_dims
        # the objective compares raw states on the dims the success test looks at
        weights = [float(d in goal_dims) for d in range(self.latent_dim)]
        self.register_buffer("goal_weights", torch.tensor(weights, dtype=torch.float64))
        self.metadata: dict[str, Any] = {"env": name, "variant": "oracle-simulator",
                                         "frameskip": self.frameskip}

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """States ``[B, S]`` -> latents ``[B, S]`` (the states themselves, float64)."""
        obs = torch.as_tensor(obs)
        if obs.ndim != 2 or obs.shape[1] != self.latent_dim:
            raise ValueError(f"SimulatorModel.encode expects states [B, {self.latent_dim}], got "
                             f"{list(obs.shape)}")
        return obs.to(torch.float64)

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """One planning step ``[B, D], [B, action_dim] -> [B, D]``."""
        return self.rollout(z, a.unsqueeze(1))[:, 1]

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Replay ``actions [N, H, action_dim]`` from states ``z0 [N, D]`` -> states ``[N, H + 1, D]``."""
        n, h, a = actions.shape
        if a != self.action_dim or z0.shape != (n, self.latent_dim):
            raise ValueError(f"SimulatorModel.rollout expects z0 [N, {self.latent_dim}] and actions [N, H, "
                             f"{self.action_dim}], got {list(z0.shape)} and {list(actions.shape)}")
        blocks = actions.detach().cpu().double().numpy().reshape(n, h, self.frameskip, self.env_action_dim)
        starts = z0.detach().cpu().double().numpy()
        if self.pool is None:
            out = self.sim.replay(starts, blocks)
        else:
            out = self.pool.replay(starts, blocks, self.workers or torch.get_num_threads())
        return torch.from_numpy(out).to(z0.device, z0.dtype)

    def close(self) -> None:
        """Stop the replay worker processes, if any were started."""
        if self.pool is not None:
            self.pool.close()
