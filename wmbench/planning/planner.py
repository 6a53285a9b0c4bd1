'''The Planner base class and its shared anytime loop.

A planner implements two methods; :meth:`Planner.plan` does the rest (seeding, budget, best-so-far plan,
trace, checkpoint snapshots, counting). A complete user planner, random shooting in the bounds:

.. code-block:: python

    import torch
    from wmbench.planning import Planner

    class RandomShooting(Planner):
        """Evaluate ``samples`` uniform random plans per episode and iteration."""

        name = "random-shooting"

        def __init__(self, samples: int = 100):
            self.samples = samples

        def init(self, problem, generator):
            return None  # no state between iterations

        def iterate(self, problem, state, generator):
            b, h, a = problem.plan_shape
            u = torch.rand((b, self.samples, h, a), generator=generator, device=problem.device)
            candidates = problem.low + u * (problem.high - problem.low)
            return candidates, problem.cost(candidates)

Use it as ``RandomShooting().plan(problem, Budget(seconds=1.0))``; reference it as
``my_pkg.my_mod:RandomShooting``.
'''

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from wmbench.planning.budget import Budget
from wmbench.planning.problem import PlanProblem


@dataclass
class Snapshot:
    """The best plan at a checkpoint budget: what a run with that budget would have returned.

    ``reached`` is False when the run ended before the checkpoint (the final plan is stored then).
    """

    budget: Budget
    actions: torch.Tensor
    cost: torch.Tensor
    iterations: int
    forward_evals: int
    backward_evals: int
    seconds: float
    reached: bool = True


@dataclass
class PlanResult:
    """Best plan found: ``actions [B, H, A]`` within bounds, its ``cost [B]`` (inf if nothing finite was
    seen).

    Counts are per episode. ``trace`` holds one ``(elapsed, iterations, forward_evals, backward_evals,
    mean best cost)`` tuple per iteration (mean over the episodes with a finite best cost, NaN if none).
    ``snapshots`` holds one :class:`Snapshot` per requested checkpoint, in the order given.
    """

    actions: torch.Tensor
    cost: torch.Tensor
    iterations: int
    forward_evals: int
    backward_evals: int
    seconds: float
    trace: list[tuple[float, int, int, int, float]] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)


class Planner:
    """Base class of planners: subclasses implement :meth:`init` and :meth:`iterate` and set ``name``."""

    name: str = "planner"

    def init(self, problem: PlanProblem, generator: torch.Generator) -> Any:
        """Build the planner's state for ``problem`` (e.g. a sampling distribution, or the actions)."""
        raise NotImplementedError

    def iterate(self, problem: PlanProblem, state: Any, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """One iteration: update ``state`` in place; return the candidates ``[B, K, H, A]`` it evaluated this
        iteration and their costs ``[B, K]`` (from ``problem.cost`` / ``problem.cost_and_grad``)."""
        raise NotImplementedError

    def plan(self, problem: PlanProblem, budget: Budget, seed: int = 0,
             checkpoints: Sequence[Budget] = ()) -> PlanResult:
        """Run iterations until ``budget`` is spent and return the best plan seen (the anytime loop).

        The generator is seeded with ``seed`` (iteration-budgeted runs are bit-reproducible). The best plan
        per episode is kept over all evaluated candidates with a finite cost; before any finite cost it is the
        clipped warm start (or zero actions). The first iteration always runs; another starts only if
        ``budget.allows_next`` with the previous iteration's seconds and forward evaluations. A checkpoint's
        snapshot is taken by the same rule, so it equals the result of a run with that budget (exactly for
        iteration and evaluation budgets).
        """
        _check_budget(budget, "budget")
        checkpoints = tuple(checkpoints)
        for i, checkpoint in enumerate(checkpoints):
            _check_budget(checkpoint, f"checkpoints[{i}]")
        t0 = time.perf_counter()
        generator = torch.Generator(device=problem.device)
        generator.manual_seed(int(seed))
        fe0, be0 = problem.forward_evals, problem.backward_evals
        best = problem.initial_plan().clone()
        best_cost = torch.full((problem.batch_size,), torch.inf, device=problem.device, dtype=problem.dtype)
        state = self.init(problem, generator)
        iterations, trace = 0, []
        snapshots: list[Snapshot | None] = [None] * len(checkpoints)
        while True:
            t_iter, fe_iter = time.perf_counter(), problem.forward_evals
            candidates, costs = self.iterate(problem, state, generator)
            self._check_output(problem, candidates, costs)
            best, best_cost = _update_best(problem, best, best_cost, candidates.detach(), costs.detach())
            # float() also synchronises an accelerator before the clock is read
            mean_cost = float(best_cost.masked_fill(~torch.isfinite(best_cost), torch.nan).nanmean())
            iterations += 1
            now = time.perf_counter()
            spent = (now - t0, iterations, problem.forward_evals - fe0)
            step = (now - t_iter, problem.forward_evals - fe_iter)
            trace.append((spent[0], iterations, spent[2], problem.backward_evals - be0, mean_cost))
            for i, checkpoint in enumerate(checkpoints):
                if snapshots[i] is None and not checkpoint.allows_next(*spent, *step):
                    snapshots[i] = Snapshot(checkpoint, best.clone(), best_cost.clone(), iterations, spent[2],
                                            problem.backward_evals - be0, spent[0])
            if not budget.allows_next(*spent, *step):
                break
        seconds = time.perf_counter() - t0
        backward = problem.backward_evals - be0
        final = [s if s is not None else Snapshot(c, best.clone(), best_cost.clone(), iterations, spent[2],
                                                  backward, seconds, reached=False)
                 for s, c in zip(snapshots, checkpoints, strict=True)]
        return PlanResult(best, best_cost, iterations, spent[2], backward, seconds, trace, final)

    def _check_output(self, problem: PlanProblem, candidates: torch.Tensor, costs: torch.Tensor) -> None:
        b, h, a = problem.plan_shape
        if candidates.ndim != 4 or candidates.shape[0] != b or candidates.shape[2:] != (h, a) \
                or costs.shape != candidates.shape[:2]:
            raise ValueError(f"{type(self).__name__}.iterate must return candidates [B, K, H, A] = "
                             f"[{b}, K, {h}, {a}] and costs [B, K]; got {list(candidates.shape)} and "
                             f"{list(costs.shape)}")


def _check_budget(budget: Any, name: str) -> None:
    if not isinstance(budget, Budget):
        raise TypeError(f"{name} must be a wmbench.planning.Budget, got {budget!r}")


def _update_best(problem: PlanProblem, best: torch.Tensor, best_cost: torch.Tensor, candidates: torch.Tensor,
                 costs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace each episode's best plan by its cheapest finite candidate when that is strictly cheaper."""
    costs = torch.where(torch.isfinite(costs), costs, torch.inf).to(best_cost.dtype)
    cheapest, index = costs.min(1)
    chosen = problem.clip(candidates[torch.arange(problem.batch_size, device=problem.device), index])
    better = cheapest < best_cost
    best = torch.where(better[:, None, None], chosen.to(best.dtype), best)
    return best, torch.where(better, cheapest, best_cost)
