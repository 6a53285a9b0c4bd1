"""The world-model protocol and "module:Class" resolution for user-supplied models.

A world model is a ``torch.nn.Module`` that satisfies `WorldModel`. To plug in your own class:

1. Implement the attributes and methods below. ``config`` must be a dict of plain values (numbers, strings,
   bools, lists, dicts) such that ``cls(**config)`` rebuilds the architecture; the weights come from
   ``state_dict()``. Normalisation statistics belong in registered buffers so they travel with the weights.
2. For training with [`wmbench.training.train`][wmbench.training.train], add a classmethod
   ``from_dataset(dataset, env, frameskip, seed, **options) -> model`` that builds the model and fits
   whatever it needs from the training split (normalisers, frozen encoders). Only parameters with
   ``requires_grad`` are trained, so a frozen encoder stays frozen.
3. Pass ``model="my_pkg.my_mod:MyModel"`` to ``train``. Checkpoints store that class path plus ``config``;
   `wmbench.models.checkpoint.load` imports the class again, calls ``cls(**config)`` and loads the
   weights.
4. Optionally add ``decode(z [B, D]) -> observations``, the inverse of ``encode`` (states ``[B, S]`` or uint8
   images ``[B, H, W, 3]``, as ``obs_type`` says): ``wmbench video`` then draws the model's predicted
   trajectory; without it the video shows the nearest real frame to each prediction.

Frame history (optional, `wmbench.models.history`). A model with ``history = h > 1`` encodes single
frames (``encode`` / ``encode_states`` -> frame latents ``[..., frame_dim]``), and its latent, the one
planners, ``step``, ``rollout`` and the trainers see, is the window of its last h frame latents, one planning
step (``frameskip`` env steps) apart, oldest first, concatenated: ``latent_dim = h * frame_dim``. ``step``
drops the oldest frame and appends the predicted one. The episode loop encodes the last h observations of
each episode (the first observation repeated until there are h) and the goal observation as a still window
(repeated h times); ``goal_weights`` should then weigh only the newest frame. Training windows start h - 1
recorded frames early, so every latent has its real history. Without a ``history`` attribute a model has
history 1 (the latent is the frame latent).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch

from wmbench.registry import resolve


@runtime_checkable
class WorldModel(Protocol):
    """What planners, trainers and checkpoints rely on (see ``docs/interfaces.md``)."""

    env: str
    obs_type: str  # what encode() takes: "state" or "pixels" (uint8 images of size ``image_size``)
    frameskip: int
    action_dim: int
    latent_dim: int  # the planners' latent: ``history`` frame latents (optional attribute, default 1)
    metadata: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """Constructor keyword arguments (plain values only)."""

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """Observations (states [B, S] or uint8 images [B, H, W, 3]) -> frame latents [B, D / history]."""

    def encode_states(self, states: torch.Tensor) -> torch.Tensor:
        """Simulator states [..., S] -> frame latents [..., D / history] (pixel models render first)."""

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """One model step: latents [B, D], raw actions [B, action_dim] in [-1, 1] -> next latents [B, D]."""

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Differentiable open-loop rollout: [B, D], [B, H, action_dim] -> [B, H + 1, D] (index 0 = z0)."""


def class_path(obj: object) -> str:
    """The "module:Class" path of an object's class."""
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def resolve_class(path: str) -> type:
    """Import a model class from a "module:Class" path; ``ImportError`` naming the path on failure."""
    try:
        obj = resolve(path)
    except ValueError as exc:
        raise ImportError(f"model class {path!r}: {exc}; install the package that provides it or fix the "
                          "path") from exc
    if not isinstance(obj, type):
        raise TypeError(f"{path!r} is not a class")
    return obj
