"""Dataset specifications and the registry of standard expert datasets.

A spec fixes everything that determines a dataset's content: env, policy and noise mix, episode count and
length, seed and observation types. Episode ``i`` depends only on ``(seed, i)``, so a ``small`` build is an
exact prefix of the ``full`` build whenever both share the seed and episode length.

Mixes, ``(noise, probability)`` or ``(noise, probability, policy)`` per entry, one entry drawn per episode:
``noise`` is the policy's documented action-noise / random-action level in [0, 1] (``wmbench_envs``), 1 being
a random walk; ``policy`` names a data policy class in the env's expert module (default: the expert).

v0 (kept loadable and buildable, byte for byte):

- PointMaze and Wall: the reference (DINO-WM) data are random-exploration trajectories (PointMaze 2000 x 100
  "fully random", Wall 1920 x 50 random walks). v0 uses mostly high-noise episodes (half pure random walk,
  the rest the goal-directed expert with heavy noise) so that the data stay exploratory, while the
  goal-directed share carries the agent round the U-maze corners and through the Wall door.
- PushT: the reference data are replays of expert demonstrations with various noise levels (about 18,500
  episodes of 100-300 steps). v0 rolls out the scripted expert with a spread of noise levels per episode.

v0 lacks what planners exploit: its Wall actions never reach full speed (the random walk moves <= 1.8 px of
the 2 px a step allows, the expert routes round the wall), so a world model trained on it lets the dot pass
through the wall under sustained pushes. v1 (the default, ``default_dataset``) adds data policies for the
transitions the tasks need, keeping expert and random-walk shares for the task distribution:

- Wall v1 (400 / 4000 x 50): 35% ``WallPusher`` clean, 15% ``WallPusher`` at noise 0.3, 10% ``WallPusher``
  at noise 1 (uniform random actions in [-1, 1]^2), 25% expert at noise 0.2 (door passages towards the goal),
  15% the reference-like random walk (expert at noise 1). ``WallPusher`` runs at full speed into both wall
  faces (a quarter of its segments pure horizontal pushes, ``a = (+-1, 0)``), the door jambs and the
  border, and through the door. About 12% of all steps end on a wall face at full speed (v0: none).
- PointMaze v1 (400 / 4000 x 100): 30% ``PointMazeTourer`` clean, 20% ``PointMazeTourer`` at noise 0.3, 30%
  uniform random forces (expert at noise 1), 20% expert at noise 0.3. The tourer follows the expert's
  routing through successive random goals in every arm with little velocity damping, so it crosses every arm
  at speed and hits walls at speed (median speed 2.9 vs 1.4 in v0; 2 to 3 times as many steps above speed 3
  in each arm).
- PushT v1 (200 / 2000 x 100 / 200): 40% ``PushTPoker`` at noise 0.1 (random pokes from every side of the T,
  preferring nearby contacts: the block moves in about 75% of its steps vs about 40% for the expert), and
  the v0 expert spread for the rest (10% clean, 20% noise 0.1, 15% noise 0.25, 15% noise 0.5).

Full sizes are CPU-feasible: PointMaze and Wall twice the reference's episode count, PushT 2000 x 200 (400k
steps; the reference has about 3.7M).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SIZES = ("small", "full", "xl")
OBS_TYPES = ("state", "pixels")


MixEntry = tuple[float, float] | tuple[float, float, str]


def _valid_entry(entry: tuple) -> bool:
    if len(entry) not in (2, 3) or not 0.0 <= entry[0] <= 1.0 or entry[1] < 0:
        return False
    return len(entry) == 2 or (isinstance(entry[2], str) and entry[2].isidentifier())


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that determines a dataset's content (all fields go into its content hash)."""

    name: str
    version: int
    env: str  #: short env name, a key of ``wmbench_envs.ENVS``
    size: str
    n_episodes: int
    episode_len: int  #: T, env steps per episode (every episode has the same length)
    seed: int
    #: ((noise, probability), ...) or ((noise, probability, policy), ...), one entry drawn per episode: the
    #: env's expert, or the named data policy of the expert's module, acting at that noise level
    noise_mix: tuple[MixEntry, ...]
    obs_types: tuple[str, ...] = ("state",)  #: add "pixels" to materialise images at build time
    image_size: int = 64  #: side of the materialised images (only with "pixels")

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"DatasetSpec.size must be one of {SIZES}, got {self.size!r}")
        if self.n_episodes < 2:
            raise ValueError(f"DatasetSpec.n_episodes must be >= 2 (train and val), got {self.n_episodes}")
        if self.episode_len < 1:
            raise ValueError(f"DatasetSpec.episode_len must be >= 1, got {self.episode_len}")
        if not self.noise_mix or not all(_valid_entry(entry) for entry in self.noise_mix):
            raise ValueError(f"DatasetSpec.noise_mix needs (noise in [0, 1], probability >= 0[, policy class "
                             f"name]) entries, got {self.noise_mix}")
        if abs(sum(entry[1] for entry in self.noise_mix) - 1.0) > 1e-9:
            raise ValueError(f"DatasetSpec.noise_mix probabilities must sum to 1, got {self.noise_mix}")
        if "state" not in self.obs_types or not set(self.obs_types) <= set(OBS_TYPES):
            raise ValueError(f"DatasetSpec.obs_types must contain 'state' and only {OBS_TYPES}, "
                             f"got {self.obs_types}")
        if self.image_size < 8:
            raise ValueError(f"DatasetSpec.image_size must be >= 8, got {self.image_size}")

    @property
    def pixels(self) -> bool:
        return "pixels" in self.obs_types

    @property
    def mix(self) -> str:
        """The data mix in words, share of episodes per data policy and noise level, e.g. ``"expert 60%
        (noise 0: 10%, 0.1: 20%, ...), PushTPoker 40% (noise 0.1)"``; the name ``*-expert-*`` is historical
        (v1 is mostly not the clean expert)."""
        shares: dict[str, list[tuple[float, float]]] = {}
        for noise, probability, *policy in self.noise_mix:
            shares.setdefault(policy[0] if policy else "expert", []).append((noise, probability))
        parts = []
        for policy, levels in shares.items():
            noises = ", ".join(f"{noise:g}: {probability:.0%}" for noise, probability in levels)
            detail = f"noise {levels[0][0]:g}" if len(levels) == 1 else f"noise {noises}"
            parts.append(f"{policy} {sum(p for _, p in levels):.0%} ({detail})")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSpec:
        data = dict(data)
        data["noise_mix"] = tuple(tuple(pair) for pair in data["noise_mix"])
        data["obs_types"] = tuple(data["obs_types"])
        return cls(**data)


def _specs(name: str, env: str, mix: tuple[MixEntry, ...], small: tuple[int, int], full: tuple[int, int],
           version: int = 0, xl: tuple[int, int] | None = None) -> dict[str, DatasetSpec]:
    sizes = {"small": small, "full": full, **({"xl": xl} if xl else {})}
    return {size: DatasetSpec(name=name, version=version, env=env, size=size, n_episodes=n, episode_len=t,
                              seed=0, noise_mix=mix)
            for size, (n, t) in sizes.items()}


_EXPLORE_MIX = ((1.0, 0.5), (0.6, 0.3), (0.3, 0.2))
_REPLAY_MIX = ((0.0, 0.1), (0.1, 0.3), (0.25, 0.3), (0.5, 0.3))
_POINTMAZE_V1_MIX = ((0.0, 0.3, "PointMazeTourer"), (0.3, 0.2, "PointMazeTourer"), (1.0, 0.3), (0.3, 0.2))
_PUSHT_V1_MIX = ((0.1, 0.4, "PushTPoker"), (0.0, 0.1), (0.1, 0.2), (0.25, 0.15), (0.5, 0.15))
_WALL_V1_MIX = ((0.0, 0.35, "WallPusher"), (0.3, 0.15, "WallPusher"), (1.0, 0.1, "WallPusher"), (0.2, 0.25),
                (1.0, 0.15))

#: name -> size -> spec. Small sizes build in seconds on one core; full sizes match the reference scale
#: (PointMaze 2000 x 100, Wall 1920 x 50) or a CPU-feasible equivalent (PushT 2000 x 200). PushT v1 also has
#: ``xl`` (10000 x 200, about half the reference's episodes; ``full`` is its prefix) for the scaling study.
DATASETS: dict[str, dict[str, DatasetSpec]] = {
    "pointmaze-expert-v0": _specs("pointmaze-expert-v0", "pointmaze", _EXPLORE_MIX, (200, 100), (2000, 100)),
    "pusht-expert-v0": _specs("pusht-expert-v0", "pusht", _REPLAY_MIX, (100, 100), (2000, 200)),
    "wall-expert-v0": _specs("wall-expert-v0", "wall", _EXPLORE_MIX, (200, 50), (1920, 50)),
    "pointmaze-expert-v1": _specs("pointmaze-expert-v1", "pointmaze", _POINTMAZE_V1_MIX, (400, 100),
                                  (4000, 100), version=1),
    "pusht-expert-v1": _specs("pusht-expert-v1", "pusht", _PUSHT_V1_MIX, (200, 100), (2000, 200), version=1,
                               xl=(10000, 200)),
    "wall-expert-v1": _specs("wall-expert-v1", "wall", _WALL_V1_MIX, (400, 50), (4000, 50), version=1),
}
#: Version of the datasets ``default_dataset`` names (training, presets and benchmarks use it).
DEFAULT_VERSION = 1


def default_dataset(env: str) -> str:
    """The standard dataset of a short env name, e.g. ``wall-expert-v1``."""
    return f"{env}-expert-v{DEFAULT_VERSION}"


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
