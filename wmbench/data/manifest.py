"""``manifest.json``: the spec, shapes, per-file sizes and sha256 and the content hash of a built dataset.

The content hash covers the logical content (schema version, spec, states, actions, rewards, success flags and
pixels), so the same spec always gives the same hash; per-file sha256 digests catch any byte-level corruption.
`check_built` is the cheap check (manifest and file sizes, no hashing) that ``wmbench data list`` uses;
``wmbench.data.load`` runs the full one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from wmbench.data.errors import DatasetError, DatasetNotFoundError, rebuild_hint
from wmbench.data.specs import DATASETS, DatasetSpec
from wmbench.data.store import PIXELS_FILE, SCHEMA_VERSION, STEPS_FILE, dataset_dir
from wmbench.io import sha256_file

MANIFEST_FILE = "manifest.json"
_CONTENT_KEYS = ("states", "actions", "rewards", "success", "pixels")


class ContentHasher:
    """Hash of the logical content, fed in episode order; independent of how episodes are chunked."""

    def __init__(self, spec: DatasetSpec, schema_version: int):
        self._header = json.dumps({"schema_version": schema_version, "spec": spec.to_dict()}, sort_keys=True)
        self._digests = {key: hashlib.sha256() for key in _CONTENT_KEYS}

    def update(self, arrays: dict[str, np.ndarray]) -> None:
        """Add (``states [n, T+1, S]`` float32, ``actions``, ``rewards``, ``success``, ``pixels``)."""
        for key in _CONTENT_KEYS:
            if key in arrays:
                self._digests[key].update(np.ascontiguousarray(arrays[key]).tobytes())

    def hexdigest(self) -> str:
        parts = [self._header] + [f"{key}:{self._digests[key].hexdigest()}" for key in _CONTENT_KEYS]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(directory: Path) -> dict[str, Any]:
    """Parsed ``manifest.json`` (raises ``OSError`` / ``ValueError`` for the caller to explain)."""
    return json.loads((directory / MANIFEST_FILE).read_text())


def parse_manifest(directory: Path, name: str, size: str) -> tuple[dict[str, Any], DatasetSpec]:
    """The checked manifest of the dataset ``name`` at ``size`` in ``directory`` and its spec.

    ``DatasetNotFoundError`` when the dataset is not built; ``DatasetError`` naming the file and the rebuild
    command when the manifest is missing, unreadable, malformed, inconsistent or of an older spec.
    """
    path, hint = directory / MANIFEST_FILE, rebuild_hint(name, size)
    if not path.exists():
        if not directory.exists():
            raise DatasetNotFoundError(f"dataset {name!r} (size {size!r}) is not built (no {directory}); "
                                       f"{rebuild_hint(name, size, force=False)}")
        raise DatasetError(f"{path} is missing (interrupted or damaged build); {hint}")
    try:
        manifest = read_manifest(directory)
    except (OSError, ValueError) as err:
        raise DatasetError(f"cannot read {path}: {err}; {hint}") from err
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path} is malformed (not a JSON object); {hint}")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise DatasetError(f"{path} has schema version {manifest.get('schema_version')!r}, this wmbench "
                           f"reads version {SCHEMA_VERSION}; {hint}")
    try:
        spec = DatasetSpec.from_dict(manifest["spec"])
        shape = [manifest[key] for key in ("episodes", "episode_len", "state_dim", "action_dim")]
        file_entries = {file: (entry["sha256"], entry["bytes"]) for file, entry in manifest["files"].items()}
        content_hash = manifest["content_hash"]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DatasetError(f"{path} is malformed ({type(err).__name__}: {err}); {hint}") from err
    expected_files = {STEPS_FILE, PIXELS_FILE} if spec.pixels else {STEPS_FILE}
    if (spec.name, spec.size) != (name, size) or shape[:2] != [spec.n_episodes, spec.episode_len] \
            or set(file_entries) != expected_files or not isinstance(content_hash, str) \
            or not all(isinstance(n, int) for _, n in file_entries.values()):
        raise DatasetError(f"{path} is inconsistent (spec {spec}, shape {shape}, "
                           f"files {sorted(file_entries)}); {hint}")
    registered = DATASETS.get(name, {}).get(size)
    if registered is not None and registered != spec:
        raise DatasetError(f"{directory} was built from an older spec of {name!r} ({spec}); {hint}")
    return manifest, spec


def check_files(directory: Path, manifest: dict[str, Any], hint: str, hashes: bool = True) -> None:
    """Every file of a parsed manifest exists with its recorded size and (if ``hashes``) sha256; else
    ``DatasetError`` naming the file and ``hint``."""
    for file, entry in manifest["files"].items():
        path = directory / file
        if not path.is_file():
            raise DatasetError(f"{path} is missing (incomplete build); {hint}")
        if path.stat().st_size != entry["bytes"]:
            raise DatasetError(f"{path} has {path.stat().st_size} bytes, {directory / MANIFEST_FILE} says "
                               f"{entry['bytes']}: the file is truncated or was modified; {hint}")
        if hashes and sha256_file(path) != entry["sha256"]:
            raise DatasetError(f"{path} does not match the sha256 in {directory / MANIFEST_FILE}: the file "
                               f"is corrupt or was modified; {hint}")


def check_built(name: str, size: str, home: Path | str | None = None) -> Path:
    """Cheap check that dataset ``name`` at ``size`` is built and intact (its manifest, and every file at its
    recorded size; no hashing); returns its directory.

    Raises ``DatasetNotFoundError`` if it is not built and ``DatasetError`` (naming the file and the rebuild
    command) if it is corrupt or incomplete. ``wmbench.data.load`` also verifies hashes and contents.
    """
    directory = dataset_dir(name, size, home)
    manifest, _ = parse_manifest(directory, name, size)
    check_files(directory, manifest, rebuild_hint(name, size), hashes=False)
    return directory
