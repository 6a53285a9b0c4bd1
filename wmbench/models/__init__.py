"""World models and their trainers: base, OWM (online, DAgger-style) and AWM (adversarial, FGSM/PGD).

>>> from wmbench import models
>>> path = models.train("pointmaze", model="state", variant="awm")   # $WMBENCH_HOME/models/...pt
>>> wm = models.load(path); wm.metadata["diagnostics"]

Modules: ``protocol`` (the WorldModel protocol, "module:Class" resolution), ``state_model``,
``pixel_model``, ``dynamics`` (shared residual MLP), ``checkpoint`` (atomic save / weights-only load),
``config`` (``TrainConfig``), ``trainer`` (the ``train`` entry point, resume), ``train_base``, ``awm``,
``owm``, ``diagnostics``, ``segments`` and ``sim`` (expert segments, simulator execution). Names are
imported lazily so importing this package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "train": "wmbench.models.trainer", "checkpoint_path": "wmbench.models.trainer",
    "MODELS": "wmbench.models.trainer",
    "load": "wmbench.models.checkpoint", "save": "wmbench.models.checkpoint",
    "TrainConfig": "wmbench.models.config", "VARIANTS": "wmbench.models.config",
    "diagnostics": "wmbench.models.diagnostics", "WorldModel": "wmbench.models.protocol",
    "StateWorldModel": "wmbench.models.state_model", "PixelWorldModel": "wmbench.models.pixel_model",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wmbench.models' has no attribute {name!r}")
