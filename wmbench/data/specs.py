"""Dataset specifications and the registry of standard expert datasets.

A spec fixes everything that determines a dataset's content: env, expert noise mix, episode count and
length, seed and observation types. Episode ``i`` depends only on ``(seed, i)``, so a ``small`` build is an
exact prefix of the ``full`` build whenever both share the seed and episode length (PointMaze, Wall).

Noise mixes, ``(expert noise, probability)`` per episode; ``noise`` is the expert's documented action-noise
/ random-action level in [0, 1] (``wmbench.envs``), 1 being a pure random walk:

- PointMaze and Wall: the reference (DINO-WM) data are random-exploration trajectories (PointMaze 2000 x 100
"fully random", Wall 1920 x 50 random walks). We use mostly high-noise episodes (half pure random walk, the
rest a goal-directed expert with heavy noise) so that the data stay exploratory, while the goal-directed
share carries the agent round the U-maze corners and through the Wall door, which pure random walks from a
random start rarely do in 50-100 steps; a world model planned through needs those transitions.
- PushT: the reference data are replays of expert demonstrations with various noise levels (about 18,500
  episodes of 100-300 steps). We roll out the scripted expert with a spread of noise levels per episode,
  from clean to strongly perturbed. The full size is a CPU-feasible 2,000 x 200 (400k steps; the reference
  has about 3.7M).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SIZES = ("small", "full")
OBS_TYPES = ("state", "pixels")


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that determines a dataset's content (all fields go into its content hash)."""

    name: str
    version: int
    env: str  #: short env name, a key of ``wmbench.envs.ENVS``
    size: str
    n_episodes: int
    episode_len: int  #: T, env steps per episode (every episode has the same length)
    seed: int
    noise_mix: tuple[tuple[float, float], ...]  #: ((expert noise, probability), ...) drawn per episode
    obs_types: tuple[str, ...] = ("state",)  #: add "pixels" to materialise images at build time
    image_size: int = 64  #: side of the materialised images (only with "pixels")

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"DatasetSpec.size must be one of {SIZES}, got {self.size!r}")
        if self.n_episodes < 2:
            raise ValueError(f"DatasetSpec.n_episodes must be >= 2 (train and val), got {self.n_episodes}")
        if self.episode_len < 1:
            raise ValueError(f"DatasetSpec.episode_len must be >= 1, got {self.episode_len}")
        if not self.noise_mix or any(not 0.0 <= n <= 1.0 or p < 0 for n, p in self.noise_mix):
            raise ValueError(f"DatasetSpec.noise_mix needs (noise in [0, 1], probability >= 0) pairs, "
                             f"got {self.noise_mix}")
        if abs(sum(p for _, p in self.noise_mix) - 1.0) > 1e-9:
            raise ValueError(f"DatasetSpec.noise_mix probabilities must sum to 1, got {self.noise_mix}")
        if "state" not in self.obs_types or not set(self.obs_types) <= set(OBS_TYPES):
            raise ValueError(f"DatasetSpec.obs_types must contain 'state' and only {OBS_TYPES}, "
                             f"got {self.obs_types}")
        if self.image_size < 8:
            raise ValueError(f"DatasetSpec.image_size must be >= 8, got {self.image_size}")

    @property
    def pixels(self) -> bool:
        return "pixels" in self.obs_types

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSpec:
        data = dict(data)
        data["noise_mix"] = tuple(tuple(pair) for pair in data["noise_mix"])
        data["obs_types"] = tuple(data["obs_types"])
        return cls(**data)


def _specs(name: str, env: str, mix: tuple[tuple[float, float], ...],
           small: tuple[int, int], full: tuple[int, int]) -> dict[str, DatasetSpec]:
    return {size: DatasetSpec(name=name, version=0, env=env, size=size, n_episodes=n, episode_len=t, seed=0,
                              noise_mix=mix)
            for size, (n, t) in (("small", small), ("full", full))}


_EXPLORE_MIX = ((1.0, 0.5), (0.6, 0.3), (0.3, 0.2))
_REPLAY_MIX = ((0.0, 0.1), (0.1, 0.3), (0.25, 0.3), (0.5, 0.3))

#: name -> size -> spec. Small sizes build in seconds on one core; full sizes match the reference scale
#: (PointMaze 2000 x 100, Wall 1920 x 50) or a CPU-feasible equivalent (PushT 2000 x 200).
DATASETS: dict[str, dict[str, DatasetSpec]] = {
    "pointmaze-expert-v0": _specs("pointmaze-expert-v0", "pointmaze", _EXPLORE_MIX, (200, 100), (2000, 100)),
    "pusht-expert-v0": _specs("pusht-expert-v0", "pusht", _REPLAY_MIX, (100, 100), (2000, 200)),
    "wall-expert-v0": _specs("wall-expert-v0", "wall", _EXPLORE_MIX, (200, 50), (1920, 50)),
}


def list_datasets() -> list[str]:
    """Names of the registered datasets."""
    return sorted(DATASETS)


def get_spec(name: str, size: str = "small") -> DatasetSpec:
    """The registered spec of ``name`` at ``size``; clear error for unknown names or sizes."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(list_datasets())}")
    if size not in DATASETS[name]:
        raise KeyError(f"unknown size {size!r} for dataset {name!r}; sizes: {', '.join(DATASETS[name])}")
    return DATASETS[name][size]
