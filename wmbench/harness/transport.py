"""World models on their way to sweep workers, with no shared filesystem.

:func:`pack` turns a model into a :class:`ModelPayload` that an executor can send anywhere:

* a model with a ``config`` (every built-in and checkpointed model) travels as checkpoint bytes: a
  ``torch.save`` of the checkpoint fields (class path, config, state dict, metadata) and their
  :func:`wmbench.models.checkpoint.content_hash`; :func:`unpack` loads them with ``weights_only=True``,
  verifies the hash and rebuilds the model, whose metadata (``checkpoint_hash`` included) is the driver's;
* the Oracle's simulator travels as its env name and is rebuilt where it runs;
* any other model (e.g. built in memory without a ``config``) travels as the object itself.

Workers keep the models they rebuilt (by content hash and device), so a model is rebuilt once per process.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import torch

from wmbench.models import checkpoint
from wmbench.models.protocol import class_path, resolve_class

#: Rebuilt models kept per worker process.
_CACHE_SIZE = 16
_cache: dict[tuple[str, str], Any] = {}


@dataclass(frozen=True)
class ModelPayload:
    """A model in transit: ``kind`` "checkpoint" (``data``: bytes, ``sha256``: their content hash),
    "simulator" (``data``: the env name) or "object" (``data``: the model)."""

    kind: str
    data: Any
    sha256: str = ""


def pack(model: Any) -> ModelPayload:
    """``model`` ready to travel (see the module docstring)."""
    if not (isinstance(model, torch.nn.Module) and isinstance(getattr(model, "config", None), dict)):
        return ModelPayload("object", model)
    payload = {"format": checkpoint.FORMAT, "class_path": class_path(model), "config": model.config,
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "metadata": dict(getattr(model, "metadata", {})), "training": None}
    payload["content_sha256"] = checkpoint.content_hash(payload)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return ModelPayload("checkpoint", buffer.getvalue(), payload["content_sha256"])


def simulator(env: str) -> ModelPayload:
    """The simulator of ``env`` (:class:`wmbench.models.simulator.SimulatorModel`) ready to travel."""
    return ModelPayload("simulator", env)


def unpack(payload: ModelPayload, device: str = "cpu") -> Any:
    """The model of ``payload`` on ``device``; ``ValueError`` if checkpoint bytes fail their hash check."""
    if payload.kind == "object":
        model = payload.data
        return model.to(device) if isinstance(model, torch.nn.Module) else model
    key = (payload.sha256 or f"simulator:{payload.data}", device)
    if key not in _cache:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = _rebuild(payload).to(device).eval()
    return _cache[key]


def _rebuild(payload: ModelPayload) -> torch.nn.Module:
    if payload.kind == "simulator":
        from wmbench.models.simulator import SimulatorModel

        return SimulatorModel(payload.data)
    if payload.kind != "checkpoint":
        raise ValueError(f"unknown model payload kind {payload.kind!r}")
    fields = torch.load(io.BytesIO(payload.data), map_location="cpu", weights_only=True)
    if not isinstance(fields, dict) or fields.get("content_sha256") != payload.sha256 \
            or checkpoint.content_hash(fields) != payload.sha256:
        raise ValueError(f"world model {payload.sha256[:12]} arrived corrupt (content hash mismatch); rerun "
                         "the sweep")
    model = resolve_class(fields["class_path"])(**fields["config"])
    model.load_state_dict(fields["state_dict"])
    model.metadata = fields["metadata"]
    return model
