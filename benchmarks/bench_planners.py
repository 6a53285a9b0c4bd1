"""Planner overhead benchmark: time per iteration and model steps/s of reference planners, next to the floor.

The floor is the model work alone at the same batch sizes: a batched no-grad forward rollout, and a forward
plus backward (gradients w.r.t. the actions only). ``--model state`` (default): the reference state world
model (2 hidden layers of 256, PushT sizes D=7, A=5x2=10) with every planner, 50 episodes planned in one
batch, and the model's batched rollout at CEM's batch (episodes x 300 rows) next to a bare chain of the same
GEMMs (``torch.addmm`` with the layers' shapes; no LayerNorm, SiLU, normalisation or concatenation).
``--model patch``: the patch world model at its default sizes (untrained weights: the cost does not depend on
them) with CEM and GBP, 10 episodes by default. H=5. On CPU, times are process CPU seconds (robust to other
load on a shared machine; with one thread they equal wall time on an idle one); on CUDA they are synchronised
wall seconds. Each planner's time per iteration and its floor are the best of ``--rounds`` rounds that
alternate the two (so both see the same load); ``ratio`` is time per iteration / floor.

    .venv/bin/python benchmarks/bench_planners.py [--model patch] [--device cuda] [--threads 1] [--episodes N]
        [--rounds 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import torch

from wmbench.models.device import resolve_device
from wmbench.models.patch_model import PatchWorldModel
from wmbench.models.state_model import StateWorldModel
from wmbench.planning import Budget, Objective, Planner, PlanProblem
from wmbench_baselines.cem import CEM
from wmbench_baselines.gbp import GBP
from wmbench_baselines.gbp_cem import GBPCEM
from wmbench_baselines.icem import ICEM
from wmbench_baselines.mppi import MPPI

HORIZON = 5
CEM_SAMPLES = 300
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


def gemm_chain_ratio(model: StateWorldModel, rows: int, device: torch.device, rounds: int = 7
                     ) -> tuple[float, float]:
    """Best-of-``rounds`` seconds of the model's no-grad rollout of ``rows`` rows and of a bare GEMM chain of
    the same layer shapes (measured alternately, so both see the same machine load)."""
    torch.manual_seed(0)
    z0 = torch.randn(rows, model.latent_dim, device=device)
    actions = torch.rand(rows, HORIZON, model.action_dim, device=device) * 2 - 1
    layers = [m for m in model.dynamics.nets[0] if isinstance(m, torch.nn.Linear)]
    weights = [(m.weight.t().contiguous(), m.bias) for m in layers]
    x0 = torch.randn(rows, layers[0].in_features, device=device)

    def chain() -> None:
        for _ in range(HORIZON):
            x = x0
            for w, b in weights:
                x = torch.addmm(b, x, w)

    def rollout() -> None:
        model.rollout(z0, actions)

    best = {chain: float("inf"), rollout: float("inf")}
    with torch.no_grad():
        for _ in range(rounds):
            for fn in best:
                best[fn] = min(best[fn], timed(fn, device)[0])
    return best[rollout], best[chain]


def planner_rows(model: torch.nn.Module, cases: list[tuple[Planner, int, list[tuple[int, bool]]]],
                 episodes: int, device: torch.device, rounds: int) -> None:
    """Print each planner's time per iteration, its floor (each the best of ``rounds`` alternated rounds),
    their ratio, and forward / backward model steps per second."""
    torch.manual_seed(0)
    start = torch.randn(episodes, model.latent_dim, device=device)
    goal = torch.randn(episodes, model.latent_dim, device=device)
    low, high = -torch.ones(model.action_dim, device=device), torch.ones(model.action_dim, device=device)

    def problem() -> PlanProblem:
        return PlanProblem(model, start, goal, HORIZON, low, high, Objective())

    print(f"{'planner':8s} {'iters':>5s} {'s/iter':>10s} {'floor':>10s} {'ratio':>6s} "
          f"{'fwd steps/s':>12s} {'bwd steps/s':>12s}  floor work per iteration")
    for planner, iterations, works in cases:
        planner.plan(problem(), Budget(iterations=2))  # warm-up
        budget = Budget(iterations=iterations)
        floor = per_iter = float("inf")
        for _ in range(rounds):
            floor = min(floor, sum(floor_seconds(model, problem(), k, backward, iterations)
                                   for k, backward in works))
            seconds, result = timed(lambda p=planner, b=budget: p.plan(problem(), b), device)
            per_iter = min(per_iter, seconds / result.iterations)
        fwd = result.forward_evals / result.iterations * episodes * HORIZON / per_iter
        bwd = result.backward_evals / result.iterations * episodes * HORIZON / per_iter
        work = " + ".join(f"{'fwd+bwd' if backward else 'fwd'} {k * episodes}" for k, backward in works)
        print(f"{type(planner).__name__:8s} {result.iterations:5d} {per_iter * 1e3:8.2f}ms "
              f"{floor * 1e3:8.2f}ms {per_iter / floor:5.2f}x {fwd:12,.0f} {bwd:12,.0f}  {work}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="state", choices=("state", "patch"))
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--episodes", type=int, help="episodes planned in one batch (default: state 50, "
                                                     "patch 10)")
    parser.add_argument("--rounds", type=int, default=5, help="alternated planner / floor rounds; the best "
                                                              "of each is reported")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(resolve_device(args.device))
    torch.manual_seed(0)
    if args.model == "state":
        episodes = args.episodes or 50
        model = StateWorldModel("pusht", state_dim=7).to(device).eval()
        # planner, iterations, and its model work per iteration: [(rollouts per episode, with backward)]
        cases: list[tuple[Planner, int, list[tuple[int, bool]]]] = [
            (GBP(), 200, [(1, True)]),
            (CEM(), 10, [(CEM_SAMPLES, False)]),
            (MPPI(), 10, [(CEM_SAMPLES, False)]),
            (ICEM(), 10, [(CEM_SAMPLES, False)]),
            (GBPCEM(), 5, [(CEM_SAMPLES, True), (CEM_SAMPLES, False)]),
        ]
    else:
        episodes = args.episodes or 10
        model = PatchWorldModel("pusht").to(device).eval()
        cases = [(GBP(), 20, [(1, True)]), (CEM(), 3, [(CEM_SAMPLES, False)])]
    sizes = ", ".join(f"{k}={v}" for k, v in model.config.items() if k != "env")
    print(f"model={args.model} ({sizes}) D={model.latent_dim} A={model.action_dim} H={HORIZON} "
          f"episodes={episodes} device={device} threads={args.threads} torch={torch.__version__}")
    planner_rows(model, cases, episodes, device, args.rounds)
    if args.model == "state":
        rows = episodes * CEM_SAMPLES
        rollout, chain = gemm_chain_ratio(model, rows, device)
        print(f"batched no-grad rollout of {rows} rows x H={HORIZON}: {rollout * 1e3:.1f} ms; bare GEMM "
              f"chain of the same layer shapes: {chain * 1e3:.1f} ms; ratio {rollout / chain:.2f}")


if __name__ == "__main__":
    main()
