"""Training world models: base (teacher-forced prediction), OWM (online, DAgger-style) and AWM (adversarial).

>>> from wmbench import training
>>> path = training.train("pointmaze", model="state", variant="awm")   # $WMBENCH_HOME/models/...pt

Modules: ``config`` (``TrainConfig``, ``VARIANTS``), ``trainer`` (the ``train`` entry point, resume),
``base``, ``awm``, ``owm``, ``diagnostics`` (``diagnose``: validation errors, train-test gap), ``segments``
and ``simulate`` (expert segments, executing plans in the simulator). Names are imported lazily so importing
this package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"train": "wmbench.training.trainer", "TrainConfig": "wmbench.training.config",
         "VARIANTS": "wmbench.training.config", "diagnose": "wmbench.training.diagnostics"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wmbench.training' has no attribute {name!r}")
