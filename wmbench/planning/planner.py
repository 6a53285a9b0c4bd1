'''The Planner base class and its shared anytime loop.

A planner implements two methods; the anytime loop does the rest (seeding, budget, best-so-far plan, trace,
milestone snapshots, counting). A complete user planner, random shooting in the bounds:

.. code-block:: python

    import torch
    from wmbench.planning import Planner

    class RandomShooting(Planner):
        """Evaluate ``samples`` uniform random plans per episode and iteration."""

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
``my_pkg.my_mod:RandomShooting`` or register it in the ``wmbench.planners`` entry-point group. The loop is
`run_planner`, a plain function: the harness calls it directly, so a planner cannot change how its time
and model evaluations are counted. Its clock is bound when this module is imported (rebinding this module's
``time`` changes nothing), and it checks after every iteration that the problem's evaluation counter is the
one it started with and never went down.
'''

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch

from wmbench.planning.budget import Budget
from wmbench.planning.problem import PlanProblem
from wmbench.registry import planner_path, resolve


class TracePoint(NamedTuple):
    """The state of a plan call after one iteration (counts per episode, cumulative)."""

    seconds: float
    iterations: int
    forward_evals: int
    backward_evals: int
    mean_best_cost: float  #: over the episodes with a finite best cost (NaN if none)


@dataclass(frozen=True, kw_only=True)
class Milestone:
    """The best plan at a smaller budget of the same run: what a run with that budget would have returned.

    ``reached`` is False when the run ended before the milestone (the final plan is stored then).
    """

    budget: Budget
    actions: torch.Tensor
    cost: torch.Tensor
    iterations: int
    forward_evals: int
    backward_evals: int
    seconds: float
    reached: bool = True


@dataclass(frozen=True, kw_only=True)
class PlanResult:
    """Best plan found: ``actions [B, H, A]`` within bounds, its ``cost [B]`` (inf if nothing finite was
    seen), the counts per episode, the wall-clock ``seconds`` of the call, one `TracePoint` per
    iteration and one `Milestone` per requested milestone budget, in the order given."""

    actions: torch.Tensor
    cost: torch.Tensor
    iterations: int
    forward_evals: int
    backward_evals: int
    seconds: float
    trace: list[TracePoint] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)


class Planner:
    """Base class of planners: subclasses implement `init` and `iterate`."""

    def init(self, problem: PlanProblem, generator: torch.Generator) -> Any:
        """Build the planner's state for ``problem`` (e.g. a sampling distribution, or the actions)."""
        raise NotImplementedError

    def iterate(self, problem: PlanProblem, state: Any, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """One iteration: update ``state`` in place; return the candidates ``[B, K, H, A]`` it evaluated this
        iteration and their costs ``[B, K]`` (from ``problem.cost`` / ``problem.cost_and_grad``)."""
        raise NotImplementedError

    def plan(self, problem: PlanProblem, budget: Budget, seed: int = 0,
             milestones: Sequence[Budget] = ()) -> PlanResult:
        """``run_planner(self, problem, budget, seed, milestones)``."""
        return run_planner(self, problem, budget, seed, milestones)


def planner_class(name: str) -> type[Planner]:
    """The `Planner` subclass behind a registered planner name (the ``wmbench.planners`` entry points)
    or a ``"module:Class"`` path; ``KeyError`` if unregistered, one-line ``ValueError`` if it cannot be
    imported or is not a planner."""
    path = planner_path(name)
    cls = resolve(path)
    if not (isinstance(cls, type) and issubclass(cls, Planner)):
        raise ValueError(f"{path} is not a wmbench.planning.Planner subclass (implement init and iterate; "
                         "the shared loop does the rest)")
    return cls


def run_planner(planner: Planner, problem: PlanProblem, budget: Budget, seed: int = 0,
                milestones: Sequence[Budget] = (), *, _clock: Callable[[], float] = time.perf_counter
                ) -> PlanResult:
    """Run ``planner``'s iterations until ``budget`` is spent; return the best plan seen (the anytime loop).

    The generator is seeded with ``seed`` (iteration-budgeted runs are bit-reproducible). The best plan per
    episode is kept over all evaluated candidates with a finite cost; before any finite cost it is the clipped
    warm start (or zero actions). The first iteration always runs; another starts only if
    ``budget.allows_next`` with the previous iteration's seconds and evaluations. A milestone's snapshot is
    taken by the same rule, so it equals the result of a run with that budget (exactly for iteration and
    evaluation budgets). Time and evaluations are measured here and read from the problem's counters, never
    from the planner. ``_clock`` is ``time.perf_counter`` as it was at import (not a module attribute that a
    planner could rebind). A planner that replaces or lowers the problem's counter raises ``RuntimeError``.
    """
    _check_budget(budget, "budget")
    milestones = tuple(milestones)
    for i, milestone in enumerate(milestones):
        _check_budget(milestone, f"milestones[{i}]")
    t0 = _clock()
    generator = torch.Generator(device=problem.device)
    generator.manual_seed(int(seed))
    tally = problem._tally  # the problem's counter, which the loop checks is never replaced
    fe0, be0 = counts = tally()
    best = problem.initial_plan()
    best_cost = torch.full((problem.batch_size,), torch.inf, device=problem.device, dtype=problem.dtype)
    state = planner.init(problem, generator)
    trace: list[TracePoint] = []
    snapshots: list[Milestone | None] = [None] * len(milestones)
    while True:
        t_iter, before = _clock(), counts
        candidates, costs = planner.iterate(problem, state, generator)
        counts = _check_counts(planner, problem, tally, before)
        _check_output(planner, problem, candidates, costs)
        best, best_cost = _update_best(best, best_cost, candidates.detach(), costs.detach())
        mean_cost = _finite_mean(best_cost)  # also synchronises an accelerator before the clock is read
        now = _clock()
        point = TracePoint(now - t0, len(trace) + 1, counts[0] - fe0, counts[1] - be0, mean_cost)
        trace.append(point)
        spent = (point.seconds, point.iterations, point.forward_evals + point.backward_evals)
        step = (now - t_iter, sum(counts) - sum(before))
        for i, milestone in enumerate(milestones):
            if snapshots[i] is None and not milestone.allows_next(*spent, *step):
                snapshots[i] = _milestone(milestone, problem.clip(best), best_cost, point)
        if not budget.allows_next(*spent, *step):
            break
    best = problem.clip(best)
    final = TracePoint(_clock() - t0, *point[1:])
    return PlanResult(actions=best, cost=best_cost, iterations=final.iterations,
                      forward_evals=final.forward_evals, backward_evals=final.backward_evals,
                      seconds=final.seconds, trace=trace,
                      milestones=[s or _milestone(m, best.clone(), best_cost, final, reached=False)
                                  for s, m in zip(snapshots, milestones, strict=True)])


def _milestone(budget: Budget, actions: torch.Tensor, best_cost: torch.Tensor, point: TracePoint,
               reached: bool = True) -> Milestone:
    return Milestone(budget=budget, actions=actions, cost=best_cost.clone(), iterations=point.iterations,
                     forward_evals=point.forward_evals, backward_evals=point.backward_evals,
                     seconds=point.seconds, reached=reached)


def _check_counts(planner: Planner, problem: PlanProblem, tally: Callable[..., tuple[int, int]],
                  before: tuple[int, int]) -> tuple[int, int]:
    """The problem's counts after an iteration; ``RuntimeError`` if its counter was replaced or went down."""
    counts = tally()
    if problem._tally is not tally or counts[0] < before[0] or counts[1] < before[1]:
        raise RuntimeError(f"{type(planner).__name__} changed the plan problem's evaluation counters")
    return counts


def _check_output(planner: Planner, problem: PlanProblem, candidates: Any, costs: Any) -> None:
    b, h, a = problem.plan_shape
    if not isinstance(candidates, torch.Tensor) or not isinstance(costs, torch.Tensor) \
            or candidates.ndim != 4 or candidates.shape[0] != b or candidates.shape[2:] != (h, a) \
            or costs.shape != candidates.shape[:2]:
        shapes = [list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
                  for x in (candidates, costs)]
        raise ValueError(f"{type(planner).__name__}.iterate must return candidates [B, K, H, A] = "
                         f"[{b}, K, {h}, {a}] and costs [B, K]; got {shapes[0]} and {shapes[1]}")


def _check_budget(budget: Any, name: str) -> None:
    if not isinstance(budget, Budget):
        raise TypeError(f"{name} must be a wmbench.planning.Budget, got {budget!r}")


def _update_best(best: torch.Tensor, best_cost: torch.Tensor, candidates: torch.Tensor, costs: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace each episode's best plan by its cheapest finite candidate when that is strictly cheaper (not
    clipped here: `run_planner` clips the plans it returns)."""
    costs = costs.to(best_cost.dtype).nan_to_num(torch.inf, torch.inf, torch.inf)  # non-finite -> inf
    if costs.shape[1] == 1:
        cheapest, chosen = costs.squeeze(1), candidates.squeeze(1)
    else:
        cheapest, index = costs.min(1)
        chosen = candidates[torch.arange(len(index), device=index.device), index]
    better = cheapest < best_cost
    best = torch.where(better.view(-1, 1, 1), chosen.to(best.dtype), best)
    return best, torch.where(better, cheapest, best_cost)


def _finite_mean(costs: torch.Tensor) -> float:
    """The mean of the finite entries of ``costs`` (NaN if none), in double precision on the host."""
    values = costs.tolist()
    total = sum(values)
    if not math.isfinite(total):  # an episode without a finite cost yet
        values = [v for v in values if math.isfinite(v)]
        total = sum(values)
    return total / len(values) if values else math.nan
