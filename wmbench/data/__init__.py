"""Standard expert datasets: specs, deterministic parallel builds, validated Parquet storage, torch windows.

>>> from wmbench import data
>>> path = data.build("pointmaze-expert-v1", size="small")   # $WMBENCH_HOME/datasets/NAME/SIZE
>>> ds = data.load(data.default_dataset("pointmaze"))        # validated; ds.train / ds.val
>>> data.check_built("pointmaze-expert-v1", "small")          # cheap: manifest and file sizes
>>> win = ds.train.windows(history=3, horizon=5, frameskip=5)  # win.states [N, 8, S], win.actions [N, 7, 10]

Loading needs torch; ``load``, ``Dataset``, ``EpisodeSplit``, ``NormStats`` and ``Windows`` are imported
lazily so that building (and its worker processes) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from wmbench.data.builder import build, build_spec
from wmbench.data.errors import DatasetError, DatasetNotFoundError
from wmbench.data.manifest import check_built
from wmbench.data.specs import DATASETS, SIZES, DatasetSpec, default_dataset, get_spec, list_datasets
from wmbench.data.store import dataset_dir

_LAZY = {"load": "wmbench.data.dataset", "Dataset": "wmbench.data.dataset",
         "EpisodeSplit": "wmbench.data.dataset", "NormStats": "wmbench.data.dataset",
         "Windows": "wmbench.data.windows"}

__all__ = ["DATASETS", "SIZES", "DatasetError", "DatasetNotFoundError", "DatasetSpec", "build", "build_spec",
           "check_built", "dataset_dir", "default_dataset", "get_spec", "list_datasets", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wmbench.data' has no attribute {name!r}")
