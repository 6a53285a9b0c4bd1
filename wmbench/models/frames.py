"""Frames for the visual world models: simulator states drawn with the env's pure ``draw``, and uint8 images
as float tensors at the model's resolution."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from wmbench.registry import make_env


class DrawsStates:
    """Mixin for models with ``env``, ``image_size`` and ``renderer`` (an env with ``draw``, or None: made
    from ``env`` on first use)."""

    env: str
    image_size: int
    renderer: Any

    def render(self, states: torch.Tensor) -> torch.Tensor:
        """States ``[N, S]`` -> uint8 frames ``[N, image_size, image_size, 3]`` via the env's ``draw``."""
        if self.renderer is None:
            self.renderer = make_env(self.env)
        arr = np.asarray(torch.as_tensor(states).detach().cpu().double())
        return torch.from_numpy(np.stack([self.renderer.draw(s, self.image_size) for s in arr]))


def unit_frames(images: torch.Tensor, image_size: int, device: torch.device) -> torch.Tensor:
    """uint8 images ``[B, H, W, 3]`` -> float ``[B, 3, image_size, image_size]`` in [0, 1] on ``device``
    (area-resized when H differs)."""
    x = torch.as_tensor(images).to(device).permute(0, 3, 1, 2).float() / 255.0
    if x.shape[-1] != image_size:
        x = nn.functional.interpolate(x, size=(image_size, image_size), mode="area")
    return x
