"""Episode control loop (open-loop and MPC) on a toy point env with an exact toy world model.

The toy components here (ToyEnv, ToyModel, planners) are also used by test_harness.py and test_report.py, and
by the sweep subprocess in the resume test (as ``test_control:ToyEnv`` etc.).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest
import torch
from gymnasium import spaces

from wmbench.harness.episodes import episode_records, run_episodes
from wmbench.planning import Budget, Planner
from wmbench.registry import make_env
from wmbench_envs.base import GoalEnv

torch.set_num_threads(1)
TOY = "test_control:ToyEnv"


class ToyEnv(GoalEnv):
    """A point in the plane: ``x += 0.1 a`` per env step; success within 0.15 of the goal."""

    state_low = np.array([-2.0, -2.0])
    state_high = np.array([2.0, 2.0])

    def __init__(self, obs_type: str = "state", render_mode: str | None = None, image_size: int = 64):
        super().__init__(obs_type, render_mode, image_size)
        self.action_space = spaces.Box(-1, 1, (2,), np.float32)
        self._pos = np.zeros(2)

    def _set_physics_state(self, state):
        self._pos = state.copy()

    def _get_physics_state(self):
        return self._pos

    def _physics_step(self, action):
        self._pos = np.clip(self._pos + 0.1 * action, -2, 2)

    def sample_start_goal(self, rng):
        return rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2)

    def draw(self, state, size):
        img = np.zeros((size, size, 3), dtype=np.uint8)
        col, row = np.round((np.asarray(state) + 2) / 4 * (size - 1)).astype(int)
        img[row, col] = 255
        return img

    @staticmethod
    def success(state, goal):
        return np.linalg.norm(np.asarray(state) - goal, axis=-1) < 0.15

    @staticmethod
    def state_distance(state, goal):
        return np.linalg.norm(np.asarray(state) - goal, axis=-1)


class ToyModel(torch.nn.Module):
    """The toy env's exact dynamics as a differentiable world model (frameskip 2, identity encoder)."""

    env, frameskip, action_dim, latent_dim = TOY, 2, 4, 2
    obs_type = "state"

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.1))
        self.metadata = {"env": TOY, "dataset_hash": "data0", "checkpoint_hash": "ckpt0"}
        self.encoded: list[torch.Tensor] = []

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        self.encoded.append(obs)
        return obs.float()

    def step(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return z + self.scale * a.view(-1, self.frameskip, 2).sum(1)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        zs = [z0]
        for t in range(actions.shape[1]):
            zs.append(self.step(zs[-1], actions[:, t]))
        return torch.stack(zs, 1)


class PixelToyModel(ToyModel):
    """Encodes ToyEnv images: the lit pixel's position back to plane coordinates."""

    obs_type = "pixels"

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        assert obs.dtype == torch.uint8 and obs.ndim == 4
        self.encoded.append(obs)
        size = obs.shape[1]
        flat = obs[..., 0].flatten(1).argmax(1)
        rc = torch.stack([flat % size, flat // size], 1).float()
        return rc / (size - 1) * 4 - 2


class Straight(Planner):
    """One candidate per iteration: full speed straight at the goal latent (deterministic)."""

    def init(self, problem, generator):
        self.calls = getattr(self, "calls", []) + [problem]
        return None

    def iterate(self, problem, state, generator):
        d = problem.goal - problem.start
        u = (d / d.norm(dim=-1, keepdim=True).clamp_min(1e-9)).repeat(1, problem.action_dim // 2)
        candidates = u[:, None, None].expand(-1, 1, problem.horizon, -1).contiguous()
        return candidates, problem.cost(candidates)


class RandomShooting(Planner):
    """Uniform random candidates (seeded by the loop's generator)."""

    def __init__(self, samples: int = 8):
        self.samples = samples

    def init(self, problem, generator):
        return None

    def iterate(self, problem, state, generator):
        b, h, a = problem.plan_shape
        u = torch.rand(b, self.samples, h, a, generator=generator, dtype=problem.dtype)
        candidates = problem.low + u * (problem.high - problem.low)
        return candidates, problem.cost(candidates)


class BadPlanner(Planner):
    """In a batch of 3: a NaN action with a finite cost for episode 0, out-of-bounds actions for episode 1
    (the loop clips them), zeros otherwise; each iteration sleeps 30 ms (over a 10 ms budget)."""

    def init(self, problem, generator):
        return None

    def iterate(self, problem, state, generator):
        time.sleep(0.03)
        actions = torch.zeros(problem.plan_shape)
        if problem.batch_size == 3:
            actions[0, 0, 0] = float("nan")
            actions[1] = 1.5
        return actions[:, None], -torch.ones(problem.batch_size, 1)


class RaisingPlanner(Straight):
    def iterate(self, problem, state, generator):
        raise RuntimeError("boom\nsecond line")


class ExitingPlanner(Straight):
    def iterate(self, problem, state, generator):
        sys.exit("planner gave up")


class CounterResetter(Straight):
    """Tries to zero its evaluation counter after every iteration."""

    def iterate(self, problem, state, generator):
        out = super().iterate(problem, state, generator)
        problem.forward_evals = 0
        return out


class BoundWidener(RandomShooting):
    """Widens the bounds it is given in place, then samples in them."""

    def iterate(self, problem, state, generator):
        problem.low.sub_(5.0)
        problem.high.add_(5.0)
        return super().iterate(problem, state, generator)


class OwnLoop(Straight):
    """Overrides ``plan`` to claim no time and no evaluations; the harness never calls it."""

    def plan(self, problem, budget, seed=0, milestones=()):
        raise AssertionError("the harness must run the shared loop, not Planner.plan")


def _tasks(goals):
    goals = np.asarray(goals, dtype=np.float64)
    return np.zeros_like(goals), goals


def test_mpc_success_is_sticky_and_step_budget_caps_episodes():
    model, planner = ToyModel(), Straight()
    records = run_episodes(TOY, model, planner, Budget(iterations=1), _tasks([[0.5, 0.0], [1.9, 0.0]]), "mpc",
                           horizon=5, step_cap=10, execute_steps=1)
    near, far = records
    # 0.1 per env step: inside 0.15 after 4 steps; success stops the episode mid-plan (2 env steps/plan step)
    assert near.success and near.steps == 4 and near.replans == 2
    assert near.final_distance == pytest.approx(0.1)
    assert not far.success and far.steps == 10 and far.replans == 5
    assert far.final_distance == pytest.approx(0.9)
    assert (far.iterations, far.forward_evals, far.backward_evals) == (5, 5, 0)
    assert near.error is None and not near.overrun
    # batched: one plan call per replan over the still-active episodes only
    assert [p.batch_size for p in planner.calls] == [2, 2, 1, 1, 1]


def test_mpc_warm_start_is_the_shifted_previous_plan():
    planner = Straight()
    run_episodes(TOY, ToyModel(), planner, Budget(iterations=1), _tasks([[1.0, 1.0]]), "mpc", horizon=4,
                 step_cap=4, execute_steps=1)
    first, second = planner.calls
    assert first.warm_start is None
    expected = torch.full((1, 4, 4), 2 ** -0.5)
    expected[:, -1] = 0.0
    torch.testing.assert_close(second.warm_start, expected)


def test_open_loop_judges_the_final_state_only():
    # full speed for 5 plan steps x 2 env steps = 1.0: passes a goal 0.5 away, ends on a goal 1.0 away
    tasks = _tasks([[0.5, 0.0], [1.0, 0.0]])
    records = run_episodes(TOY, ToyModel(), Straight(), Budget(iterations=1), tasks, "open-loop", horizon=5)
    assert [r.success for r in records] == [False, True]
    assert [r.steps for r in records] == [10, 10]
    assert records[0].final_distance == pytest.approx(0.5)


def test_open_loop_milestones_match_separate_runs():
    tasks = _tasks(np.random.default_rng(0).uniform(-0.5, 0.5, (6, 2)))
    budgets = [Budget(iterations=i) for i in (1, 2, 4)]
    records = run_episodes(TOY, ToyModel(), RandomShooting(), budgets, tasks, "open-loop", seed=3)
    assert [r.budget for r in records] == [b for b in budgets for _ in range(6)]
    assert [r.iterations for r in records[::6]] == [1, 2, 4]
    assert [r.forward_evals for r in records[::6]] == [8, 16, 32]
    alone = run_episodes(TOY, ToyModel(), RandomShooting(), budgets[1], tasks, "open-loop", seed=3)
    assert [r.final_distance for r in alone] == [r.final_distance for r in records[6:12]]


@pytest.mark.parametrize("mode", ["mpc", "open-loop"])
def test_bad_actions_become_error_rows(mode):
    records = run_episodes(TOY, ToyModel(), BadPlanner(), Budget(seconds=0.01), _tasks([[1.0, 0.0]] * 3),
                           mode, step_cap=6)
    assert "non-finite" in records[0].error and records[0].steps == 0 and not records[0].success
    assert records[1].error is None and records[1].steps > 0  # clipped into the bounds by the loop
    assert records[2].error is None and records[2].steps > 0
    assert all(r.overrun and r.planning_seconds >= 0.03 for r in records)


@pytest.mark.parametrize("mode", ["mpc", "open-loop"])
def test_a_planner_cannot_touch_its_accounting_or_bounds(mode):
    tasks = _tasks([[1.0, 0.0]] * 2)
    records = run_episodes(TOY, ToyModel(), CounterResetter(), Budget(iterations=1), tasks, mode, step_cap=6)
    assert all("AttributeError" in r.error for r in records)
    records = run_episodes(TOY, ToyModel(), BoundWidener(), Budget(iterations=3), tasks, mode, step_cap=6)
    assert all(r.error is None and r.forward_evals == 24 * r.replans for r in records)
    records = run_episodes(TOY, ToyModel(), OwnLoop(), Budget(iterations=2), tasks, mode, step_cap=6)
    assert all(r.error is None and r.iterations == 2 * r.replans for r in records)


@pytest.mark.parametrize("mode", ["mpc", "open-loop"])
def test_a_planner_calling_sys_exit_ends_only_its_episodes(mode):
    records = run_episodes(TOY, ToyModel(), ExitingPlanner(), Budget(iterations=1), _tasks([[1.0, 0.0]] * 2),
                           mode, step_cap=6)
    assert [r.error for r in records] == ["SystemExit: planner gave up"] * 2


@pytest.mark.parametrize("mode", ["mpc", "open-loop"])
def test_raising_planner_becomes_error_rows(mode):
    tasks = _tasks([[1.0, 0.0]] * 2)
    records = run_episodes(TOY, ToyModel(), RaisingPlanner(), [Budget(iterations=1)], tasks, mode,
                           step_cap=6)
    assert [r.error for r in records] == ["RuntimeError: boom"] * 2
    assert not any(r.success for r in records)


def test_pixel_models_get_images():
    model = PixelToyModel()
    records = run_episodes(TOY, model, Straight(), Budget(iterations=1), _tasks([[0.5, 0.5]]), "mpc",
                           step_cap=20)
    assert records[0].success
    assert all(obs.dtype == torch.uint8 and obs.shape[1:] == (64, 64, 3) for obs in model.encoded)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown env 'nope'"):
        make_env("nope")
    with pytest.raises(ValueError, match="unknown control mode"):
        run_episodes(TOY, ToyModel(), Straight(), Budget(iterations=1), _tasks([[1.0, 0.0]]), "closed-loop")
    with pytest.raises(ValueError, match="step_cap"):
        run_episodes(TOY, ToyModel(), Straight(), Budget(iterations=1), _tasks([[1.0, 0.0]]), "mpc")


class WrongShapePlanner(Straight):
    def iterate(self, problem, state, generator):
        candidates, costs = super().iterate(problem, state, generator)
        return candidates[:, :, :2], costs


def test_wrongly_shaped_plans_become_error_rows():
    tasks = _tasks([[1.0, 0.0]] * 2)
    records = run_episodes(TOY, ToyModel(), WrongShapePlanner(), Budget(iterations=1), tasks, "mpc",
                           step_cap=6)
    expected = ("ValueError: WrongShapePlanner.iterate must return candidates [B, K, H, A] = [2, K, 5, 4] "
                "and costs [B, K]; got [2, 1, 2, 4] and [2, 1]")
    assert [r.error for r in records] == [expected] * 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_mpc_with_a_model_on_the_gpu():
    records = run_episodes(TOY, ToyModel().cuda(), Straight(), Budget(iterations=1), _tasks([[0.5, 0.0]]),
                           "mpc", step_cap=10)
    assert records[0].success and records[0].steps == 4


def test_episode_records_take_one_value_for_every_episode_or_one_per_episode():
    first, second = episode_records(Budget(iterations=2), 2, success=np.array([True, False]),
                                    final_distance=0.5, coverage=[1.0, 0.0], steps=np.array([3, 4]),
                                    replans=1, planning_seconds=0.1, iterations=2, forward_evals=4,
                                    backward_evals=0, overrun=False, error=[None, "boom"])
    assert (first.episode, first.success, first.steps, first.error) == (0, True, 3, None)
    assert (second.episode, second.success, second.final_distance, second.error) == (1, False, 0.5, "boom")
    assert type(first.steps) is int and type(first.success) is bool and second.budget == Budget(iterations=2)
