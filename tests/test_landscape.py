"""benchmarks/gbp_landscape.py: the segment evaluation and the CEM-then-GBP planner, on toy problems."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import toys

from wmbench.planning import Budget, Objective, PlanProblem, run_planner
from wmbench_baselines.cem import CEM

_SPEC = importlib.util.spec_from_file_location(
    "gbp_landscape", Path(__file__).resolve().parents[1] / "benchmarks" / "gbp_landscape.py")
landscape = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("gbp_landscape", landscape)  # dataclasses look their module up there
_SPEC.loader.exec_module(landscape)

B, D, H, A = 3, 4, 5, 2


def problem(weighting: str = "exponential") -> PlanProblem:
    g = torch.Generator().manual_seed(1)
    start, goal = torch.randn(B, D, generator=g), torch.randn(B, D, generator=g)
    # bounds wide enough that no point of the segments below is clipped: the toy's cost is then quadratic
    return PlanProblem(toys.Linear(D, A), start, goal, H, -10 * torch.ones(A), 10 * torch.ones(A),
                       Objective(weighting))


@pytest.mark.parametrize("weighting", ["exponential", "last"])
def test_segment_costs_match_the_closed_form_of_a_quadratic(weighting):
    p = problem(weighting)
    g = torch.Generator().manual_seed(2)
    a0, a1 = torch.randn(B, H, A, generator=g), torch.randn(B, H, A, generator=g)
    plans, costs = landscape.segment_points(p, a0, a1)
    assert plans.shape == (B, len(landscape.TS), H, A)
    torch.testing.assert_close(plans[:, 0], a0)
    torch.testing.assert_close(plans[:, -1], a1)
    # linear dynamics: the residual to the goal is (1 - t) r0 + t r1, so the cost is a quadratic in t
    model = toys.Linear(D, A)
    r0 = model.rollout(p.start, a0) - p.goal[:, None]
    r1 = model.rollout(p.start, a1) - p.goal[:, None]
    w = Objective(weighting).weights(H + 1)
    for k, t in enumerate(landscape.TS):
        expected = (((1 - t) * r0 + t * r1).pow(2).mean(-1) @ w)
        torch.testing.assert_close(costs[:, k], expected, rtol=1e-5, atol=1e-6)
    # a convex quadratic along a line has no interior point above both ends
    assert not landscape.has_barrier(costs.numpy()).any()


def test_has_barrier():
    costs = np.array([[1.0, 0.5, 0.2, 0.1],   # monotone: none
                      [1.0, 2.0, 1.5, 0.5],   # a ridge above both ends
                      [1.0, 1.005, 1.0, 1.0]])  # within 1% of the ends: none
    assert landscape.has_barrier(costs).tolist() == [False, True, False]


def test_cem_then_gbp_is_cem_then_starts_gbp_at_cem_plan():
    p = problem()
    planner = landscape.CEMThenGBP(cem_iterations=3, samples=20, topk=5)
    cem = run_planner(CEM(samples=20, topk=5), problem(), Budget(iterations=3), seed=7)
    # under a budget of the CEM iterations alone it returns CEM's plan exactly (same random draws)
    only_cem = run_planner(planner, problem(), Budget(iterations=3), seed=7)
    torch.testing.assert_close(only_cem.actions, cem.actions, rtol=0, atol=0)
    # the first GBP iteration evaluates (and then steps from) exactly CEM's plan
    generator = torch.Generator().manual_seed(7)
    state = planner.init(p, generator)
    for _ in range(3):
        planner.iterate(p, state, generator)
    first, cost = planner.iterate(p, state, generator)
    assert first.shape == (B, 1, H, A)
    torch.testing.assert_close(first[:, 0], cem.actions, rtol=0, atol=0)
    torch.testing.assert_close(cost[:, 0], cem.cost)
    # GBP then lowers the model's cost below CEM's plan's on this smooth toy
    result = run_planner(planner, problem(), Budget(iterations=3 + 50), seed=7)
    assert (result.cost < cem.cost).all()
    assert result.backward_evals == 50
