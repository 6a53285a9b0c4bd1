"""wmbench: a benchmark suite for planning with learned world models.

Importing this package registers the Gymnasium ids ``wmbench/PointMaze-v0``, ``wmbench/PushT-v0`` and
``wmbench/Wall-v0`` (as ``import gymnasium_robotics`` does for its envs) and stays cheap: no torch; submodules
import heavy dependencies themselves.
"""

__version__ = "0.2.0"

import wmbench_envs  # noqa: E402, F401  (registers the Gymnasium ids)

__all__ = ["__version__"]
