"""A world-model plugin: linear residual dynamics ``z' = z + W [z, a] + b`` on z-normalised states.

Train: ``PYTHONPATH=examples wmbench train wall --model linear_world_model:LinearWorldModel``; plan through
it: ``wmbench eval ... --model linear_world_model:LinearWorldModel``. See ``wmbench/models/protocol.py``.
"""

import torch
from torch import nn


class LinearWorldModel(nn.Module):
    obs_type = "state"  # encode() takes simulator states

    def __init__(self, env: str, state_dim: int, env_action_dim: int = 2, frameskip: int = 5):
        super().__init__()
        self.env, self.frameskip, self.latent_dim = env, frameskip, state_dim
        self.action_dim = frameskip * env_action_dim  # one model step = frameskip env actions
        self.config = {"env": env, "state_dim": state_dim, "env_action_dim": env_action_dim,
                       "frameskip": frameskip}  # cls(**config) rebuilds it from a checkpoint
        self.metadata = {"env": env}
        self.linear = nn.Linear(state_dim + self.action_dim, state_dim)
        self.register_buffer("mean", torch.zeros(state_dim))
        self.register_buffer("std", torch.ones(state_dim))

    @classmethod
    def from_dataset(cls, dataset, env, frameskip=5, seed=0, **options):
        torch.manual_seed(seed)
        states = dataset.train.states.flatten(0, 1)
        model = cls(env, states.shape[-1], dataset.train.actions.shape[-1], frameskip)
        model.mean.copy_(states.mean(0))
        model.std.copy_(states.std(0).clamp_min(1e-6))
        return model

    def encode(self, obs):
        return (torch.as_tensor(obs, dtype=torch.float32, device=self.mean.device) - self.mean) / self.std

    encode_states = encode

    def decode(self, z):  # optional: lets `wmbench video` draw the predicted states
        return z * self.std + self.mean

    def step(self, z, a):
        return z + self.linear(torch.cat([z, a], dim=-1))

    def rollout(self, z0, actions):
        z = [z0]
        for t in range(actions.shape[1]):
            z.append(self.step(z[-1], actions[:, t]))
        return torch.stack(z, dim=1)
