"""Evaluation task suites: fixed, versioned, hashed (start, goal) pairs per env, graded by difficulty.

``load(env, split="test", version=None) -> TaskSuite``, by default the env's newest version
(`default_version`): v2 for PushT (segments of held-out data-policy episodes, the goal replayed from the
start with the recorded actions, which the suite ships), v1 for PointMaze and Wall. v1 and v2 have 500
``test`` and 60 ``dev`` tasks per env in two interleaved levels, ``near`` and ``far``, none solved at reset,
each level with its own MPC step cap; v0 (100 test, 30 dev, no levels) and PushT's v1 stay loadable. How
each version is drawn: `wmbench.tasks.generate` (``python -m wmbench.tasks`` regenerates the files); the file
format and the hash check: [`wmbench.tasks.suite`][wmbench.tasks.suite].
"""

from wmbench.tasks.suite import (
    ENV_VERSIONS,
    SPLITS,
    SUITE_DIR,
    VERSIONS,
    LevelSteps,
    TaskSuite,
    default_version,
    load,
    suite_path,
)

__all__ = ["ENV_VERSIONS", "SPLITS", "SUITE_DIR", "VERSIONS", "LevelSteps", "TaskSuite", "default_version",
           "load", "suite_path"]
