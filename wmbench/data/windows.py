"""Training windows cut from fixed-length episodes with ``Tensor.unfold`` (no per-sample Python loops)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Windows:
    """All windows of ``history + horizon`` frames, one frame every ``frameskip`` env steps.

    ``states [N, history + horizon, S]``; ``actions [N, history + horizon - 1, frameskip * A]`` (the env
    actions between consecutive frames, concatenated in time order); ``episode [N]`` (row in the split) and
    ``start [N]`` (env step of the first frame) locate each window.
    """

    states: torch.Tensor
    actions: torch.Tensor
    episode: torch.Tensor
    start: torch.Tensor
    frameskip: int
    source_pixels: torch.Tensor | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.states.shape[0])

    def pixels_at(self, index: torch.Tensor) -> torch.Tensor:
        """Images ``[B, history + horizon, H, W, 3]`` uint8 of the windows ``index [B]`` (one gather)."""
        if self.source_pixels is None:
            raise ValueError("this dataset has no stored pixels; build a spec with obs_types "
                             "('state', 'pixels') or render states with wmbench.data.rollout.render_states")
        offsets = torch.arange(self.states.shape[1]) * self.frameskip
        return self.source_pixels[self.episode[index, None], self.start[index, None] + offsets]

    @property
    def pixels(self) -> torch.Tensor | None:
        """All window images ``[N, history + horizon, H, W, 3]`` (materialised: N x frames x H x W x 3 B)."""
        return None if self.source_pixels is None else self.pixels_at(torch.arange(len(self)))


def make_windows(states: torch.Tensor, actions: torch.Tensor, history: int, horizon: int, frameskip: int,
                 pixels: torch.Tensor | None = None) -> Windows:
    """Every window that fits in episodes ``states [E, T+1, S]`` / ``actions [E, T, A]``, at every start."""
    for arg, value in (("history", history), ("horizon", horizon), ("frameskip", frameskip)):
        if int(value) != value or value < 1:
            raise ValueError(f"{arg} must be a positive integer, got {value!r}")
    n_episodes, horizon_env, action_dim = actions.shape
    frames = history + horizon
    span = (frames - 1) * frameskip
    n_starts = horizon_env - span + 1
    if n_starts < 1:
        raise ValueError(f"a window of history {history} + horizon {horizon} frames at frameskip {frameskip} "
                         f"spans {span} env steps, longer than the episodes ({horizon_env}); reduce them")
    window_states = states.unfold(1, span + 1, 1)[..., ::frameskip]  # [E, n_starts, S, frames]
    window_states = window_states.permute(0, 1, 3, 2).reshape(n_episodes * n_starts, frames, states.shape[-1])
    window_actions = actions.unfold(1, span, 1).permute(0, 1, 3, 2)  # [E, n_starts, span, A]
    window_actions = window_actions.reshape(n_episodes * n_starts, frames - 1, frameskip * action_dim)
    return Windows(
        states=window_states, actions=window_actions,
        episode=torch.arange(n_episodes).repeat_interleave(n_starts),
        start=torch.arange(n_starts).repeat(n_episodes),
        frameskip=frameskip, source_pixels=pixels,
    )
