"""Planner overhead benchmark: time per iteration and rollouts/s of each reference planner, next to the floor.

The floor is the model work alone at the same batch sizes: a batched no-grad forward rollout, and a forward
plus backward (gradients w.r.t. the actions only). The model is the reference state world model (2 hidden
layers of 256, PushT sizes D=7, A=5x2=10), H=5, 50 episodes planned in one batch. On CPU, times are process
CPU seconds (robust to other load on a shared machine; with one thread they equal wall time on an idle one);
on CUDA they are synchronised wall seconds.

    .venv/bin/python benchmarks/bench_planners.py [--device cuda] [--threads 1] [--episodes 50]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import torch

from wmbench.baselines.cem import CEM
from wmbench.baselines.gbp import GBP
from wmbench.baselines.gbp_cem import GBPCEM
from wmbench.baselines.icem import ICEM
from wmbench.baselines.mppi import MPPI
from wmbench.models.state_model import StateWorldModel
from wmbench.planning import Budget, Objective, Planner, PlanProblem

HORIZON = 5
T = TypeVar("T")


def timed(fn: Callable[[], T], device: torch.device) -> tuple[float, T]:
    """Seconds ``fn`` takes (process CPU time on CPU, synchronised wall time on CUDA) and its value."""
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = clock()
    value = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return clock() - t0, value


def floor_seconds(model: torch.nn.Module, problem: PlanProblem, k: int, backward: bool,
                  repeats: int) -> float:
    """Mean time of the model work alone for ``k`` rollouts per episode (``B * k`` in one batch)."""
    b = problem.batch_size
    z0 = problem.start.repeat_interleave(k, 0)
    actions = torch.rand(b * k, HORIZON, problem.action_dim, device=problem.device) * 2 - 1

    def forward() -> None:
        with torch.no_grad():
            model.rollout(z0, actions)

    def forward_backward() -> None:
        a = actions.clone().requires_grad_(True)
        torch.autograd.grad(model.rollout(z0, a).pow(2).sum(), a)

    fn = forward_backward if backward else forward
    fn()  # warm-up
    return timed(lambda: [fn() for _ in range(repeats)], problem.device)[0] / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--episodes", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = StateWorldModel("pusht", state_dim=7).to(device).eval()
    start, goal = torch.randn(args.episodes, 7, device=device), torch.randn(args.episodes, 7, device=device)
    low, high = -torch.ones(model.action_dim, device=device), torch.ones(model.action_dim, device=device)

    def problem() -> PlanProblem:
        return PlanProblem(model, start, goal, HORIZON, low, high, Objective())

    # planner, iterations, and its model work per iteration: [(rollouts per episode, with backward)]
    cases: list[tuple[Planner, int, list[tuple[int, bool]]]] = [
        (GBP(), 200, [(1, True)]),
        (CEM(), 10, [(300, False)]),
        (MPPI(), 10, [(300, False)]),
        (ICEM(), 10, [(300, False)]),
        (GBPCEM(), 5, [(300, True), (300, False)]),
    ]
    print(f"device={device} threads={args.threads} episodes={args.episodes} H={HORIZON} "
          f"D=7 A={model.action_dim} torch={torch.__version__}")
    print(f"{'planner':8s} {'iters':>5s} {'s/iter':>9s} {'floor':>9s} {'overhead':>8s} "
          f"{'fwd rollouts/s':>15s} {'bwd rollouts/s':>15s}  floor work per iteration")
    for planner, iterations, works in cases:
        planner.plan(problem(), Budget(iterations=2))  # warm-up
        floor = sum(floor_seconds(model, problem(), k, backward, iterations) for k, backward in works)
        budget = Budget(iterations=iterations)
        seconds, result = timed(lambda p=planner, b=budget: p.plan(problem(), b), device)
        per_iter = seconds / result.iterations
        fwd = result.forward_evals * args.episodes / seconds
        bwd = result.backward_evals * args.episodes / seconds
        work = " + ".join(f"{'fwd+bwd' if backward else 'fwd'} {k * args.episodes}" for k, backward in works)
        print(f"{planner.name:8s} {result.iterations:5d} {per_iter * 1e3:7.2f}ms {floor * 1e3:7.2f}ms "
              f"{per_iter / floor - 1:8.0%} {fwd:15,.0f} {bwd:15,.0f}  {work}")


if __name__ == "__main__":
    main()
