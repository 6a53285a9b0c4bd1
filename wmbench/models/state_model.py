"""State world model: latent = normalised simulator state, residual MLP dynamics.

One model step covers ``frameskip`` env steps; its action is those env actions concatenated in time order
(``action_dim = frameskip * env_action_dim``, 10-D by default). Raw actions in [-1, 1] go in and are
z-normalised inside with dataset statistics; states are z-normalised with train-split statistics, so the
latent is ``(state - mean) / std``. ``step(z, a) = z + MLP([z, a_norm])`` (mean over ``n_models`` ensemble
members).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from wmbench.models.dynamics import ResidualDynamics, feature_stats, rollout


class StateWorldModel(nn.Module):
    """Residual MLP world model on normalised states (see the module docstring)."""

    def __init__(self, env: str, state_dim: int, env_action_dim: int = 2, frameskip: int = 5,
                 hidden: int = 256, layers: int = 2, n_models: int = 1):
        super().__init__()
        self.dynamics = ResidualDynamics(state_dim, env_action_dim, frameskip, hidden, layers, n_models)
        self.env = env
        self.frameskip = int(frameskip)
        self.state_dim = self.latent_dim = int(state_dim)
        self.action_dim = self.dynamics.action_dim
        self._config = {"env": env, "state_dim": int(state_dim), "env_action_dim": int(env_action_dim),
                        "frameskip": self.frameskip, "hidden": int(hidden), "layers": int(layers),
                        "n_models": int(n_models)}
        self.metadata: dict[str, Any] = {"env": env}
        self.register_buffer("state_mean", torch.zeros(state_dim))
        self.register_buffer("state_std", torch.ones(state_dim))

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @classmethod
    def from_dataset(cls, dataset: Any, env: str, frameskip: int = 5, seed: int = 0,
                     **options: Any) -> StateWorldModel:
        """Build a model sized for ``dataset`` with normalisers fitted on its train split."""
        states, actions = dataset.train.states, dataset.train.actions
        torch.manual_seed(seed)
        model = cls(env, states.shape[-1], actions.shape[-1], frameskip, **options)
        mean, std = feature_stats(states)
        model.state_mean.copy_(mean)
        model.state_std.copy_(std)
        model.dynamics.set_action_stats(actions)
        return model

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        obs = torch.as_tensor(obs, dtype=torch.float32, device=self.state_mean.device)
        if obs.shape[-1] != self.state_dim:
            raise ValueError(f"{type(self).__name__}.encode expects states [..., {self.state_dim}], got "
                             f"{tuple(obs.shape)}")
        return (obs - self.state_mean) / self.state_std

    encode_states = encode

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents back to simulator states (the inverse of ``encode``)."""
        return z * self.state_std + self.state_mean

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.dynamics(z, a)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return rollout(self.step, z0, actions)
