"""The planning layer: Budget, Objective, PlanProblem and the shared anytime loop of Planner."""

from __future__ import annotations

import re
import time

import pytest
import torch
import toys

import wmbench.planning.planner as planner_module
from wmbench.planning import Budget, Objective, Planner, PlanProblem
from wmbench_baselines.gbp import GBP

torch.set_num_threads(1)
H, A, D, B = 3, 2, 4, 5


class Linear(toys.Linear):
    """The toy linear model at this module's sizes."""

    def __init__(self, seed: int = 0):
        super().__init__(D, A, seed)


class NaNModel(Linear):
    """Returns NaN latents for plans whose first action coordinate ever exceeds 0.2."""

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        z = super().rollout(z0, actions)
        bad = (actions[..., 0] > 0.2).any(1)
        return torch.where(bad[:, None, None], torch.nan, z)


class Shooting(Planner):
    """Uniform random shooting with a configurable sample count and per-iteration sleep."""

    def __init__(self, samples: int = 8, sleep: float = 0.0):
        self.samples, self.sleep = samples, sleep

    def init(self, problem, generator):
        return None

    def iterate(self, problem, state, generator):
        time.sleep(self.sleep)
        u = torch.rand((B, self.samples, H, A), generator=generator, dtype=problem.dtype)
        x = problem.low + u * (problem.high - problem.low)
        return x, problem.cost(x)


def make_problem(model=None, warm_start=None, low=(-1.0, -1.0), high=(1.0, 1.0), **kw) -> PlanProblem:
    g = torch.Generator().manual_seed(1)
    start, goal = torch.randn(B, D, generator=g), torch.randn(B, D, generator=g)
    return PlanProblem(model or Linear(), start, goal, H, torch.tensor(low), torch.tensor(high), Objective(),
                       warm_start=warm_start, **kw)


# ---------------------------------------------------------------- Budget
@pytest.mark.parametrize("kwargs", [{}, {"seconds": 0}, {"iterations": -1}, {"evaluations": 0},
                                    {"iterations": 2.5}, {"seconds": True}, {"seconds": "1"},
                                    {"seconds": 1.0, "iterations": 10}])
def test_budget_rejects_bad_limits(kwargs):
    with pytest.raises((ValueError, TypeError)):
        Budget(**kwargs)


def test_a_budget_is_one_kind_and_value_and_allows_the_next_iteration_within_it():
    seconds, iterations, evaluations = Budget(seconds=1.0), Budget(iterations=10), Budget(evaluations=100)
    assert [(b.kind, b.value) for b in (seconds, iterations, evaluations)] == \
        [("seconds", 1.0), ("iterations", 10), ("evaluations", 100)]
    assert Budget.of("iterations", 10.0) == iterations and type(Budget.of("iterations", 10.0).value) is int
    assert all(b.allows_next(0.5, 9, 50, 0.4, 50) for b in (seconds, iterations, evaluations))
    assert not seconds.allows_next(0.7, 3, 0, 0.4, 10)  # time would pass
    assert not iterations.allows_next(0.0, 10, 0, 0.0, 10)  # iterations spent
    assert not evaluations.allows_next(0.0, 1, 60, 0.0, 50)  # evaluations would pass
    with pytest.raises(AttributeError):
        seconds.seconds = 2.0  # frozen


# ---------------------------------------------------------------- Objective
def test_objective_weights_and_cost():
    w = Objective().weights(6)
    assert torch.allclose(w.sum(), torch.tensor(1.0))
    assert torch.allclose(w[1:] / w[:-1], torch.full((5,), 0.5))
    assert torch.equal(Objective("last").weights(4), torch.tensor([0.0, 0.0, 0.0, 1.0]))
    z = torch.randn(3, 7, H + 1, D)
    goal = torch.randn(3, D)
    flat = Objective().cost(z.reshape(21, H + 1, D), goal.repeat_interleave(7, 0)).view(3, 7)
    assert torch.allclose(Objective().cost(z, goal[:, None]), flat)  # an extra K axis broadcasts
    manual = ((z[:, :, -1] - goal[:, None]) ** 2).mean(-1)
    assert torch.allclose(Objective("last").cost(z, goal[:, None]), manual)
    with pytest.raises(ValueError, match="weighting"):
        Objective("first")
    with pytest.raises(ValueError, match="z_goal"):
        Objective().cost(z, torch.randn(3, D + 1))


@pytest.mark.parametrize("weighting", ["exponential", "last"])
@pytest.mark.parametrize("dim_weights", [None, torch.tensor([0.0, 1.0, 2.0, 0.5], dtype=torch.float64)])
def test_objective_closed_form_gradient_matches_autograd(weighting, dim_weights):
    z = torch.randn(3, 2, H + 1, D, dtype=torch.float64, requires_grad=True)
    goal = torch.randn(3, 1, D, dtype=torch.float64)
    objective = Objective(weighting)
    cost = objective.cost(z, goal, dim_weights)
    cost2, grad = objective.cost_and_grad(z.detach(), goal, dim_weights)
    assert torch.equal(cost2, cost.detach())
    assert torch.allclose(grad, torch.autograd.grad(cost.sum(), z)[0])


def test_objective_weights_follow_changed_dim_weights():
    objective, z, goal, w = Objective(), torch.randn(2, H + 1, D), torch.randn(2, D), torch.rand(D)
    objective.cost(z, goal, w)
    w[0] += 1.0  # changed in place: the same tensor, new weights
    assert torch.equal(objective.cost(z, goal, w), Objective().cost(z, goal, w))
    objective.weighting = "last"
    assert torch.equal(objective.cost(z, goal, w), Objective("last").cost(z, goal, w))


# ---------------------------------------------------------------- PlanProblem
def test_problem_cost_counts_clips_and_chunks():
    p = make_problem()
    x = 3 * torch.randn(B, 6, H, A)
    c = p.cost(x)
    assert c.shape == (B, 6) and (p.forward_evals, p.backward_evals) == (6, 0)
    assert torch.equal(c, p.cost(x.clamp(-1, 1)))  # the cost of the executed (clipped) plan
    z = Linear().rollout(p.start[1:2].expand(6, D), x[1].clamp(-1, 1))
    assert torch.allclose(c[1], Objective().cost(z, p.goal[1]))
    chunked = make_problem(chunk=4)
    assert torch.allclose(chunked.cost(x), c)
    assert chunked.forward_evals == 6


def test_problem_cost_and_grad_matches_autograd():
    p = make_problem(chunk=3)
    x = (0.5 * torch.randn(B, 2, H, A)).clamp(-0.99, 0.99)
    c, g = p.cost_and_grad(x)
    assert (p.forward_evals, p.backward_evals) == (2, 2)
    xr = x.clone().requires_grad_(True)
    z = Linear().rollout(p.start.repeat_interleave(2, 0), xr.view(B * 2, H, A)).view(B, 2, H + 1, D)
    ref = Objective().cost(z, p.goal[:, None])
    ref.sum().backward()
    assert torch.allclose(c, ref.detach()) and torch.allclose(g, xr.grad)
    assert not x.requires_grad


def test_problem_gradient_passes_the_clip_inside_the_bounds_only():
    p = make_problem()
    x = 2 * torch.randn(B, 1, H, A)
    x[0, 0, 0] = torch.tensor([1.0, -1.0])  # on the bounds: passes, as torch.clamp's gradient does
    x[1, 0, 0, 0] = torch.nan  # NaN: no gradient
    xr = x.clone().requires_grad_(True)
    z = Linear().rollout(p.start, xr[:, 0].clamp(-1, 1))
    Objective().cost(z, p.goal).sum().backward()
    g = p.cost_and_grad(x)[1]
    inside = (x >= -1) & (x <= 1)
    assert torch.allclose(g, xr.grad, equal_nan=True)
    assert (g[~inside] == 0).all() and (g[0, 0, 0] != 0).all()


def test_problem_validates_input():
    with pytest.raises(ValueError, match="candidate actions"):
        make_problem().cost(torch.zeros(B, H, A))
    with pytest.raises(ValueError, match="warm_start"):
        make_problem(warm_start=torch.zeros(B, H + 1, A))
    with pytest.raises(ValueError, match="low < high"):
        make_problem(low=(1.0, 1.0))
    with pytest.raises(TypeError, match="rollout"):
        PlanProblem(object(), torch.zeros(B, D), torch.zeros(B, D), H, -torch.ones(A), torch.ones(A))


def test_problem_rejects_gradients_through_non_differentiable_model():
    class NoGrad(Linear):
        def rollout(self, z0, actions):
            return super().rollout(z0, actions).detach()

    with pytest.raises(TypeError, match="not differentiable"):
        make_problem(NoGrad()).cost_and_grad(torch.zeros(B, 1, H, A))


# ---------------------------------------------------------------- the anytime loop
def test_iteration_and_evaluation_budgets():
    r = Shooting(samples=8).plan(make_problem(), Budget(iterations=7))
    assert (r.iterations, r.forward_evals, r.backward_evals, len(r.trace)) == (7, 56, 0, 7)
    r = Shooting(samples=8).plan(make_problem(), Budget(evaluations=60))
    assert (r.iterations, r.forward_evals) == (7, 56)  # an 8th iteration would reach 64 > 60
    r = Shooting(samples=8).plan(make_problem(), Budget(evaluations=5))
    assert (r.iterations, r.forward_evals) == (1, 8)  # the first iteration always runs


def test_evaluation_budgets_count_forward_and_backward_passes():
    p = make_problem()
    r = GBP(n_restarts=3).plan(p, Budget(evaluations=20))
    # one iteration = 3 forward + 3 backward = 6 evaluations; a 4th would reach 24 > 20
    assert (r.iterations, r.forward_evals, r.backward_evals) == (3, 9, 9)
    assert p.evaluations == 18 == p.forward_evals + p.backward_evals


def test_the_problem_keeps_its_accounting_and_bounds():
    p = make_problem()
    p.cost(torch.zeros(B, 2, H, A))
    for name in ("forward_evals", "backward_evals", "evaluations", "low", "high", "start", "goal"):
        with pytest.raises(AttributeError):
            setattr(p, name, 0)
    p.low.sub_(5)  # a copy: the bounds stay
    p.high.add_(5)
    assert p.forward_evals == 2 and torch.equal(p.low, -torch.ones(A)) and torch.equal(p.high, torch.ones(A))
    assert torch.equal(p.clip(torch.full((A,), 9.0)), torch.ones(A))


def test_time_budget_stops_within_one_iteration():
    budget = Budget(seconds=0.15)
    r = Shooting(sleep=0.01).plan(make_problem(), budget)
    elapsed = [t[0] for t in r.trace]
    longest = max(b - a for a, b in zip([0.0, *elapsed], elapsed, strict=False))
    assert r.iterations > 1
    assert budget.seconds - longest < elapsed[-1] <= budget.seconds + longest
    assert elapsed[-1] <= r.seconds


def test_best_so_far_is_monotone_and_reproducible():
    p = make_problem()
    r1 = Shooting().plan(p, Budget(iterations=20), seed=3)
    r2 = Shooting().plan(make_problem(), Budget(iterations=20), seed=3)
    r3 = Shooting().plan(make_problem(), Budget(iterations=20), seed=4)
    assert torch.equal(r1.actions, r2.actions) and torch.equal(r1.cost, r2.cost)
    assert not torch.equal(r1.actions, r3.actions)
    assert torch.allclose(p.cost(r1.actions[:, None])[:, 0], r1.cost)  # cost belongs to the returned plan
    means = [t[4] for t in r1.trace]
    assert all(b <= a for a, b in zip(means, means[1:], strict=False))


def test_milestones_equal_runs_with_that_budget():
    checkpoints = [Budget(iterations=2), Budget(evaluations=40), Budget(iterations=9)]
    r = Shooting().plan(make_problem(), Budget(iterations=12), seed=5, milestones=checkpoints)
    assert [s.iterations for s in r.milestones] == [2, 5, 9] and all(s.reached for s in r.milestones)
    for snap, checkpoint in zip(r.milestones, checkpoints, strict=True):
        alone = Shooting().plan(make_problem(), checkpoint, seed=5)
        assert torch.equal(snap.actions, alone.actions) and snap.forward_evals == alone.forward_evals
    costs = [s.cost for s in r.milestones] + [r.cost]
    assert all(bool((b <= a).all()) for a, b in zip(costs, costs[1:], strict=False))
    late = Shooting().plan(make_problem(), Budget(iterations=2), milestones=[Budget(iterations=5)])
    assert not late.milestones[0].reached and torch.equal(late.milestones[0].actions, late.actions)


def test_nan_costs_never_become_best():
    r = Shooting(samples=16).plan(make_problem(NaNModel()), Budget(iterations=10))
    assert torch.isfinite(r.cost).all() and torch.isfinite(r.actions).all()
    assert (r.actions[..., 0] <= 0.2).all() and (r.actions.abs() <= 1).all()

    class AllNaN(Linear):
        def rollout(self, z0, actions):
            return torch.full((z0.shape[0], actions.shape[1] + 1, D), torch.nan)

    warm = 2 * torch.ones(B, H, A)
    r = Shooting().plan(make_problem(AllNaN(), warm_start=warm, low=(-1.0, 0.0)), Budget(iterations=3))
    assert torch.isinf(r.cost).all() and torch.equal(r.actions, torch.ones(B, H, A))  # the clipped warm start
    assert all(t[4] != t[4] for t in r.trace)  # NaN mean when no episode has a finite cost


def test_bad_iterate_output_and_budget_type_are_reported():
    class Broken(Shooting):
        def iterate(self, problem, state, generator):
            x, c = super().iterate(problem, state, generator)
            return x, c[:, :1]

    with pytest.raises(ValueError, match="Broken.iterate"):
        Broken().plan(make_problem(), Budget(iterations=1))
    with pytest.raises(TypeError, match="budget"):
        Shooting().plan(make_problem(), 10)


def test_docstring_user_planner_works():
    code = re.search(r"\.\. code-block:: python\n\n(.*?)\n\n(?=\S)", planner_module.__doc__, re.S).group(1)
    assert len(code.strip().splitlines()) < 30
    namespace: dict = {}
    exec(compile(code.replace("\n    ", "\n").strip(), "planner-docstring", "exec"), namespace)
    p = make_problem(low=(-0.5, 0.0), high=(0.5, 1.0))
    first = namespace["RandomShooting"](samples=64).plan(p, Budget(iterations=1))
    r = namespace["RandomShooting"](samples=64).plan(p, Budget(iterations=10))
    assert r.forward_evals == 640 and (r.cost <= first.cost).all() and (r.cost < first.cost).any()
    assert torch.allclose(p.cost(r.actions[:, None])[:, 0], r.cost)
    assert (r.actions[..., 0].abs() <= 0.5).all() and (r.actions[..., 1] >= 0).all()
