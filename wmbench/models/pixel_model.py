"""Pixel world model: a frozen conv-autoencoder image encoder plus a residual MLP latent predictor.

As the paper freezes a pre-trained DINOv2 encoder, this model pre-trains a small convolutional autoencoder on
the dataset's frames (mean squared pixel reconstruction error, Adam, ``ae_steps`` minibatches), then freezes
it; only the latent predictor is trained by the world-model trainers. Frames are rendered from the recorded
states with the env's pure ``draw(state, image_size)``, so a dataset needs no stored pixels. The latent is the
encoder code z-normalised with train-frame statistics, so the AWM radii and planning costs have the same scale
as for the state model. ``encode(images [B, H, W, 3] uint8)`` and ``encode_states`` (renders first) give
frame latents ``[..., code_dim]``.

Frame history (`wmbench.models.history`): with ``history`` h the latent is the window of the last h
frame codes (``latent_dim = h * code_dim``), so the predictor sees motion; ``step`` predicts the newest
frame's code and shifts the window, and ``goal_weights`` weigh only the newest frame. ``from_dataset`` builds
h = 3 (DINO-WM's history); the constructor default 1 is the Markov model of earlier checkpoints.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from wmbench.models.dynamics import ResidualDynamics, feature_stats, rollout
from wmbench.models.frames import DrawsStates, unit_frames
from wmbench.models.history import newest_frame_weights


class ConvAutoencoder(nn.Module):
    """Four stride-2 conv layers to a ``code_dim`` vector, mirrored by transposed convs for reconstruction."""

    def __init__(self, image_size: int, code_dim: int, channels: int):
        super().__init__()
        if image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, got {image_size}")
        side = image_size // 16
        self.shape = (channels, side, side)
        enc: list[nn.Module] = []
        dec: list[nn.Module] = []
        for i in range(4):
            enc += [nn.Conv2d(3 if i == 0 else channels, channels, 4, 2, 1), nn.SiLU()]
            dec.append(nn.ConvTranspose2d(channels, 3 if i == 3 else channels, 4, 2, 1))
            if i < 3:
                dec.append(nn.SiLU())
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(channels * side * side, code_dim))
        self.decoder = nn.Sequential(nn.Linear(code_dim, channels * side * side), nn.SiLU(),
                                     nn.Unflatten(1, self.shape), *dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of images ``x [B, 3, S, S]`` in [0, 1]."""
        return torch.sigmoid(self.decoder(self.encoder(x)))


class PixelWorldModel(DrawsStates, nn.Module):
    """Frozen image encoder + residual latent dynamics (see the module docstring)."""

    obs_type = "pixels"

    def __init__(self, env: str, image_size: int = 64, code_dim: int = 32, channels: int = 32,
                 env_action_dim: int = 2, frameskip: int = 5, hidden: int = 256, layers: int = 2,
                 n_models: int = 1, history: int = 1):
        super().__init__()
        self.autoencoder = ConvAutoencoder(image_size, code_dim, channels).requires_grad_(False)
        self.history, self.frame_dim = int(history), int(code_dim)
        self.dynamics = ResidualDynamics(self.history * self.frame_dim, env_action_dim, frameskip, hidden,
                                         layers, n_models, self.history)
        self.env, self.frameskip, self.image_size = env, int(frameskip), int(image_size)
        self.latent_dim, self.action_dim = self.history * self.frame_dim, self.dynamics.action_dim
        self._config = {"env": env, "image_size": int(image_size), "code_dim": int(code_dim),
                        "channels": int(channels), "env_action_dim": int(env_action_dim),
                        "frameskip": self.frameskip, "hidden": int(hidden), "layers": int(layers),
                        "n_models": int(n_models), "history": self.history}
        self.metadata: dict[str, Any] = {"env": env}
        self.renderer: Any = None  # an env with ``draw``; made from ``env`` on first use
        self.register_buffer("code_mean", torch.zeros(code_dim))
        self.register_buffer("code_std", torch.ones(code_dim))

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @property
    def goal_weights(self) -> torch.Tensor | None:
        """Objective weights ``[latent_dim]``: the newest frame only (None = unweighted, for history 1)."""
        if self.history == 1:
            return None
        return newest_frame_weights(self.history, self.frame_dim, self.code_mean.device)

    @classmethod
    def from_dataset(cls, dataset: Any, env: str, frameskip: int = 5, seed: int = 0, ae_steps: int = 500,
                     ae_batch: int = 64, ae_lr: float = 1e-3, renderer: Any = None, progress: bool = True,
                     history: int = 3, device: str | torch.device = "cpu", **options: Any) -> PixelWorldModel:
        """Render the train frames, pre-train (on ``device``) and freeze the autoencoder, fit code and action
        statistics."""
        torch.manual_seed(seed)
        states, actions = dataset.train.states, dataset.train.actions
        model = cls(env, env_action_dim=actions.shape[-1], frameskip=frameskip, history=history,
                    **options).to(device)
        model.renderer = renderer
        frames = model.render(states.reshape(-1, states.shape[-1]))
        model.pretrain(frames, ae_steps, ae_batch, ae_lr, torch.Generator().manual_seed(seed), progress)
        with torch.no_grad():
            codes = torch.cat([model._code(frames[i:i + 4096]) for i in range(0, len(frames), 4096)])
        mean, std = feature_stats(codes)
        model.code_mean.copy_(mean)
        model.code_std.copy_(std)
        model.dynamics.set_action_stats(actions)
        return model

    def pretrain(self, frames: torch.Tensor, steps: int, batch: int, lr: float, generator: torch.Generator,
                 progress: bool = True) -> None:
        """Fit the autoencoder to ``frames [N, S, S, 3]`` uint8 by pixel MSE, then freeze it."""
        ae = self.autoencoder.requires_grad_(True).train()
        optimizer = torch.optim.Adam(ae.parameters(), lr=lr)
        for _ in tqdm(range(steps), desc=f"{self.env} encoder", leave=False, disable=not progress):
            x = self._float(frames[torch.randint(len(frames), (batch,), generator=generator)])
            loss = nn.functional.mse_loss(ae(x), x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        ae.requires_grad_(False).eval()

    def _float(self, images: torch.Tensor) -> torch.Tensor:
        return unit_frames(images, self.image_size, self.code_mean.device)

    def _code(self, images: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.encoder(self._float(images))

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        if obs.ndim != 4 or obs.shape[-1] != 3:
            raise ValueError(f"PixelWorldModel.encode expects uint8 images [B, H, W, 3], got "
                             f"{tuple(obs.shape)}")
        return (self._code(obs) - self.code_mean) / self.code_std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``[B, D]`` -> uint8 images ``[B, image_size, image_size, 3]`` through the frozen
        autoencoder's decoder (what the model "sees" at ``z``)."""
        x = torch.sigmoid(self.autoencoder.decoder(z * self.code_std + self.code_mean))
        return (x.permute(0, 2, 3, 1) * 255).round().to(torch.uint8)

    def encode_states(self, states: torch.Tensor) -> torch.Tensor:
        lead = states.shape[:-1]
        z = self.encode(self.render(states.reshape(-1, states.shape[-1])))
        return z.reshape(*lead, self.frame_dim)

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.dynamics(z, a)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """`ResidualDynamics.rollout` (fused without gradients), or ``step`` by ``step`` where a subclass
        overrides ``step``."""
        if type(self).step is not PixelWorldModel.step:
            return rollout(self.step, z0, actions)
        return self.dynamics.rollout(z0, actions)
