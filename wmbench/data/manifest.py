"""``manifest.json``: the spec, shapes, per-file sha256 and the content hash of a built dataset.

The content hash covers the logical content (schema version, spec, states, actions, rewards, success flags and
pixels), so the same spec always gives the same hash; per-file sha256 digests catch any byte-level corruption.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from wmbench.data.specs import DatasetSpec

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
