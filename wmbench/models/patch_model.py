"""Patch world model: the DINO-WM recipe at CPU size (frozen pre-trained patch encoder, frame history, a
predictor over patch tokens, the planning cost on all patch tokens of the predicted frame).

Encoder (`PatchEncoder`): a small ViT. A frame of ``image_size`` pixels is standardised (minus the
dataset's mean frame, over one dataset-wide scale, so the static scene is zero and the moving objects carry
the signal), low-pass filtered (Gaussian, ``blur`` px; see below), cut into ``patch_size`` patches (64 px /
16 px: a 4 x 4 grid), embedded linearly, given learned position embeddings and passed through
``encoder_layers`` pre-norm transformer layers; a linear head maps every token to ``token_dim`` features. As
DINO-WM freezes a self-supervised DINOv2, the encoder is pre-trained self-supervised on frames rendered from
the dataset's states with the env's pure ``draw`` — masked autoencoding: ``mask_ratio`` of the patches enter
the transformer as a learned mask token, and a small per-token decoder reconstructs every patch's
standardised pixels from its token (mean squared error over all patches, masked and visible, so each token
describes its own patch and has to infer hidden ones from context) — and then frozen; the world-model
trainers train only the predictor. Every latent dimension (token feature x position) is z-normalised over the
train frames, so AWM radii and planning costs have the scale of the other models (normalising per token
feature over all positions instead leaves 99% of the variance in the static per-position offsets of the
position embeddings, and the moving objects almost invisible to the cost).

Latent: a frame latent is the normalised token grid, feature-major (``[token_dim, G, G]`` flattened,
``frame_dim = token_dim * G * G``, 512 at the defaults); the latent is the window of the last ``history``
frame latents, one planning step apart (`wmbench.models.history`; DINO-WM uses 3): 1,536 dims.

Predictor (`TokenPredictor`): the window's frames stacked along channels (``[history * token_dim, G,
G]``) -> a 1 x 1 convolution to ``hidden`` channels, plus a learned position bias and the projection of the
normalised frameskip actions (DINO-WM concatenates an action embedding to every token, which is the same as a
per-channel bias after a linear layer) -> ``layers`` residual 3 x 3 convolution blocks -> a 1 x 1 convolution
to the change of the newest frame's tokens. ``step`` appends the predicted frame and drops the oldest one.

Planning cost: ``goal_weights`` are 1 on the newest frame's tokens and 0 on the older frames', so the
objective is the mean squared error over all patch tokens of the predicted frame, as in DINO-WM; the goal
latent is the goal image's still window.

Blur: DINOv2's deep patch features see far beyond their patch; a small encoder trained by reconstruction does
not, so for objects much smaller than a patch (Wall's dot is 3 px) the token cost is flat once the object is
half a patch from its goal position, and planning fails even through the true dynamics (CEM, 10 iterations,
10 Wall dev tasks, open-loop, the cost of the final frame: 1 of 10 without blur, 3 of 10 with ``blur=8``).
The blur spreads each object over about 2 x ``blur`` px, so the cost falls smoothly as it approaches the goal.

Sizes: the defaults (16-px patches, 32-d tokens, predictor width 64) are what a CPU affords. The predictor
costs about 30 us per model step on one core, so CEM's 300 candidates x 5 steps cost about 45 ms per episode
and iteration; 8-px patches (an 8 x 8 grid) cost about 4x more at the same width.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from wmbench.models.dynamics import feature_stats, rollout
from wmbench.models.frames import DrawsStates, unit_frames
from wmbench.models.history import newest_frame_weights


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 1-D Gaussian of standard deviation ``sigma`` px over +-3 sigma (``[1.]`` for 0)."""
    radius = int(3 * sigma)
    if radius == 0:
        return torch.ones(1)
    kernel = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float64) ** 2 / (2 * sigma ** 2))
    return (kernel / kernel.sum()).float()


class PatchEncoder(nn.Module):
    """Images ``[B, 3, S, S]`` in [0, 1] -> patch tokens ``[B, token_dim, G, G]`` (G = S / patch_size)."""

    def __init__(self, image_size: int, patch_size: int, width: int, layers: int, heads: int, token_dim: int):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image_size {image_size} must be a multiple of patch_size {patch_size}")
        self.grid = image_size // patch_size
        self.embed = nn.Conv2d(3, width, patch_size, patch_size)
        self.position = nn.Parameter(torch.randn(1, self.grid * self.grid, width) * 0.02)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, token_dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask [B, G * G]`` (True = hidden) replaces those patches by the mask token (pre-training)."""
        tokens = self.embed(x).flatten(2).transpose(1, 2)  # [B, N, width]
        if mask is not None:
            tokens = torch.where(mask[..., None], self.mask_token.to(tokens.dtype), tokens)
        tokens = self.head(self.blocks(tokens + self.position))  # [B, N, token_dim]
        return tokens.transpose(1, 2).reshape(len(x), -1, self.grid, self.grid)


class TokenPredictor(nn.Module):
    """Window of token grids ``[B, history * token_dim, G, G]`` and normalised actions ``[B, A]`` -> the
    change of the newest frame's tokens ``[B, token_dim, G, G]`` (see the module docstring)."""

    def __init__(self, grid: int, token_dim: int, history: int, action_dim: int, hidden: int, layers: int):
        super().__init__()
        self.inp = nn.Conv2d(history * token_dim, hidden, 1)
        self.position = nn.Parameter(torch.zeros(1, hidden, grid, grid))
        self.action = nn.Linear(action_dim, hidden)
        self.blocks = nn.ModuleList(nn.Conv2d(hidden, hidden, 3, padding=1) for _ in range(layers))
        self.out = nn.Conv2d(hidden, token_dim, 1)
        nn.init.zeros_(self.out.weight)  # start as "nothing changes"
        nn.init.zeros_(self.out.bias)

    def forward(self, frames: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        x = self.inp(frames) + self.position + self.action(actions)[:, :, None, None]
        for conv in self.blocks:
            x = x + conv(nn.functional.silu(x))
        return self.out(nn.functional.silu(x))


class PatchWorldModel(DrawsStates, nn.Module):
    """Frozen pre-trained patch encoder + token predictor with frame history (see the module docstring)."""

    obs_type = "pixels"

    def __init__(self, env: str, image_size: int = 64, patch_size: int = 16, token_dim: int = 32,
                 encoder_width: int = 64, encoder_layers: int = 2, encoder_heads: int = 4, history: int = 3,
                 env_action_dim: int = 2, frameskip: int = 5, hidden: int = 64, layers: int = 2,
                 blur: float = 8.0):
        super().__init__()
        sizes = {"image_size": image_size, "patch_size": patch_size, "token_dim": token_dim,
                 "encoder_width": encoder_width, "encoder_layers": encoder_layers,
                 "encoder_heads": encoder_heads, "history": history, "env_action_dim": env_action_dim,
                 "frameskip": frameskip, "hidden": hidden}
        if min(sizes.values()) < 1 or layers < 0 or blur < 0:
            raise ValueError(f"patch world-model sizes must be >= 1, layers and blur >= 0; got {sizes}, "
                             f"layers={layers}, blur={blur}")
        self._config = {"env": env, **{k: int(v) for k, v in sizes.items()}, "layers": int(layers),
                        "blur": float(blur)}
        self.env, self.image_size, self.patch_size = env, int(image_size), int(patch_size)
        self.frameskip, self.history, self.token_dim = int(frameskip), int(history), int(token_dim)
        self.encoder = PatchEncoder(self.image_size, self.patch_size, encoder_width, encoder_layers,
                                    encoder_heads, self.token_dim).requires_grad_(False)
        self.grid = self.encoder.grid
        self.decoder = nn.Sequential(nn.Linear(self.token_dim, encoder_width), nn.GELU(),
                                     nn.Linear(encoder_width, 3 * self.patch_size ** 2)).requires_grad_(False)
        self.action_dim = self.frameskip * int(env_action_dim)
        self.predictor = TokenPredictor(self.grid, self.token_dim, self.history, self.action_dim, hidden,
                                        layers)
        self.frame_dim = self.token_dim * self.grid ** 2
        self.latent_dim = self.history * self.frame_dim
        self.metadata: dict[str, Any] = {"env": env}
        self.renderer: Any = None  # an env with ``draw``; made from ``env`` on first use
        self.register_buffer("pixel_mean", torch.zeros(3, self.image_size, self.image_size))
        self.register_buffer("pixel_scale", torch.ones(()))
        self.register_buffer("latent_mean", torch.zeros(self.frame_dim))
        self.register_buffer("latent_std", torch.ones(self.frame_dim))
        self.register_buffer("action_mean", torch.zeros(self.action_dim))
        self.register_buffer("action_std", torch.ones(self.action_dim))
        self.register_buffer("blur_kernel", gaussian_kernel(float(blur)), persistent=False)

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @property
    def goal_weights(self) -> torch.Tensor:
        """Objective weights ``[latent_dim]``: every token of the newest frame, none of the older frames."""
        return newest_frame_weights(self.history, self.frame_dim, self.latent_mean.device)

    @classmethod
    def from_dataset(cls, dataset: Any, env: str, frameskip: int = 5, seed: int = 0, mae_steps: int = 1500,
                     mae_batch: int = 64, mae_lr: float = 1e-3, mask_ratio: float = 0.5, renderer: Any = None,
                     progress: bool = True, device: str | torch.device = "cpu",
                     **options: Any) -> PatchWorldModel:
        """Render the train frames, pre-train the encoder by masked autoencoding on ``device`` and freeze it,
        fit token and action statistics."""
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
        torch.manual_seed(seed)
        states, actions = dataset.train.states, dataset.train.actions
        model = cls(env, env_action_dim=actions.shape[-1], frameskip=frameskip, **options).to(device)
        model.renderer = renderer
        frames = model.render(states.reshape(-1, states.shape[-1]))
        model.fit_pixel_stats(frames)
        model.pretrain(frames, mae_steps, mae_batch, mae_lr, mask_ratio, torch.Generator().manual_seed(seed),
                       progress)
        with torch.no_grad():
            tokens = torch.cat([model._tokens(frames[i:i + 1024]) for i in range(0, len(frames), 1024)])
        mean, std = feature_stats(tokens.flatten(1))
        model.latent_mean.copy_(mean)
        model.latent_std.copy_(std)
        a_mean, a_std = feature_stats(torch.as_tensor(actions))
        model.action_mean.copy_(a_mean.repeat(model.frameskip))
        model.action_std.copy_(a_std.repeat(model.frameskip))
        return model

    def pretrain(self, frames: torch.Tensor, steps: int, batch: int, lr: float, mask_ratio: float,
                 generator: torch.Generator, progress: bool = True) -> list[float]:
        """Masked autoencoding of ``frames [N, S, S, 3]`` uint8 for ``steps`` minibatches, then freeze the
        encoder and decoder; returns the loss history."""
        modules = nn.ModuleList([self.encoder, self.decoder]).requires_grad_(True).train()
        optimizer = torch.optim.AdamW(modules.parameters(), lr=lr, weight_decay=0.05)
        n_patches, losses = self.grid ** 2, []
        for step in tqdm(range(steps), desc=f"{self.env} patch encoder", leave=False, disable=not progress):
            for group in optimizer.param_groups:  # cosine decay to 5%
                group["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * step / max(steps, 1))))
            x = self._float(frames[torch.randint(len(frames), (batch,), generator=generator)])
            mask = torch.rand(batch, n_patches, generator=generator).to(x.device) < mask_ratio
            loss = nn.functional.mse_loss(self.reconstruct(self.encoder(x, mask)), x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        modules.requires_grad_(False).eval()
        return losses

    @torch.no_grad()
    def fit_pixel_stats(self, frames: torch.Tensor, chunk: int = 4096) -> None:
        """The encoder's input standardisation from uint8 ``frames [N, S, S, 3]``: the mean frame, and one
        scale, the root mean square deviation from it."""
        self.pixel_mean.zero_()
        self.pixel_scale.fill_(1.0)
        chunks = range(0, len(frames), chunk)
        mean = sum(self._float(frames[i:i + chunk]).double().sum(0) for i in chunks) / len(frames)
        self.pixel_mean.copy_(mean)
        square = sum(self._float(frames[i:i + chunk]).double().pow(2).mean((1, 2, 3)).sum() for i in chunks)
        self.pixel_scale.fill_(max(float(square / len(frames)) ** 0.5, 1e-3))

    def reconstruct(self, tokens: torch.Tensor) -> torch.Tensor:
        """Raw (un-normalised) tokens ``[B, token_dim, G, G]`` -> standardised images ``[B, 3, S, S]``."""
        b, p, g = len(tokens), self.patch_size, self.grid
        patches = self.decoder(tokens.flatten(2).transpose(1, 2))  # [B, N, 3 p p]
        return patches.view(b, g, g, 3, p, p).permute(0, 3, 1, 4, 2, 5).reshape(b, 3, g * p, g * p)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Frame latents ``[B, frame_dim]`` -> uint8 images ``[B, S, S, 3]`` (to look at predictions)."""
        tokens = (z * self.latent_std + self.latent_mean).view(len(z), self.token_dim, self.grid, self.grid)
        x = self.reconstruct(tokens) * self.pixel_scale + self.pixel_mean
        return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1)

    def _float(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images ``[B, H, W, 3]`` -> standardised ``[B, 3, S, S]``: (x - mean frame) / scale."""
        x = unit_frames(images, self.image_size, self.latent_mean.device)
        x = (x - self.pixel_mean) / self.pixel_scale
        if len(self.blur_kernel) == 1:
            return x
        k, r = self.blur_kernel, len(self.blur_kernel) // 2  # separable; zero (= mean frame) outside
        x = nn.functional.conv2d(x, k.view(1, 1, 1, -1).expand(3, 1, 1, -1), padding=(0, r), groups=3)
        return nn.functional.conv2d(x, k.view(1, 1, -1, 1).expand(3, 1, -1, 1), padding=(r, 0), groups=3)

    def _tokens(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(self._float(images))

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """uint8 images ``[B, H, W, 3]`` -> frame latents ``[B, frame_dim]``."""
        if obs.ndim != 4 or obs.shape[-1] != 3:
            raise ValueError(f"PatchWorldModel.encode expects uint8 images [B, H, W, 3], got "
                             f"{tuple(obs.shape)}")
        return (self._tokens(obs).flatten(1) - self.latent_mean) / self.latent_std

    def encode_states(self, states: torch.Tensor) -> torch.Tensor:
        """Simulator states ``[..., S]`` -> frame latents ``[..., frame_dim]`` (rendered first)."""
        lead = states.shape[:-1]
        z = self.encode(self.render(states.reshape(-1, states.shape[-1])))
        return z.reshape(*lead, self.frame_dim)

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Latent windows ``[B, latent_dim]``, raw actions ``[B, action_dim]`` -> the next windows."""
        if a.shape[-1] != self.action_dim or z.shape[-1] != self.latent_dim:
            raise ValueError(f"PatchWorldModel.step expects latents [B, {self.latent_dim}] and actions "
                             f"[B, {self.action_dim}], got {tuple(z.shape)} and {tuple(a.shape)}")
        frames = z.reshape(len(z), self.history * self.token_dim, self.grid, self.grid)
        delta = self.predictor(frames, (a - self.action_mean) / self.action_std)
        return torch.cat([z[:, self.frame_dim:], z[:, -self.frame_dim:] + delta.flatten(1)], dim=1)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return rollout(self.step, z0, actions)
