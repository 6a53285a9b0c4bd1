"""Evaluation task suites: fixed, versioned, hashed (start, goal) pairs per env, graded by difficulty.

``load(env, split="test", version=VERSION) -> TaskSuite``. Version v1 (the default) has 500 ``test`` and 60
``dev`` tasks per env in two interleaved levels, ``near`` and ``far``, none solved at reset, each level with
its own MPC step cap; v0 (100 test, 30 dev, no levels) stays loadable. How each version is drawn:
`wmbench.tasks.generate` (``python -m wmbench.tasks`` regenerates the files); the file format and the
hash check: [`wmbench.tasks.suite`][wmbench.tasks.suite].
"""

from wmbench.tasks.suite import SPLITS, SUITE_DIR, VERSION, VERSIONS, LevelSteps, TaskSuite, load, suite_path

__all__ = ["SPLITS", "SUITE_DIR", "VERSION", "VERSIONS", "LevelSteps", "TaskSuite", "load", "suite_path"]
