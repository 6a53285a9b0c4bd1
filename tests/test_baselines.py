"""Reference planners: optimum on a linear-quadratic toy, exact counts, NaN robustness, bounds, the oracle."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

import numpy as np
import pytest
import torch
import toys
from gymnasium import spaces

from wmbench.models.simulator import SimulatorModel
from wmbench.planning import Budget, Objective, PlanProblem
from wmbench_baselines.cem import CEM
from wmbench_baselines.gbp import GBP
from wmbench_baselines.gbp_cem import GBPCEM
from wmbench_baselines.icem import ICEM, colored_noise
from wmbench_baselines.mppi import MPPI
from wmbench_baselines.oracle import Oracle
from wmbench_envs.base import GoalEnv

torch.set_num_threads(1)
H, A, D, B = 3, 2, 4, 4


class Linear(toys.Linear):
    """The toy linear model at this module's sizes."""

    def __init__(self, seed: int = 0):
        super().__init__(D, A, seed)

    def optimum(self, start: torch.Tensor, goal: torch.Tensor, objective: Objective) -> torch.Tensor:
        """The unconstrained minimiser [B, H, A] of the (quadratic) objective, by least squares."""
        w = objective.weights(H + 1)
        plans = []
        for z0, g in zip(start, goal, strict=True):
            rows, rhs = [], []
            for t in range(H + 1):
                m = torch.zeros(D, H * A)
                for s in range(t):
                    m[:, s * A:(s + 1) * A] = torch.linalg.matrix_power(self.M, t - 1 - s) @ self.N
                scale = (w[t] / D).sqrt()
                rows.append(scale * m)
                rhs.append(scale * (g - torch.linalg.matrix_power(self.M, t) @ z0))
            plans.append(torch.linalg.lstsq(torch.cat(rows), torch.cat(rhs)[:, None]).solution.view(H, A))
        return torch.stack(plans)


class NaNModel(Linear):
    """NaN latents (and NaN gradients) for a pseudo-random ~30% of all plans."""

    def rollout(self, z0, actions):
        bad = torch.frac(1000 * actions[:, :, 0].sum(1).abs() + 0.5) < 0.3
        return super().rollout(z0, actions) + torch.where(bad, torch.nan, 0.0)[:, None, None]


def toy(model=None, low=-1.0, high=1.0, warm_start=None) -> PlanProblem:
    g = torch.Generator().manual_seed(0)
    start = torch.randn(B, D, generator=g)
    goal = Linear().rollout(start, 0.8 * torch.rand(B, H, A, generator=g) - 0.4)[:, -1]
    low, high = torch.full((A,), low), torch.full((A,), high)
    return PlanProblem(model or Linear(), start, goal, H, low, high, Objective(), warm_start=warm_start)


#: (planner, iterations, max relative cost gap to the optimum)
PLANNER_CASES = [
    (GBP(), 300, 1e-3),
    (GBP(optimizer="gd", lr=1.0, init="zero", noise=0.0), 300, 1e-2),
    (GBP(n_restarts=3), 300, 1e-3),
    (CEM(), 30, 1e-3),
    (MPPI(), 30, 1e-2),
    (ICEM(), 30, 1e-3),
    (GBPCEM(), 30, 1e-2),
]
IDS = ["gbp", "gbp-gd", "gbp-restarts", "cem", "mppi", "icem", "gbp-cem"]


@pytest.mark.parametrize(("planner", "iterations", "tol"), PLANNER_CASES, ids=IDS)
def test_planner_reaches_the_optimum(planner, iterations, tol):
    p = toy()
    best = Linear().optimum(p.start, p.goal, p.objective)
    assert best.abs().max() < 1  # the unconstrained optimum is inside the bounds, so it is the optimum
    optimal, zero = p.cost(best[:, None])[:, 0], p.cost(p.initial_plan()[:, None])[:, 0]
    r = planner.plan(p, Budget(iterations=iterations), seed=0)
    gap = (r.cost - optimal) / (zero - optimal)
    assert (gap < tol).all() and (gap > -1e-4).all(), gap
    assert r.iterations == iterations


@pytest.mark.parametrize(("planner", "forward", "backward"), [
    (GBP(), 10, 10), (GBP(n_restarts=4), 40, 40), (CEM(samples=20, topk=5), 200, 0),
    (MPPI(samples=20), 200, 0), (ICEM(samples=20, topk=5), 200, 0),
    (GBPCEM(samples=20, topk=5, grad_steps=2), 600, 400)],
    ids=["gbp", "gbp-restarts", "cem", "mppi", "icem", "gbp-cem"])
def test_counts_are_exact(planner, forward, backward):
    r = planner.plan(toy(), Budget(iterations=10))
    assert (r.forward_evals, r.backward_evals) == (forward, backward)
    assert r.trace[-1][2:4] == (forward, backward)


@pytest.mark.parametrize("planner", [c[0] for c in PLANNER_CASES], ids=IDS)
def test_reproducible_bounded_and_nan_safe(planner):
    budget = Budget(iterations=5)
    r1 = planner.plan(toy(low=-0.5, high=0.2), budget, seed=7)
    r2 = planner.plan(toy(low=-0.5, high=0.2), budget, seed=7)
    assert torch.equal(r1.actions, r2.actions) and torch.equal(r1.cost, r2.cost)
    assert (r1.actions >= -0.5).all() and (r1.actions <= 0.2).all()
    p = toy(NaNModel())
    r = planner.plan(p, Budget(iterations=10), seed=0)
    assert torch.isfinite(r.cost).all() and (r.actions.abs() <= 1).all()
    assert torch.equal(p.cost(r.actions[:, None])[:, 0], r.cost)  # the plan kept is a finite one


@pytest.mark.parametrize("planner", [GBP(), GBPCEM()], ids=["gbp", "gbp-cem"])
def test_gradient_planners_keep_improving_through_nan_gradients(planner):
    clean, p = toy(), toy(NaNModel())
    best = Linear().optimum(clean.start, clean.goal, clean.objective)
    optimal, zero = clean.cost(best[:, None])[:, 0], clean.cost(clean.initial_plan()[:, None])[:, 0]
    r = planner.plan(p, Budget(iterations=300 if type(planner) is GBP else 30))
    assert ((r.cost - optimal) / (zero - optimal) < 1e-2).all()


def test_planners_start_from_the_warm_start():
    p = toy()
    warm = Linear().optimum(p.start, p.goal, p.objective)
    optimal = p.cost(warm[:, None])[:, 0]
    for planner in (GBP(), CEM(), MPPI(), ICEM(), GBPCEM()):
        r = planner.plan(toy(warm_start=warm), Budget(iterations=1))
        assert torch.allclose(r.cost, optimal, rtol=1e-4), type(planner).__name__


def test_gbp_cem_elites_are_post_gradient():
    p, planner = toy(), GBPCEM(samples=6, topk=6)
    state = planner.init(p, torch.Generator().manual_seed(0))
    candidates, costs = planner.iterate(p, state, torch.Generator().manual_seed(0))
    assert candidates.shape == (B, 12, H, A) and costs.shape == (B, 12)
    assert torch.allclose(state.mean, candidates[:, 6:].mean(1))  # all samples are elites: post-gradient mean
    assert not torch.allclose(state.mean, candidates[:, :6].mean(1))


def test_icem_noise_is_coloured_and_elites_are_kept():
    g = torch.Generator().manual_seed(0)
    noise = colored_noise((20, 500, 8, 2), 2.0, g, torch.device("cpu"), torch.float32)
    white = torch.randn(20, 500, 8, 2, generator=g)
    assert 0.7 < noise.std() < 1.3

    def lag1(x):
        return (x[:, :, 1:] * x[:, :, :-1]).mean() / x.var()

    assert lag1(noise) > 0.3 and abs(lag1(white)) < 0.05
    planner = ICEM(samples=20, topk=10, keep_elites=0.3)
    p = toy()
    state = planner.init(p, g)
    planner.iterate(p, state, g)
    assert state.kept.shape == (B, 3, H, A)
    assert torch.allclose(p.cost(state.kept), state.kept_costs)


def test_reference_planners_are_registered_entry_points():
    registered = {ep.name: ep for ep in entry_points(group="wmbench.planners")}
    expected = {"GBP": GBP, "CEM": CEM, "MPPI": MPPI, "iCEM": ICEM, "GBP-CEM": GBPCEM, "Oracle": Oracle}
    assert {name: registered[name].load() for name in expected} == expected
    assert all(registered[name].dist.name == "wmbench-baselines" for name in expected)


# ---------------------------------------------------------------- oracle
class Dot(GoalEnv):
    """A stand-in env: a point in the unit square moved by 0.1 * action per step."""

    state_low, state_high = np.zeros(2), np.ones(2)
    action_space = spaces.Box(-1, 1, (2,), np.float32)

    def _set_physics_state(self, state):
        self._s = state.copy()

    def _get_physics_state(self):
        return self._s

    def _physics_step(self, action):
        self._s = np.clip(self._s + 0.1 * action, 0, 1)

    def sample_start_goal(self, rng):
        return rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)

    def draw(self, state, size):
        return np.zeros((size, size, 3), np.uint8)

    @staticmethod
    def success(state, goal):
        return np.linalg.norm(state - goal, axis=-1) < 0.05

    @staticmethod
    def state_distance(state, goal):
        return np.linalg.norm(state - goal, axis=-1)


def test_simulator_model_replays_env_steps():
    model = SimulatorModel(Dot(), frameskip=2)
    assert (model.action_dim, model.latent_dim) == (4, 2)
    z0 = torch.tensor([[0.5, 0.5], [0.0, 1.0]], dtype=torch.float64)
    actions = torch.tensor([[[1, 0, 1, -1.0]], [[-1, 1, 0.5, 0.5]]], dtype=torch.float64)
    z = model.rollout(z0, actions)
    assert torch.allclose(z[:, 1], torch.tensor([[0.7, 0.4], [0.05, 1.0]], dtype=torch.float64))
    assert torch.equal(z[:, 0], z0) and torch.equal(model.step(z0, actions[:, 0]), z[:, 1])
    with pytest.raises(ValueError, match="rollout expects"):
        model.rollout(z0, actions[..., :2])


def test_oracle_plans_with_the_simulator():
    model = SimulatorModel(Dot(), frameskip=2)
    start = torch.tensor([[0.2, 0.2], [0.8, 0.5]], dtype=torch.float64)
    goal = torch.tensor([[0.6, 0.5], [0.5, 0.9]], dtype=torch.float64)
    p = PlanProblem(model, model.encode(start), model.encode(goal), 3, -torch.ones(4), torch.ones(4),
                    Objective("last"))
    r = Oracle(samples=64, topk=8).plan(p, Budget(iterations=8))
    final = model.rollout(p.start, r.actions)[:, -1]
    assert Dot.success(final.numpy(), goal.numpy()).all()
    with pytest.raises(TypeError, match="not differentiable"):
        GBP().plan(p, Budget(iterations=1))


@pytest.mark.parametrize("env", ["pointmaze", "pusht", "wall"])
def test_simulator_model_matches_the_real_env(env):
    from wmbench_envs import ENVS

    module, _, cls = ENVS[env][1].partition(":")
    real = getattr(importlib.import_module(module), cls)()
    model = SimulatorModel(env, frameskip=2)
    start, _ = real.sample_start_goal(np.random.default_rng(0))
    actions = np.random.default_rng(1).uniform(-1, 1, (1, 2, 4))
    z = model.rollout(model.encode(torch.from_numpy(start)[None]), torch.from_numpy(actions))
    real.reset(seed=0, options={"state": start})
    for action in actions.reshape(4, 2):
        real.step(action)
    assert np.array_equal(z[0, -1, :real.state_dim].numpy(), real.get_state())
