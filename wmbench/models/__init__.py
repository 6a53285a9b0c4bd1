"""World models: the protocol, the state and pixel models, the simulator as a model, and checkpoints.

>>> from wmbench.models import checkpoint
>>> wm = checkpoint.load(checkpoint.checkpoint_path("pointmaze", "state", "awm"))
>>> wm.metadata["checkpoint_hash"]

Modules: ``protocol`` (the WorldModel protocol, "module:Class" resolution), ``state_model``, ``pixel_model``,
``dynamics`` (shared residual MLP), ``simulator`` (the true dynamics behind the model interface, for the
Oracle) and ``checkpoint`` (atomic save, verified weights-only load). Training lives in
[`wmbench.training`][wmbench.training]. Importing this package does not import torch.
"""

from __future__ import annotations

#: Built-in world-model kinds (``--model``); any other value must be a "module:Class" path.
MODELS: dict[str, str] = {
    "state": "wmbench.models.state_model:StateWorldModel",
    "pixel": "wmbench.models.pixel_model:PixelWorldModel",
    "patch": "wmbench.models.patch_model:PatchWorldModel",
}

__all__ = ["MODELS"]
