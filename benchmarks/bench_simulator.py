"""Simulator replay throughput (env steps/s): the reference loop vs the batched replays and worker processes.

The workload is the Oracle's: dev-split task starts, each with ``--samples`` CEM-like candidate plans
(clipped N(0, 1) actions, horizon 5 planning steps of frameskip 5). Single-process rates are process CPU
seconds (robust to other load on a shared machine); rates with worker processes are wall seconds.

    .venv/bin/python benchmarks/bench_simulator.py [--samples 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from wmbench import tasks
from wmbench.models.simulator import SimulatorModel
from wmbench.registry import make_env
from wmbench_envs import ENVS
from wmbench_envs.base import GoalEnv

HORIZON, FRAMESKIP = 5, 5


def workload(env: str, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts ``[N, S]`` and actions ``[N, H, K, 2]`` for ``samples`` candidates per dev task."""
    starts = tasks.load(env, "dev").starts.repeat(samples, axis=0)
    actions = np.random.default_rng(0).standard_normal((len(starts), HORIZON, FRAMESKIP, 2)).clip(-1, 1)
    return starts, actions


def rate(n_rollouts: int, seconds: float) -> float:
    return n_rollouts * HORIZON * FRAMESKIP / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100, help="candidate plans per dev task")
    parser.add_argument("--workers", type=int, default=2, help="processes for the pooled rate")
    args = parser.parse_args()
    print(f"{'env':<10} {'reference/s':>12} {'batched/s':>12} {'speedup':>8} {'1 proc/s (wall)':>16} "
          f"{f'{args.workers} procs/s (wall)':>17}")
    for env in ENVS:
        starts, actions = workload(env, args.samples)
        sub = slice(None, None, 10)  # the reference loop is slow: every tenth rollout (same task mix)
        t = time.process_time()
        GoalEnv.replay(make_env(env), starts[sub], actions[sub])
        reference = rate(len(starts[sub]), time.process_time() - t)
        t = time.process_time()
        make_env(env).replay(starts, actions)
        batched = rate(len(starts), time.process_time() - t)
        walls = []
        for workers in (1, args.workers):
            model = SimulatorModel(env, frameskip=FRAMESKIP, workers=workers)
            z0 = model.encode(torch.from_numpy(starts))
            plans = torch.from_numpy(actions.reshape(len(starts), HORIZON, -1))
            model.rollout(z0[:256], plans[:256])  # start the workers
            t = time.perf_counter()
            model.rollout(z0, plans)
            walls.append(rate(len(starts), time.perf_counter() - t))
            model.close()
        print(f"{env:<10} {reference:>12.0f} {batched:>12.0f} {batched / reference:>7.1f}x {walls[0]:>16.0f} "
              f"{walls[1]:>17.0f}")


if __name__ == "__main__":
    main()
