"""Expert segments: (start, goal, expert actions, expert states) cut from recorded episodes."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Segments:
    """``n`` expert segments of ``horizon`` model steps (``horizon * frameskip`` env steps) each.

    ``states [n, horizon + 1, S]`` are the recorded states at model-step boundaries (index 0 = start,
    index -1 = goal); ``actions [n, horizon, frameskip * A]`` the recorded env actions, concatenated per step.
    """

    states: torch.Tensor
    actions: torch.Tensor

    @property
    def starts(self) -> torch.Tensor:
        return self.states[:, 0]

    @property
    def goals(self) -> torch.Tensor:
        return self.states[:, -1]


def sample_segments(split, n: int, horizon: int, frameskip: int, generator: torch.Generator) -> Segments:
    """Draw ``n`` segments uniformly over (episode, start time) from an ``EpisodeSplit``."""
    states, actions = split.states, split.actions
    episodes, steps = actions.shape[:2]
    span = horizon * frameskip
    if steps < span:
        raise ValueError(f"episodes have {steps} env steps but a segment needs horizon x frameskip = {span}; "
                         "use a shorter horizon or a dataset with longer episodes")
    ep = torch.randint(episodes, (n,), generator=generator)
    t0 = torch.randint(steps - span + 1, (n,), generator=generator)
    offsets = torch.arange(span + 1)
    idx = t0[:, None] + offsets[None]
    seg_states = states[ep[:, None], idx][:, ::frameskip]
    seg_actions = actions[ep[:, None], idx[:, :-1]].reshape(n, horizon, frameskip * actions.shape[-1])
    return Segments(seg_states.float(), seg_actions.float())
