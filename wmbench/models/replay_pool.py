"""Simulator replays split across worker processes, with the states of one process in input order.

Rollouts are independent (each starts from its own state in a fresh simulation), so how they are split
changes no result: the number of workers only changes the speed. This module does not import torch, so
spawned workers start quickly.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from wmbench.registry import make_env

#: Fewest rollouts worth a worker: below this, messaging costs more than replaying in process.
MIN_ROLLOUTS_PER_WORKER = 64

_WORKER_ENVS: dict[str, Any] = {}


def _replay(env: str, starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Worker side: ``replay`` on this process's instance of ``env``."""
    if env not in _WORKER_ENVS:
        _WORKER_ENVS[env] = make_env(env)
    return _WORKER_ENVS[env].replay(starts, actions)


class ReplayPool:
    """``env.replay`` over several processes, the calling one included.

    With ``workers`` allowed, ``N`` rollouts are split into ``w = min(workers, N // MIN_ROLLOUTS_PER_WORKER)``
    parts, rollout ``i`` going to part ``i mod w`` (interleaved, so each part gets a similar mix of cheap and
    costly rollouts); the calling process replays part 0 while ``workers - 1`` spawned processes replay the
    others, and the parts are put back in input order. Workers start on first use and stop on `close`,
    at interpreter exit, or when the pool is pickled (the copy starts its own). An env with a vectorized
    replay (``env.vectorized_replay``: PointMaze, Wall) and a daemonic process (which may not have children)
    replay everything in process.
    """

    def __init__(self, env: str):
        self.env_name = env
        self.env = make_env(env)
        self._executor: ProcessPoolExecutor | None = None
        self._processes = 0

    def replay(self, starts: np.ndarray, actions: np.ndarray, workers: int = 1) -> np.ndarray:
        """The env's ``replay(starts [N, S], actions [N, H, K, A]) -> [N, H + 1, S]`` on up to ``workers``
        processes."""
        if int(workers) != workers or workers < 1:
            raise ValueError(f"ReplayPool workers must be an integer >= 1, got {workers!r}")
        parts = min(int(workers), len(starts) // MIN_ROLLOUTS_PER_WORKER)
        if parts <= 1 or self.env.vectorized_replay or multiprocessing.current_process().daemon:
            return self.env.replay(starts, actions)
        if self._processes != workers - 1:
            self.close()
            self._executor = ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("spawn"))
            self._processes = workers - 1
        futures = [self._executor.submit(_replay, self.env_name, starts[p::parts], actions[p::parts])
                   for p in range(1, parts)]
        first = self.env.replay(starts[0::parts], actions[0::parts])
        out = np.empty((len(starts), *first.shape[1:]))
        out[0::parts] = first
        for p, future in enumerate(futures, 1):
            out[p::parts] = future.result()
        return out

    def close(self) -> None:
        """Stop the worker processes (a later replay starts new ones)."""
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
        self._executor, self._processes = None, 0

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_executor": None, "_processes": 0}
