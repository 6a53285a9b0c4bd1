"""Atomic world-model checkpoints: weights + class path + constructor config + metadata (+ training state).

Layout of the file (a ``torch.save`` dict readable with ``weights_only=True``)::

    {"format": FORMAT, "class_path": "module:Class", "config": {...}, "state_dict": {...},
     "metadata": {... "diagnostics": {...}},
     "training": {"variant", "step", "complete", "optimizer", "generator", "config", ...} | None}
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from wmbench.models.protocol import class_path, resolve_class

FORMAT = "wmbench-world-model-v1"
_KEYS = ("format", "class_path", "config", "state_dict", "metadata", "training")


def save(model: torch.nn.Module, path: str | Path, training: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (and optional resumable ``training`` state) to ``path`` atomically (temp + replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "class_path": class_path(model),
        "config": model.config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": dict(model.metadata),
        "training": training,
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | Path) -> dict[str, Any]:
    """Load and validate the raw checkpoint dict (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"world-model checkpoint {path} does not exist; train one with "
                                "`wmbench train` (wmbench.models.trainer.train) or fix the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"world-model checkpoint {path} is corrupt or not a torch file ({exc}); "
                         "delete it and train again") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or set(_KEYS) - set(payload):
        raise ValueError(f"{path} is not a {FORMAT} checkpoint (missing or wrong 'format'/keys); "
                         "delete it and train again")
    return payload


def load(path: str | Path) -> torch.nn.Module:
    """Rebuild the model from its class path and config and load its weights (eval mode, on CPU)."""
    payload = read(path)
    try:
        cls = resolve_class(payload["class_path"])
    except (ImportError, TypeError, ValueError) as exc:
        raise ImportError(f"checkpoint {path} needs model class {payload['class_path']!r}: {exc}") from exc
    try:
        model = cls(**payload["config"])
        model.load_state_dict(payload["state_dict"])
    except (TypeError, RuntimeError, ValueError) as exc:
        raise ValueError(f"checkpoint {path} does not match class {payload['class_path']} ({exc}); "
                         "retrain it with the current code or install the matching version") from exc
    model.metadata = dict(payload["metadata"])
    return model.eval()
