"""World models on their way to sweep workers, with no shared filesystem.

`pack` turns a model into a `ModelPayload` that an executor can send anywhere:

* a model with a ``config`` (every built-in and checkpointed model) travels as checkpoint bytes: a
  ``torch.save`` of the checkpoint fields (class path, config, state dict, metadata) and their
  `wmbench.models.checkpoint.content_hash`; `unpack` loads them with ``weights_only=True``,
  verifies the hash and rebuilds the model, whose metadata (``checkpoint_hash`` included) is the driver's;
* the Oracle's simulator travels as its env name and is rebuilt where it runs;
* any other model (e.g. built in memory without a ``config``) travels as the object itself.

Each call of `unpack` returns a model no other unit sees: checkpoint bytes are rebuilt every time
(about 3 ms for a state model, 12 ms for a patch model, on one CPU thread) and an object is deep-copied and
checked against the `weights_hash` it had when packed. Only the simulator, which has no learned
weights, is kept per process; it is checked before every use and rebuilt if a unit changed it. The sweep
compares `weights_hash` before and after every unit (`wmbench.harness.sweep.run_unit`).
"""

from __future__ import annotations

import copy
import hashlib
import io
from dataclasses import dataclass
from typing import Any

import torch

from wmbench.models import checkpoint
from wmbench.models.protocol import class_path, resolve_class

#: Simulators kept per process (by env and device), with the weights hash each had when built.
_CACHE_SIZE = 16
_cache: dict[tuple[str, str], tuple[Any, str]] = {}


@dataclass(frozen=True)
class ModelPayload:
    """A model in transit: ``kind`` "checkpoint" (``data``: bytes, ``sha256``: their content hash),
    "simulator" (``data``: the env name) or "object" (``data``: the model, ``sha256``: its
    `weights_hash` when packed)."""

    kind: str
    data: Any
    sha256: str = ""


def weights_hash(model: Any) -> str:
    """sha256 over the names, dtypes, shapes and values of ``model``'s parameters and buffers (of nothing
    for a model that is not a ``torch.nn.Module``)."""
    digest = hashlib.sha256()
    if isinstance(model, torch.nn.Module):
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            tensor = tensor.detach().cpu().contiguous()
            digest.update(f"{name}:{tensor.dtype}:{list(tensor.shape)}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def pack(model: Any) -> ModelPayload:
    """``model`` ready to travel (see the module docstring)."""
    if not (isinstance(model, torch.nn.Module) and isinstance(getattr(model, "config", None), dict)):
        return ModelPayload("object", model, weights_hash(model))
    payload = {"format": checkpoint.FORMAT, "class_path": class_path(model), "config": model.config,
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "metadata": dict(getattr(model, "metadata", {})), "training": None}
    payload["content_sha256"] = checkpoint.content_hash(payload)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return ModelPayload("checkpoint", buffer.getvalue(), payload["content_sha256"])


def simulator(env: str) -> ModelPayload:
    """The simulator of ``env`` (`wmbench.models.simulator.SimulatorModel`) ready to travel."""
    return ModelPayload("simulator", env)


def unpack(payload: ModelPayload, device: str = "cpu") -> Any:
    """A model of ``payload`` on ``device`` for one unit (see the module docstring); ``ValueError`` if
    checkpoint bytes fail their hash check or an object model changed since it was packed."""
    if payload.kind == "object":
        model = copy.deepcopy(payload.data)
        if payload.sha256 and weights_hash(model) != payload.sha256:
            raise ValueError(f"world model {type(model).__name__} changed after the sweep started (a planner "
                             "changed its weights); rerun the sweep")
        return model.to(device) if isinstance(model, torch.nn.Module) else model
    if payload.kind != "simulator":
        return _rebuild(payload).to(device).eval()
    key = (payload.data, device)
    if key in _cache and weights_hash(_cache[key][0]) != _cache[key][1]:
        _cache.pop(key)
    if key not in _cache:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        model = _rebuild(payload).to(device).eval()
        _cache[key] = model, weights_hash(model)
    return _cache[key][0]


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
