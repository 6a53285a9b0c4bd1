"""Export a built dataset to the Farama Minari format (``wmbench data export NAME --format minari``).

The Minari dataset id is ``wmbench/ENV/KIND[-SIZE]-vVERSION``: ``pusht-expert-v0`` at size ``full`` becomes
``wmbench/pusht/expert-v0`` and at size ``small`` ``wmbench/pusht/expert-small-v0``. Each episode keeps its
steps: observations are the ``T + 1`` simulator states (float32, the env's ``obs_type="state"``
observations), actions the ``T`` actions as applied, rewards the recorded ``-state_distance`` to the
episode's goal; episodes end truncated (fixed length), never terminated. Each episode's ``infos`` carry,
at each of its ``T + 1`` observations, its goal ``goal_state`` (float64, as in the env's ``info``) and its
data policy, the ``noise_mix`` entry it was drawn with: ``policy`` (the class name in the env's expert
module), ``policy_noise`` (its noise level) and ``policy_seed`` (its seed). Its Minari ``seed`` is the one its
env was reset with: ``env.reset(seed=seed)`` restores its start and goal. The dataset's env spec ends
episodes at ``T`` steps, as the data do; its evaluation env is the registered env as is. Pixels are a pure
function of the state: render them with the env's ``draw(state, size)``.

Minari is the optional ``export`` extra, imported only here.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium.envs.registration import EnvSpec

from wmbench.data.errors import DatasetError, rebuild_hint
from wmbench.data.rollout import episode_setup, mix_policy
from wmbench.data.specs import DatasetSpec
from wmbench.data.store import STEPS_FILE, read_steps
from wmbench.registry import env_entries, resolve
from wmbench_envs import ENVS

#: Export formats (``wmbench data export --format``).
FORMATS = ("minari",)
NAMESPACE = "wmbench"
#: Minari's per-namespace metadata file.
NAMESPACE_FILE = "namespace_metadata.json"


def minari_dataset_id(spec: DatasetSpec) -> str:
    """The Minari id of a dataset spec, e.g. ``wmbench/pusht/expert-small-v0``."""
    kind = spec.name.removeprefix(f"{spec.env}-").removesuffix(f"-v{spec.version}")
    size = "" if spec.size == "full" else f"-{spec.size}"
    return f"{NAMESPACE}/{spec.env}/{kind}{size}-v{spec.version}"


def _minari() -> Any:
    try:
        import minari
    except ImportError:
        raise RuntimeError("Minari export needs the optional 'export' extra: pip install 'wmbench[export]'"
                           ) from None
    return minari


def _episodes(directory: Path, spec: DatasetSpec, manifest: dict[str, Any]) -> dict[str, Any]:
    """Episodes in id order: ``states [E, T+1, S]``, ``actions [E, T, A]``, ``rewards [E, T]`` and their
    ``setups`` (``_setups``)."""
    n, horizon, s, a = (manifest[key] for key in ("episodes", "episode_len", "state_dim", "action_dim"))
    raw = read_steps(directory / STEPS_FILE, s, a, rebuild_hint(spec.name, spec.size))
    states = raw["state"].reshape(n, horizon, s)
    last = raw["next_state"].reshape(n, horizon, s)[:, -1:]
    return {"states": np.concatenate([states, last], axis=1), "actions": raw["action"].reshape(n, horizon, a),
            "rewards": raw["reward"].reshape(n, horizon), "setups": _setups(spec, states[:, 0])}


def _setups(spec: DatasetSpec, starts: np.ndarray) -> list[dict[str, Any]]:
    """Each episode's reset seed, goal and data policy, drawn again from the spec: the dataset does not store
    them, but episode ``i`` is a pure function of ``(spec.seed, i)``. The redrawn start must be the stored
    one, or the dataset was built by other code."""
    env_entry, expert_entry = env_entries(spec.env)
    env = resolve(env_entry)(obs_type="state")
    setups = []
    for i, start in enumerate(starts):
        setup = episode_setup(spec, i)
        _, info = env.reset(seed=setup.env_seed)
        if not np.array_equal(info["state"].astype(np.float32), start):
            raise DatasetError(f"episode {i} of {spec.name} ({spec.size}) does not start where its spec puts "
                               f"it: built by another version of the {spec.env} env or its data policies; "
                               f"{rebuild_hint(spec.name, spec.size)}")
        entry = spec.noise_mix[setup.mix_index]
        setups.append({"seed": setup.env_seed, "goal_state": info["goal_state"],
                       "policy": mix_policy(expert_entry, entry).__name__, "policy_noise": float(entry[0]),
                       "policy_seed": setup.policy_seed})
    return setups


def _buffers(episodes: dict[str, Any]) -> list[Any]:
    from minari.data_collector import EpisodeBuffer

    horizon = episodes["actions"].shape[1]
    truncations = np.zeros(horizon, dtype=bool)
    truncations[-1] = True
    return [EpisodeBuffer(id=i, seed=setup["seed"], observations=episodes["states"][i],
                          actions=episodes["actions"][i], rewards=episodes["rewards"][i],
                          terminations=np.zeros(horizon, dtype=bool), truncations=truncations,
                          infos=_infos(setup, horizon + 1))
            for i, setup in enumerate(episodes["setups"])]


def _infos(setup: dict[str, Any], length: int) -> dict[str, Any]:
    """An episode's per-observation ``infos``: its goal and data policy at each of its ``length`` steps."""
    # scalars as lists: Minari's arrow storage writes 1-D arrays that it cannot read back
    scalars = {key: [setup[key]] * length for key in ("policy", "policy_noise", "policy_seed")}
    return {"goal_state": np.tile(setup["goal_state"], (length, 1)), **scalars}


def _env_spec(spec: DatasetSpec) -> EnvSpec:
    """The registered env's spec with the data's episode length as its step limit."""
    return dataclasses.replace(gymnasium.spec(ENVS[spec.env][0]), max_episode_steps=spec.episode_len)


@contextmanager
def _minari_root(path: str) -> Iterator[None]:
    """Point Minari's datasets root (``MINARI_DATASETS_PATH``, its only setting for it) at ``path``."""
    previous = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = path
    try:
        yield
    finally:
        if previous is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = previous


def _description(spec: DatasetSpec) -> str:
    return (f"wmbench dataset {spec.name} (size {spec.size}): {spec.n_episodes} episodes of "
            f"{spec.episode_len} steps of the {spec.env} data policies drawn from the (noise, probability[, "
            f"policy]) mix {list(spec.noise_mix)} (default policy: the scripted expert), seed {spec.seed}. "
            "Observations are simulator states; rewards are minus the state distance to the episode's goal. "
            "Each episode's infos hold its goal (goal_state) and data policy (policy, policy_noise); its "
            "seed resets the env to its start and goal. Render pixels with the env's draw(state, size).")


def export_minari(name: str, out_dir: str | Path, size: str = "small", *, home: str | Path | None = None,
                  force: bool = False) -> Path:
    """Write dataset ``name`` at ``size`` as a Minari dataset under the Minari root ``out_dir``; returns its
    directory ``out_dir/wmbench/ENV/KIND[-SIZE]-vN``.

    Read it back with ``MINARI_DATASETS_PATH=out_dir`` and ``minari.load_dataset(id)``. The dataset is
    validated (hashes) before export and written into a temporary root first, so ``out_dir`` never holds a
    partial dataset. An existing dataset of the same id is an error unless ``force``.
    """
    from wmbench.data.dataset import load  # torch, only when exporting

    minari = _minari()
    dataset = load(name, size, home)
    spec, out_dir = dataset.spec, Path(out_dir)
    dataset_id = minari_dataset_id(spec)
    target = out_dir / dataset_id
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"--out {out_dir} is a file, not a directory; choose a directory")
    if target.exists() and not force:
        raise ValueError(f"{target} already exists; pass --force to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)
    env_id = ENVS[spec.env][0]
    episodes = _buffers(_episodes(dataset.path, spec, dataset.manifest))
    root = out_dir.absolute()  # Minari joins a relative root onto itself
    with tempfile.TemporaryDirectory(prefix=".wmbench-export-", dir=root) as tmp, _minari_root(tmp), \
            warnings.catch_warnings():
        for field in ("code_permalink", "author_email"):  # none to give
            warnings.filterwarnings("ignore", message=f"`{field}` is set to None")
        minari.create_dataset_from_buffers(
            dataset_id, episodes, env=_env_spec(spec), eval_env=env_id, algorithm_name=f"wmbench {spec.env} "
            "data policies", author="wmbench", description=_description(spec), requirements=["wmbench"],
            data_format="arrow")
        parts = dataset_id.split("/")
        for depth in range(1, len(parts)):  # Minari's namespace markers, kept if already there
            marker = Path(*parts[:depth], NAMESPACE_FILE)
            (out_dir / marker).parent.mkdir(parents=True, exist_ok=True)
            if not (out_dir / marker).exists():
                shutil.copyfile(Path(tmp) / marker, out_dir / marker)
        if target.exists():
            shutil.rmtree(target)
        os.replace(Path(tmp) / dataset_id, target)
    return target
