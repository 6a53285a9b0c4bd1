"""Export a built dataset to the Farama Minari format (``wmbench data export NAME --format minari``).

The Minari dataset id is ``wmbench/ENV/KIND[-SIZE]-vVERSION``: ``pusht-expert-v0`` at size ``full`` becomes
``wmbench/pusht/expert-v0`` and at size ``small`` ``wmbench/pusht/expert-small-v0``. Each episode keeps its
steps: observations are the ``T + 1`` simulator states (float32, the env's ``obs_type="state"``
observations), actions the ``T`` actions as applied, rewards the recorded ``-state_distance`` to the
episode's goal; episodes end truncated (fixed length), never terminated. Goals are not part of the dataset.
Pixels are a pure function of the state: render them with the env's ``draw(state, size)``.

Minari is the optional ``export`` extra, imported only here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from wmbench.data.errors import rebuild_hint
from wmbench.data.specs import DatasetSpec
from wmbench.data.store import STEPS_FILE, read_steps
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


def _episodes(directory: Path, spec: DatasetSpec, manifest: dict[str, Any]) -> dict[str, np.ndarray]:
    """Episodes in id order: ``states [E, T+1, S]``, ``actions [E, T, A]``, ``rewards [E, T]``."""
    n, horizon, s, a = (manifest[key] for key in ("episodes", "episode_len", "state_dim", "action_dim"))
    raw = read_steps(directory / STEPS_FILE, s, a, rebuild_hint(spec.name, spec.size))
    states = raw["state"].reshape(n, horizon, s)
    last = raw["next_state"].reshape(n, horizon, s)[:, -1:]
    return {"states": np.concatenate([states, last], axis=1), "actions": raw["action"].reshape(n, horizon, a),
            "rewards": raw["reward"].reshape(n, horizon)}


def _buffers(episodes: dict[str, np.ndarray]) -> list[Any]:
    from minari.data_collector import EpisodeBuffer

    horizon = episodes["actions"].shape[1]
    truncations = np.zeros(horizon, dtype=bool)
    truncations[-1] = True
    return [EpisodeBuffer(id=i, observations=episodes["states"][i], actions=episodes["actions"][i],
                          rewards=episodes["rewards"][i], terminations=np.zeros(horizon, dtype=bool),
                          truncations=truncations)
            for i in range(len(episodes["actions"]))]


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
            f"{spec.episode_len} steps of the scripted {spec.env} expert with (noise, probability) mix "
            f"{list(spec.noise_mix)}, seed {spec.seed}. Observations are simulator states; rewards are minus "
            "the state distance to the episode's goal, which is not recorded. Render pixels with the env's "
            "draw(state, size).")


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
            dataset_id, episodes, env=env_id, eval_env=env_id, algorithm_name=f"wmbench scripted {spec.env} "
            "expert", author="wmbench", description=_description(spec), requirements=["wmbench"],
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
