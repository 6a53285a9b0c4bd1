"""State world model: latent = normalised simulator state, residual MLP dynamics.

One model step covers ``frameskip`` env steps; its action is those env actions concatenated in time order
(``action_dim = frameskip * env_action_dim``, 10-D by default). Raw actions in [-1, 1] go in and are
z-normalised inside with dataset statistics. The latent is the z-normalised (train-split statistics) state
features: the state with its angle dims (the env's ``angle_dims``, e.g. PushT's block angle) replaced by
their cosine and sine, appended last, so a goal across the 0/2pi seam is near. ``step(z, a) = z +
MLP([z, a_norm])`` (mean over ``n_models`` ensemble members). ``goal_weights`` marks the latent dims of the
env's ``goal_dims`` (what its success test looks at); the planning objective weighs only those, as a visual
objective cannot see velocities either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from wmbench.models.dynamics import ResidualDynamics, feature_stats, rollout
from wmbench.registry import env_classes
from wmbench_envs import ENVS


class StateWorldModel(nn.Module):
    """Residual MLP world model on normalised states (see the module docstring)."""

    obs_type = "state"

    def __init__(self, env: str, state_dim: int, env_action_dim: int = 2, frameskip: int = 5,
                 hidden: int = 256, layers: int = 2, n_models: int = 1, angle_dims: Sequence[int] = (),
                 goal_dims: Sequence[int] | None = None):
        super().__init__()
        self.env = env
        self.frameskip = int(frameskip)
        self.state_dim = int(state_dim)
        self.angle_dims = [int(d) for d in angle_dims]
        self.plain_dims = [d for d in range(self.state_dim) if d not in self.angle_dims]
        self.latent_dim = self.state_dim + len(self.angle_dims)
        self.dynamics = ResidualDynamics(self.latent_dim, env_action_dim, frameskip, hidden, layers, n_models)
        self.action_dim = self.dynamics.action_dim
        goal = set(range(self.state_dim) if goal_dims is None else goal_dims)
        weights = [float(d in goal) for d in self.plain_dims + self.angle_dims + self.angle_dims]
        self._config = {"env": env, "state_dim": self.state_dim, "env_action_dim": int(env_action_dim),
                        "frameskip": self.frameskip, "hidden": int(hidden), "layers": int(layers),
                        "n_models": int(n_models), "angle_dims": self.angle_dims,
                        "goal_dims": None if goal_dims is None else sorted(goal)}
        self.metadata: dict[str, Any] = {"env": env}
        self.register_buffer("state_mean", torch.zeros(self.latent_dim))
        self.register_buffer("state_std", torch.ones(self.latent_dim))
        self.register_buffer("goal_weights", torch.tensor(weights))

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @classmethod
    def from_dataset(cls, dataset: Any, env: str, frameskip: int = 5, seed: int = 0,
                     **options: Any) -> StateWorldModel:
        """Build a model sized for ``dataset`` with normalisers fitted on its train split; angle and goal dims
        come from the env class (``wmbench_envs.ENVS``) unless given in ``options``."""
        states, actions = dataset.train.states, dataset.train.actions
        torch.manual_seed(seed)
        if env in ENVS:
            env_cls = env_classes(env)[0]
            options = {"angle_dims": env_cls.angle_dims, "goal_dims": env_cls.goal_dims, **options}
        model = cls(env, states.shape[-1], actions.shape[-1], frameskip, **options)
        mean, std = feature_stats(model.features(states))
        model.state_mean.copy_(mean)
        model.state_std.copy_(std)
        model.dynamics.set_action_stats(actions)
        return model

    def features(self, states: torch.Tensor) -> torch.Tensor:
        """States ``[..., S]`` -> un-normalised latent features (angles as cos, sin; appended last)."""
        if not self.angle_dims:
            return states
        angles = states[..., self.angle_dims]
        return torch.cat([states[..., self.plain_dims], torch.cos(angles), torch.sin(angles)], -1)

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        obs = torch.as_tensor(obs, dtype=torch.float32, device=self.state_mean.device)
        if obs.shape[-1] != self.state_dim:
            raise ValueError(f"{type(self).__name__}.encode expects states [..., {self.state_dim}], got "
                             f"{tuple(obs.shape)}")
        return (self.features(obs) - self.state_mean) / self.state_std

    encode_states = encode

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``[..., D]`` -> states ``[..., S]``, the inverse of ``encode`` (angles from cos, sin)."""
        f = z * self.state_std + self.state_mean
        n, k = len(self.plain_dims), len(self.angle_dims)
        states = f.new_empty(*f.shape[:-1], self.state_dim)
        states[..., self.plain_dims] = f[..., :n]
        states[..., self.angle_dims] = torch.atan2(f[..., n + k:], f[..., n:n + k]) % (2 * torch.pi)
        return states

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.dynamics(z, a)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """`ResidualDynamics.rollout` (fused without gradients), or ``step`` by ``step`` where a subclass
        overrides ``step``."""
        if type(self).step is not StateWorldModel.step:
            return rollout(self.step, z0, actions)
        return self.dynamics.rollout(z0, actions)
