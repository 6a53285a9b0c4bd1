"""World-model checkpoints: atomic, weights-only, with a content hash verified on every load.

Layout of the file (a ``torch.save`` dict readable with ``weights_only=True``)::

    {"format": FORMAT, "class_path": "module:Class", "config": {...}, "state_dict": {...},
     "metadata": {...}, "training": {...} | None, "content_sha256": "..."}

``content_sha256`` is `content_hash` of every other field (tensors by dtype, shape and bytes), so a
flipped byte anywhere in the weights, config or metadata fails the load with an error naming the file. The
model's identity in result rows and unit identities (``checkpoint_hash``) is `identity_hash`: the class
path, config and weights only, so retraining with the same seed on the same machine gives the same identity
(the metadata and training state record wall-clock times and differ between runs).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import torch

from wmbench.io import atomic_write, wmbench_home
from wmbench.models.protocol import class_path, resolve_class

FORMAT = "wmbench-world-model-v2"
_FIELDS = ("format", "class_path", "config", "state_dict", "metadata", "training")
#: What determines a model's predictions, hence its identity (`identity_hash`).
_IDENTITY_FIELDS = ("class_path", "config", "state_dict")
#: Longest model tag kept verbatim in a checkpoint file name; longer plugin paths are shortened + hashed.
MAX_TAG = 40


def models_dir(home: str | Path | None = None) -> Path:
    """``HOME/models`` (``HOME`` = ``$WMBENCH_HOME`` or ``~/.cache/wmbench``)."""
    return wmbench_home(home) / "models"


def checkpoint_path(env: str, model: str = "state", variant: str = "base", dataset_size: str = "small",
                    seed: int = 0, home: str | Path | None = None) -> Path:
    """Where ``wmbench train`` keeps the checkpoint for these settings.

    A plugin model path (``"pkg.mod:Class"``) is sanitised and, when long, shortened with a hash suffix, so
    the file name always fits the filesystem.
    """
    tag = re.sub(r"[^A-Za-z0-9_.]+", "_", model)
    if len(tag) > MAX_TAG:
        tag = f"{tag[:MAX_TAG - 9]}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"
    return models_dir(home) / f"{env}-{tag}-{variant}-{dataset_size}-seed{int(seed)}.pt"


def _feed(digest: Any, obj: Any) -> None:
    """Feed a canonical encoding of nested dicts/lists/tensors/plain values into ``digest``."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        digest.update(f"T{t.dtype}{list(t.shape)}".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        digest.update(b"D%d" % len(obj))
        for key in sorted(obj, key=repr):
            digest.update(repr(key).encode())
            _feed(digest, obj[key])
    elif isinstance(obj, list | tuple):
        digest.update(b"L%d" % len(obj))
        for item in obj:
            _feed(digest, item)
    else:
        digest.update(json.dumps(obj).encode())


def _hash_fields(payload: dict[str, Any], names: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode())
        _feed(digest, payload[name])
    return digest.hexdigest()


def content_hash(payload: dict[str, Any]) -> str:
    """sha256 over every checkpoint field (canonical, independent of pickling details): tamper detection."""
    return _hash_fields(payload, _FIELDS)


def identity_hash(payload: dict[str, Any]) -> str:
    """sha256 over the class path, config and weights: the model's identity (``checkpoint_hash`` in rows),
    equal for two trainings that produced the same model."""
    return _hash_fields(payload, _IDENTITY_FIELDS)


def save(model: torch.nn.Module, path: str | Path, training: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (and optional resumable ``training`` state) to ``path`` atomically; an ``OSError`` (a
    full disk, no permission) names ``path``."""
    payload = {
        "format": FORMAT,
        "class_path": class_path(model),
        "config": model.config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": {k: v for k, v in model.metadata.items() if k != "checkpoint_hash"},
        "training": training,
    }
    payload["content_sha256"] = content_hash(payload)
    buffer = io.BytesIO()  # in memory first: torch turns a full disk into a RuntimeError naming no file
    torch.save(payload, buffer)
    return atomic_write(path, lambda fh: fh.write(buffer.getbuffer()))


def read(path: str | Path) -> dict[str, Any]:
    """Load the raw checkpoint dict (``weights_only=True``) and verify its format and content hash."""
    path = Path(path)
    retrain = "delete it and train again (`wmbench train ... --overwrite`)"
    if not path.is_file():
        raise FileNotFoundError(f"world-model checkpoint {path} does not exist; train one with "
                                "`wmbench train` or fix the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200]
        raise ValueError(f"world-model checkpoint {path} is corrupt or not a torch file ({reason}); "
                         f"{retrain}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT \
            or not set(_FIELDS) | {"content_sha256"} <= set(payload):
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path} is not a {FORMAT} checkpoint (format {found!r}); {retrain}")
    try:
        ok = content_hash(payload) == payload["content_sha256"]
    except (TypeError, ValueError, RuntimeError):
        ok = False
    if not ok:
        raise ValueError(f"world-model checkpoint {path} fails its content hash check: the file is corrupt "
                         f"or was modified; {retrain}")
    return payload


def load(path: str | Path, device: str | torch.device = "cpu") -> torch.nn.Module:
    """Rebuild the verified model from its class path and config, in eval mode on ``device``.

    ``model.metadata["checkpoint_hash"]`` is set to the model's `identity_hash` (after the content hash
    of the whole file was verified).
    """
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
    model.metadata = {**payload["metadata"], "checkpoint_hash": identity_hash(payload)}
    return model.to(device).eval()
