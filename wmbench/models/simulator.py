"""The simulator as a world model: the true dynamics of an env behind the world-model interface.

A latent is the raw simulator state (float64) followed, for each of the env's angle dims, by its cosine and
sine times ``angle_scale``; ``rollout`` replays every plan from the state part through the env's ``replay``
(no gradients, so only gradient-free planners apply): PointMaze and Wall step all plans at once in numpy,
PushT runs its block contacts in pymunk, and with several workers the plans are split across processes;
every path gives the states of ``GoalEnv.replay`` bit for bit. The Oracle entry plans through it; its
results are an upper bound (the planner sees the true dynamics), never a world-model result.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from wmbench.models.replay_pool import ReplayPool
from wmbench_envs.base import GoalEnv

#: Default weight of an angle in position units per radian: one degree weighs as one position unit
#: (PushT's success test tolerates 20 units and 20 degrees alike).
ANGLE_SCALE = 180.0 / math.pi


class SimulatorModel(torch.nn.Module):
    """The true dynamics of ``env`` (a short name from ``wmbench_envs.ENVS`` or a ``GoalEnv`` instance).

    One planning step is ``frameskip`` env steps; its action of dim ``frameskip * env action dim`` is the env
    actions concatenated in time order (as in the datasets).

    Latents ``[..., S + 2 A]``: the state, then ``angle_scale * cos`` and ``angle_scale * sin`` of its ``A``
    angle dims (``env.angle_dims``). ``goal_weights`` select the dims the env's success test looks at
    (``env.goal_dims``), an angle through its cosine and sine only, so the planning cost is a squared
    distance in position units in which angles wrap around and weigh ``angle_scale`` units per radian.

    ``workers``: processes that replay the rollouts of one call, the calling one included (``None``: as
    many as torch has intra-op threads, which the sweep pins to ``--threads``, so the simulator uses the
    cores a learned model would). Only an env given by name and without a vectorized replay (PushT) is
    replayed in worker processes; the results do not depend on the number of workers.
    """

    def __init__(self, env: str | GoalEnv, frameskip: int = 5, workers: int | None = None,
                 angle_scale: float = ANGLE_SCALE):
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
        if not angle_scale > 0:
            raise ValueError(f"SimulatorModel angle_scale must be > 0, got {angle_scale!r}")
        self.workers = workers
        self.sim = env
        self.env = name
        self.frameskip = int(frameskip)
        self.env_action_dim = int(np.prod(env.action_space.shape))
        self.action_dim = self.frameskip * self.env_action_dim
        self.state_dim = env.state_dim
        self.angle_dims = list(env.angle_dims)
        self.angle_scale = float(angle_scale)
        self.latent_dim = self.state_dim + 2 * len(self.angle_dims)
        goal_dims = range(self.state_dim) if env.goal_dims is None else env.goal_dims
        weights = [float(d in goal_dims and d not in self.angle_dims) for d in range(self.state_dim)]
        weights += 2 * [float(d in goal_dims) for d in self.angle_dims]
        self.register_buffer("goal_weights", torch.tensor(weights, dtype=torch.float64))
        self.metadata: dict[str, Any] = {"env": name, "variant": "oracle-simulator",
                                         "frameskip": self.frameskip, "angle_scale": self.angle_scale}

    def latents(self, states: torch.Tensor) -> torch.Tensor:
        """States ``[..., S]`` (float64) -> latents ``[..., S + 2 A]``."""
        if not self.angle_dims:
            return states
        angles = states[..., self.angle_dims]
        return torch.cat([states, self.angle_scale * torch.cos(angles), self.angle_scale * torch.sin(angles)],
                         -1)

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """States ``[B, S]`` -> latents ``[B, S + 2 A]`` (float64, starting with the states themselves)."""
        obs = torch.as_tensor(obs)
        if obs.ndim != 2 or obs.shape[1] != self.state_dim:
            raise ValueError(f"SimulatorModel.encode expects states [B, {self.state_dim}], got "
                             f"{list(obs.shape)}")
        return self.latents(obs.to(torch.float64))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``[..., S + 2 A]`` -> states ``[..., S]`` (the states lead the latent)."""
        return z[..., :self.state_dim]

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """One planning step ``[B, D], [B, action_dim] -> [B, D]``."""
        return self.rollout(z, a.unsqueeze(1))[:, 1]

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Replay ``actions [N, H, action_dim]`` from latents ``z0 [N, D]`` -> latents ``[N, H + 1, D]``.

        The replay starts from the state part of ``z0`` (index 0 of the result is recomputed from it)."""
        n, h, a = actions.shape
        if a != self.action_dim or z0.shape != (n, self.latent_dim):
            raise ValueError(f"SimulatorModel.rollout expects z0 [N, {self.latent_dim}] and actions [N, H, "
                             f"{self.action_dim}], got {list(z0.shape)} and {list(actions.shape)}")
        blocks = actions.detach().cpu().double().numpy().reshape(n, h, self.frameskip, self.env_action_dim)
        starts = z0[:, :self.state_dim].detach().cpu().double().numpy()
        if self.pool is None:
            out = self.sim.replay(starts, blocks)
        else:
            out = self.pool.replay(starts, blocks, self.workers or torch.get_num_threads())
        return self.latents(torch.from_numpy(out)).to(z0.device, z0.dtype)

    def close(self) -> None:
        """Stop the replay worker processes, if any were started."""
        if self.pool is not None:
            self.pool.close()
