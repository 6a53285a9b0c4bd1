"""Frame history: the latent of a history-``h`` world model is its last ``h`` frame latents, concatenated.

A model with ``history = h`` encodes single frames (``encode`` / ``encode_states`` -> frame latents
``[..., frame_dim]``); the latent that planners and trainers see is the window of the ``h`` most recent frame
latents, one planning step (``frameskip`` env steps) apart, oldest first, flattened to ``[..., h *
frame_dim]``. ``step`` shifts the window by one frame and appends the predicted frame. Before the first
observation of an episode the window repeats that observation (a still scene); a goal is a still window of the
goal frame. Models without a ``history`` attribute have history 1 (the latent is the frame latent).
"""

from __future__ import annotations

from typing import Any

import torch


def model_history(model: Any) -> int:
    """Frames per latent: ``model.history`` (1 when the model has none)."""
    history = int(getattr(model, "history", 1))
    if history < 1:
        raise ValueError(f"{type(model).__name__}.history must be >= 1, got {history}")
    return history


def frame_windows(frames: torch.Tensor, history: int) -> torch.Tensor:
    """Sliding windows of frame latents ``[N, T, F]`` -> latents ``[N, T - history + 1, history * F]``.

    Latent ``k`` is frames ``k .. k + history - 1`` (oldest first), so the first ``history - 1`` frames are
    the history of the first latent.
    """
    n, t, f = frames.shape
    if t < history:
        raise ValueError(f"a history-{history} latent needs at least {history} frames, got {t}")
    if history == 1:
        return frames
    windows = frames.unfold(1, history, 1)  # [N, T - h + 1, F, h]
    return windows.transpose(2, 3).reshape(n, t - history + 1, history * f)


def reset_windows(frames: torch.Tensor, history: int) -> torch.Tensor:
    """Latents ``[N, T, history * F]`` of frame latents ``[N, T, F]`` as if each episode had been reset at its
    frame 0: the history before it is frame 0 repeated, as the episode loop feeds a model after a reset."""
    padding = frames[:, :1].expand(-1, history - 1, -1)
    return frame_windows(torch.cat([padding, frames], 1), history)


def still_window(frame: torch.Tensor, history: int) -> torch.Tensor:
    """Frame latents ``[..., F]`` -> the latent of a still scene ``[..., history * F]`` (frame repeated)."""
    return frame.repeat(*([1] * (frame.ndim - 1)), history)


def newest_frame_weights(history: int, frame_dim: int, device: torch.device | str | None = None
                         ) -> torch.Tensor:
    """Objective weights ``[history * frame_dim]``: 1 on the newest frame's dims, 0 on the older frames'."""
    weights = torch.zeros(history * frame_dim, device=device)
    weights[-frame_dim:] = 1.0
    return weights
