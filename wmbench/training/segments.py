"""Expert segments: (start, goal, expert actions, expert states) cut from recorded episodes."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Segments:
    """``n`` expert segments of ``horizon`` model steps (``horizon * frameskip`` env steps) each, after
    ``history - 1`` recorded frames (the start's frame history, `wmbench.models.history`).

    ``states [n, history - 1 + horizon + 1, S]`` are the recorded states at model-step boundaries (index
    ``history - 1`` = start, index -1 = goal); ``actions [n, horizon, frameskip * A]`` the recorded env
    actions from the start, concatenated per step.
    """

    states: torch.Tensor
    actions: torch.Tensor
    history: int = 1

    @property
    def starts(self) -> torch.Tensor:
        return self.states[:, self.history - 1]

    @property
    def goals(self) -> torch.Tensor:
        return self.states[:, -1]


def sample_segments(split, n: int, horizon: int, frameskip: int, generator: torch.Generator,
                    history: int = 1) -> Segments:
    """Draw ``n`` segments uniformly over (episode, start time) from an ``EpisodeSplit``; the start leaves
    room for ``history - 1`` frames before it."""
    states, actions = split.states, split.actions
    episodes, steps = actions.shape[:2]
    span, lead = horizon * frameskip, (history - 1) * frameskip
    if steps < span + lead:
        raise ValueError(f"episodes have {steps} env steps but a segment needs (history - 1 + horizon) x "
                         f"frameskip = {span + lead}; use a shorter horizon or a dataset with longer "
                         "episodes")
    ep = torch.randint(episodes, (n,), generator=generator)
    t0 = torch.randint(steps - span - lead + 1, (n,), generator=generator) + lead
    idx = t0[:, None] + torch.arange(-lead, span + 1)[None]
    seg_states = states[ep[:, None], idx][:, ::frameskip]
    seg_actions = actions[ep[:, None], idx[:, lead:-1]].reshape(n, horizon, frameskip * actions.shape[-1])
    return Segments(seg_states.float(), seg_actions.float(), history)
