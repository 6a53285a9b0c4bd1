"""Deterministic, parallel, atomic dataset builds.

Episodes are rolled out in chunks by a process pool and written in episode order; since episode ``i`` depends
only on ``(spec.seed, i)`` and row groups are fixed by the spec, the files are byte-identical for any worker
count. The dataset is written into a hidden temp directory next to its final place and renamed into place with
``os.replace`` only when complete, so an interrupted build leaves nothing visible and the next build starts
clean.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import uuid
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from wmbench.data.errors import DatasetError, rebuild_hint
from wmbench.data.manifest import ContentHasher, check_files, parse_manifest, write_manifest
from wmbench.data.rollout import rollout_episodes
from wmbench.data.specs import DatasetSpec, get_spec
from wmbench.data.store import PIXELS_FILE, SCHEMA_VERSION, STEPS_FILE, StepsWriter, dataset_dir
from wmbench.io import errors_naming, sha256_file
from wmbench.registry import env_entries, resolve

MAX_CHUNK_EPISODES = 32


def build(name: str, size: str = "small", home: Path | str | None = None, workers: int | None = None,
          force: bool = False, progress: bool = True) -> Path:
    """Build the registered dataset ``name`` at ``size`` (``"small"`` or ``"full"``) and return its directory.

    An existing build of the same spec is returned as is unless ``force``. ``workers`` defaults to the CPU
    count; ``workers=1`` runs in this process.
    """
    return build_spec(get_spec(name, size), home=home, workers=workers, force=force, progress=progress)


def build_spec(spec: DatasetSpec, home: Path | str | None = None, workers: int | None = None,
               force: bool = False, progress: bool = True) -> Path:
    """Build the dataset described by ``spec`` into ``dataset_dir(spec.name, spec.size, home)``."""
    final = dataset_dir(spec.name, spec.size, home)
    if final.exists() and not force:
        _check_existing(final, spec)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(final)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        with errors_naming(final, tmp):
            _write(spec, tmp, workers, progress)
            _publish(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _check_existing(final: Path, spec: DatasetSpec) -> None:
    """An existing build is reused only if it is of ``spec`` and its files have their recorded sizes."""
    hint = rebuild_hint(spec.name, spec.size)
    manifest, existing = parse_manifest(final, spec.name, spec.size)
    if existing != spec:
        raise DatasetError(f"{final} was built from a different spec ({existing}); {hint}")
    check_files(final, manifest, hint, hashes=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(final: Path) -> None:
    """Delete hidden leftovers of interrupted builds of this dataset whose process is gone."""
    for path in final.parent.glob(f".{final.name}.*-*"):
        pid = path.name.split("-")[1] if ".tmp-" in path.name else ""
        if not (pid.isdigit() and _pid_alive(int(pid))):
            shutil.rmtree(path, ignore_errors=True)


def _chunks(n_episodes: int, workers: int) -> list[tuple[int, int]]:
    size = max(1, min(MAX_CHUNK_EPISODES, math.ceil(n_episodes / (4 * workers))))
    return [(start, min(start + size, n_episodes)) for start in range(0, n_episodes, size)]


def _write(spec: DatasetSpec, directory: Path, workers: int | None, progress: bool) -> None:
    entries = env_entries(spec.env)
    env = resolve(entries[0])(obs_type="state")
    state_dim, action_dim = env.state_dim, int(env.action_space.shape[0])
    workers = max(1, workers or os.cpu_count() or 1)
    chunks = _chunks(spec.n_episodes, workers)
    workers = min(workers, len(chunks))
    pixel_shape = (spec.image_size, spec.image_size, 3) if spec.pixels else None
    hasher = ContentHasher(spec, SCHEMA_VERSION)
    bar = tqdm(total=spec.n_episodes, unit="ep", desc=f"{spec.name}/{spec.size}",
               disable=None if progress else True)
    starts, stops = zip(*chunks, strict=True)
    writer = StepsWriter(directory, spec.n_episodes, spec.episode_len, state_dim, action_dim, pixel_shape)
    with writer:
        if workers == 1:
            results = map(rollout_episodes, repeat(spec), repeat(entries), starts, stops)
            _consume(results, writer, hasher, bar)
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                results = pool.map(rollout_episodes, repeat(spec), repeat(entries), starts, stops)
                _consume(results, writer, hasher, bar)
    bar.close()
    files = {STEPS_FILE: {"rows": spec.n_episodes * spec.episode_len}}
    if spec.pixels:
        files[PIXELS_FILE] = {"shape": [spec.n_episodes, spec.episode_len + 1, *pixel_shape]}
    for file, entry in files.items():
        entry.update(sha256=sha256_file(directory / file), bytes=(directory / file).stat().st_size)
    write_manifest(directory, {
        "schema_version": SCHEMA_VERSION, "spec": spec.to_dict(), "content_hash": hasher.hexdigest(),
        "episodes": spec.n_episodes, "episode_len": spec.episode_len, "state_dim": state_dim,
        "action_dim": action_dim, "files": files, "writer": f"pyarrow {pa.__version__}",
    })


def _consume(results, writer: StepsWriter, hasher: ContentHasher, bar: tqdm) -> None:
    for chunk in results:
        writer.write(chunk)
        hasher.update(chunk)
        bar.update(chunk["actions"].shape[0])


def _publish(tmp: Path, final: Path) -> None:
    """Move the finished build into place, replacing an older build (``force``)."""
    if not final.exists():
        os.replace(tmp, final)
        return
    old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
