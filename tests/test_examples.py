"""The README's plugin example is a real, working planner of under 30 lines."""

import sys
from pathlib import Path

import torch
import toys

from wmbench.harness.entries import resolve_entry
from wmbench.planning import Budget, Objective, PlanProblem

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_random_shooting_plugin_is_short_resolvable_and_plans(monkeypatch):
    source = (EXAMPLES / "random_shooting.py").read_text()
    assert len(source.splitlines()) < 30
    monkeypatch.syspath_prepend(str(EXAMPLES))
    entry = resolve_entry("random_shooting:RandomShooting@awm")
    assert entry.variant == "awm"
    planner = entry.make_planner()
    model = toys.Linear(3, 2)
    start = torch.zeros(4, 3)
    goal = model.rollout(start, torch.full((4, 2, 2), 0.3))[:, -1]
    problem = PlanProblem(model, start, goal, 2, -torch.ones(2), torch.ones(2), Objective("last"))
    result = planner.plan(problem, Budget(iterations=20), seed=0)
    zero_cost = problem.cost(torch.zeros(4, 1, 2, 2))[:, 0]
    assert result.iterations == 20 and result.forward_evals == 20 * 256
    assert bool((result.cost < 0.2 * zero_cost).all())
    assert bool((result.actions.abs() <= 1).all())
    sys.modules.pop("random_shooting", None)
