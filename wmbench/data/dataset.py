"""Validated loading of built datasets into torch tensors, with a seeded 90/10 train/val split by episode."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wmbench.data.errors import DatasetError, rebuild_hint
from wmbench.data.manifest import MANIFEST_FILE, ContentHasher, check_files, parse_manifest
from wmbench.data.specs import DatasetSpec
from wmbench.data.store import PIXELS_FILE, SCHEMA_VERSION, STEPS_FILE, dataset_dir, read_pixels, read_steps
from wmbench.data.windows import Windows, make_windows

VAL_FRACTION = 0.1
_SPLIT_SALT = 90_10


@dataclass(frozen=True)
class NormStats:
    """Per-dimension mean and std (clamped to >= 1e-6) of states and actions."""

    state_mean: torch.Tensor
    state_std: torch.Tensor
    action_mean: torch.Tensor
    action_std: torch.Tensor


@dataclass(frozen=True)
class EpisodeSplit:
    """Episodes of one split: ``states [E, T+1, S]``, ``actions [E, T, A]`` float32, optional ``pixels``
    ``[E, T+1, H, W, 3]`` uint8; ``episodes [E]`` are the episode ids in the dataset."""

    episodes: torch.Tensor
    states: torch.Tensor
    actions: torch.Tensor
    pixels: torch.Tensor | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.episodes.shape[0])

    def windows(self, history: int, horizon: int, frameskip: int) -> Windows:
        """All training windows (see ``Windows``) at every start offset where they fit."""
        return make_windows(self.states, self.actions, history, horizon, frameskip, self.pixels)

    def stats(self) -> NormStats:
        """Mean and std of states and actions over every step of this split (``dataset.train.stats()``)."""
        states = self.states.reshape(-1, self.states.shape[-1]).double()
        actions = self.actions.reshape(-1, self.actions.shape[-1]).double()
        return NormStats(states.mean(0).float(), states.std(0).clamp_min(1e-6).float(),
                         actions.mean(0).float(), actions.std(0).clamp_min(1e-6).float())


@dataclass(frozen=True)
class Dataset:
    """A loaded, validated dataset."""

    spec: DatasetSpec
    path: Path
    content_hash: str
    manifest: dict[str, Any] = field(repr=False)
    train: EpisodeSplit
    val: EpisodeSplit


def split_episodes(n_episodes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) episode ids: a seeded permutation, 10% (at least one episode) to val."""
    order = np.random.default_rng([_SPLIT_SALT, seed]).permutation(n_episodes)
    n_val = max(1, round(VAL_FRACTION * n_episodes))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def load(name: str, size: str = "small", home: Path | str | None = None) -> Dataset:
    """Load a built dataset, validating manifest, schema version, file hashes, schema, rows and content hash.

    Any problem raises ``DatasetError`` naming the file and the command that fixes it.
    """
    directory, hint = dataset_dir(name, size, home), rebuild_hint(name, size)
    manifest, spec = parse_manifest(directory, name, size)
    check_files(directory, manifest, hint)
    n_episodes, horizon, state_dim, action_dim = (manifest[key] for key in
                                                  ("episodes", "episode_len", "state_dim", "action_dim"))
    steps_path = directory / STEPS_FILE
    raw = read_steps(steps_path, state_dim, action_dim, hint)
    rows = n_episodes * horizon
    if len(raw["episode"]) != rows or manifest["files"][STEPS_FILE].get("rows") != rows:
        raise DatasetError(f"{steps_path} has {len(raw['episode'])} rows, expected {n_episodes} episodes x "
                           f"{horizon} steps = {rows}; {hint}")
    if not (np.array_equal(raw["episode"], np.repeat(np.arange(n_episodes), horizon))
            and np.array_equal(raw["step"], np.tile(np.arange(horizon), n_episodes))):
        raise DatasetError(f"{steps_path} rows are not ordered by (episode, step); {hint}")
    states = raw["state"].reshape(n_episodes, horizon, state_dim)
    next_states = raw["next_state"].reshape(n_episodes, horizon, state_dim)
    if not np.array_equal(next_states[:, :-1], states[:, 1:]):
        raise DatasetError(f"{steps_path}: next_state does not match the following row's state; {hint}")
    arrays = {
        "states": np.concatenate([states, next_states[:, -1:]], axis=1),
        "actions": raw["action"].reshape(n_episodes, horizon, action_dim),
        "rewards": raw["reward"].reshape(n_episodes, horizon),
        "success": raw["success"].reshape(n_episodes, horizon),
    }
    if spec.pixels:
        arrays["pixels"] = read_pixels(directory / PIXELS_FILE,
                                       (n_episodes, horizon + 1, spec.image_size, spec.image_size, 3), hint)
    hasher = ContentHasher(spec, SCHEMA_VERSION)
    hasher.update(arrays)
    if hasher.hexdigest() != manifest["content_hash"]:
        raise DatasetError(f"content hash of {directory} does not match {directory / MANIFEST_FILE} (edited "
                           f"manifest or data); {hint}")

    def split(ids: np.ndarray) -> EpisodeSplit:
        pixels = arrays.get("pixels")
        return EpisodeSplit(episodes=torch.from_numpy(ids.astype(np.int64)),
                            states=torch.from_numpy(arrays["states"][ids]),
                            actions=torch.from_numpy(arrays["actions"][ids]),
                            pixels=None if pixels is None else torch.from_numpy(pixels[ids]))

    train_ids, val_ids = split_episodes(n_episodes, spec.seed)
    return Dataset(spec=spec, path=directory, content_hash=manifest["content_hash"], manifest=manifest,
                   train=split(train_ids), val=split(val_ids))
