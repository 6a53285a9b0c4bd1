"""Batched simulator physics and the simulator model: bit-identical to the scalar env steps, in any process.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from wmbench.models.simulator import SimulatorModel
from wmbench.planning import Budget, Objective, PlanProblem
from wmbench.registry import make_env
from wmbench_baselines.oracle import Oracle
from wmbench_envs import pointmaze as pm
from wmbench_envs import pusht as pt
from wmbench_envs import pusht_replay as ptr
from wmbench_envs import wall as wl
from wmbench_envs.base import GoalEnv


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(np.ascontiguousarray(a).view(np.uint64),
                                                 np.ascontiguousarray(b).view(np.uint64))


def _actions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random actions beyond the bounds (clipped), full-force rows, and +0.0 / -0.0 rows."""
    actions = rng.uniform(-1.5, 1.5, shape)
    actions[::4] = np.sign(actions[::4])
    actions[1::9], actions[2::9] = 0.0, -0.0
    return actions


def _pointmaze_states(rng: np.random.Generator, n: int) -> np.ndarray:
    """States on faces and corners, float32-rounded, just inside the block (within set_state's tolerance),
    with velocities beyond the clip and signed zeros."""
    xy = rng.uniform(pm.OUTER_LO, pm.OUTER_HI, (4 * n, 2))
    xy = xy[pm.in_free_space(xy)][:n]
    m = n // 6
    xy[:m, 0] = rng.choice([pm.BLOCK_X0, pm.BLOCK_X1, pm.OUTER_LO, pm.OUTER_HI], m)
    xy[m:2 * m, 1] = rng.choice([pm.BLOCK_Y1, pm.OUTER_LO, pm.OUTER_HI], m)
    xy[2 * m:3 * m] = rng.choice([pm.BLOCK_X0, pm.BLOCK_X1, pm.OUTER_LO, pm.OUTER_HI], (m, 1)) * [1, 0] + \
        rng.choice([pm.BLOCK_Y1, pm.OUTER_LO, pm.OUTER_HI], (m, 1)) * [0, 1]  # corners
    xy[3 * m:4 * m] = xy[3 * m:4 * m].astype(np.float32)
    xy[4 * m:4 * m + 10] = [[pm.BLOCK_X0 + 3e-6, 1.0], [pm.BLOCK_X1 - 3e-6, 0.7], [1.8, pm.BLOCK_Y1 - 4e-6],
                            [pm.BLOCK_X0 + 2e-6, pm.BLOCK_Y1 - 3e-6], [2.0, pm.BLOCK_Y1 - 1e-6]] * 2
    xy = xy[pm.in_free_space(xy, pm.STATE_TOL)]
    v = rng.uniform(-9.9, 9.9, (len(xy), 2))
    v[::7], v[1::7] = 0.0, -0.0
    return np.concatenate([xy, v], axis=1)


def _wall_states(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points on the wall faces, the jambs, the border and in and around the door band."""
    xy = rng.uniform(wl.BOX_LO, wl.BOX_HI, (n, 2))
    m = n // 5
    xy[:m, 0] = rng.choice([wl.WALL_X0, wl.WALL_X1, wl.BOX_LO, wl.BOX_HI], m)
    xy[m:2 * m, 1] = rng.choice([wl.DOOR_Y0, wl.DOOR_Y1, wl.BOX_LO, wl.BOX_HI], m)
    xy[2 * m:4 * m, 0] = rng.uniform(wl.WALL_X0 - 3, wl.WALL_X1 + 3, 2 * m)
    xy[2 * m:4 * m, 1] = rng.uniform(wl.DOOR_Y0 - 1, wl.DOOR_Y1 + 1, 2 * m)
    return xy[wl.is_reachable(xy)]


def test_pointmaze_batch_step_is_the_scalar_step_bit_for_bit():
    rng = np.random.default_rng(0)
    states = _pointmaze_states(rng, 3000)
    actions = np.clip(_actions(rng, (len(states), 2)), -1, 1)
    batch = pm.physics_step_batch(states, actions)
    scalar = np.array([pm.physics_step(tuple(s), float(a[0]), float(a[1]))
                       for s, a in zip(states, actions, strict=True)])
    assert _same_bits(batch, scalar)
    # the set exercises the contacts: velocities zeroed on faces and positions pinned to them
    assert (batch[:, 2:] == 0).any(axis=1).mean() > 0.1
    assert np.isin(batch[:, 0], [pm.BLOCK_X0, pm.BLOCK_X1, pm.OUTER_LO, pm.OUTER_HI]).mean() > 0.05


def test_wall_batch_move_is_the_scalar_move_bit_for_bit():
    rng = np.random.default_rng(1)
    xy = _wall_states(rng, 3000)
    delta = wl.ACTION_SCALE * np.clip(_actions(rng, (len(xy), 2)), -1, 1)
    batch = wl.move_batch(xy, delta)
    scalar = np.array([wl.move(x, y, dx, dy) for (x, y), (dx, dy) in zip(xy, delta, strict=True)])
    assert _same_bits(batch, scalar)
    crossed = (xy[:, 0] < wl.WALL_X0) != (batch[:, 0] < wl.WALL_X0)
    assert crossed.any() and np.isin(batch[:, 0], [wl.WALL_X0, wl.WALL_X1]).any()


def _pusht_starts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random PushT states: half with the agent near (or in) the block, some blocks against the walls."""
    env = make_env("pusht")
    starts = np.stack([env.sample_start_goal(rng)[0] for _ in range(n)])
    near = np.arange(n) % 2 == 0
    starts[near, :2] = starts[near, 2:4] + rng.normal(0, 50, (near.sum(), 2))
    starts[:, 5:7] = rng.normal(0, 50, (n, 2))
    starts[:n // 10, 2:4] = rng.uniform(20, 60, (n // 10, 2))
    return starts


@pytest.mark.parametrize("env_name", ["pointmaze", "wall", "pusht"])
def test_env_replay_is_the_reference_loop_bit_for_bit(env_name):
    rng = np.random.default_rng(2)
    env = make_env(env_name)
    starts = {"pointmaze": lambda: _pointmaze_states(rng, 400), "wall": lambda: _wall_states(rng, 400),
              "pusht": lambda: _pusht_starts(rng, 160)}[env_name]()
    actions = _actions(rng, (len(starts), 5, 5, 2))
    assert _same_bits(env.replay(starts, actions), GoalEnv.replay(make_env(env_name), starts, actions))


def _spy_settled(monkeypatch) -> list[bool]:
    """The answers of the replay's settle test, recorded as it runs."""
    original, answers = ptr._settled, []

    def spy(*args):
        answers.append(original(*args))
        return answers[-1]

    monkeypatch.setattr(ptr, "_settled", spy)
    return answers


def test_pusht_replay_takes_every_path_bit_for_bit(monkeypatch):
    rng = np.random.default_rng(3)
    starts = _pusht_starts(rng, 160)
    actions = _actions(rng, (160, 5, 5, 2))
    pos, _ = ptr.agent_substeps(starts[:, [0, 1, 5, 6]], np.clip(actions, -1, 1).reshape(160, 25, 2))
    path = np.concatenate([starts[:, None, :2], pos], axis=1)
    clear = (ptr.block_clearance(path, starts[:, 2:5]) > pt.AGENT_RADIUS + ptr.CONTACT_MARGIN).all(axis=1)
    clear &= ptr.block_inside_walls(starts[:, 2:5])
    assert 0.2 < clear.mean() < 0.8  # rollouts without pymunk, and with it
    settled = _spy_settled(monkeypatch)
    out = make_env("pusht").replay(starts, actions)
    assert 10 < sum(settled) < len(settled)  # pymunk rollouts that stop once the block has settled, and not
    assert _same_bits(out, GoalEnv.replay(make_env("pusht"), starts, actions))
    moved = (out[:, -1, 2:5] != out[:, 0, 2:5]).any(axis=1)
    assert moved[~clear].any() and (np.abs(out[clear, -1, 2:4] - starts[clear, 2:4]) < 1e-9).all()


def test_pusht_replay_is_exact_when_the_block_rests_between_pushes(monkeypatch):
    """Push, back off (the block at rest, the agent clear now but coming back), push again: the settle test
    must not stop these rollouts early, and the pushes after a rest must match the env bit for bit."""
    rng = np.random.default_rng(5)
    n = 120
    starts = np.tile([256.0, 150.0, 256.0, 260.0, 0.0, 0.0, 0.0], (n, 1))
    starts[:, 0] += rng.uniform(-40, 40, n)
    starts[:, 4] = rng.uniform(-0.3, 0.3, n) % (2 * np.pi)
    actions = np.zeros((n, 5, 5, 2))
    actions[:, 0, :, 1] = rng.uniform(0.65, 0.8, (n, 1))  # down into the bar
    actions[:, 1, :, 1] = -1.0  # back off, and wait
    actions[:, 3:, :, 1] = 1.0  # push again
    results = _spy_settled(monkeypatch)
    out = make_env("pusht").replay(starts, actions)
    assert _same_bits(out, GoalEnv.replay(make_env("pusht"), starts, actions))
    moved = np.abs(np.diff(out[:, :, 2:4], axis=1)).sum(axis=2) > 1e-6
    assert (moved[:, 0] & ~moved[:, 2] & ~moved[:, 3] & moved[:, 4]).mean() > 0.5  # pushed, rested, pushed
    assert any(results) and not all(results)


def test_block_clearance_is_the_distance_to_the_t():
    block = np.array([[256.0, 260.0, 0.0], [256.0, 260.0, np.pi / 2]])
    # angle 0: bar x in [196, 316], y in [260, 290]; stem x in [241, 271], y in [290, 380]
    # angle pi/2 (local x -> world y, local y -> world -x): bar x in [226, 256], y in [200, 320]; stem x in
    # [136, 226], y in [245, 275]
    points = np.array([[[256.0, 230.0], [256.0, 300.0], [350.0, 275.0]],
                       [[300.0, 260.0], [100.0, 260.0], [240.0, 140.0]]])
    np.testing.assert_allclose(ptr.block_clearance(points, block), [[30.0, 0.0, 34.0], [44.0, 36.0, 60.0]],
                               atol=1e-9)
    inside = ptr.block_inside_walls(np.array([[256.0, 256.0, 1.0], [20.0, 256.0, 0.0]]))
    assert inside.tolist() == [True, False]


@pytest.mark.parametrize("env_name", ["pointmaze", "wall"])
def test_batched_replay_keeps_the_reference_errors(env_name):
    env = make_env(env_name)
    bad = np.array([[1.8, 1.0, 0.0, 0.0]]) if env_name == "pointmaze" else np.array([[32.0, 10.0]])
    with pytest.raises(ValueError, match="inside a wall|not reachable"):
        env.replay(bad, np.zeros((1, 1, 1, 2)))
    good = env.get_state()[None]
    with pytest.raises(ValueError, match="finite"):
        env.replay(good, np.full((1, 1, 1, 2), np.nan))


def test_simulator_model_rollout_is_the_reference_replay_in_any_number_of_processes():
    rng = np.random.default_rng(4)
    starts = _pusht_starts(rng, 130)
    actions = _actions(rng, (130, 5, 10))
    reference = GoalEnv.replay(make_env("pusht"), starts, actions.reshape(130, 5, 5, 2))
    one, two = SimulatorModel("pusht", workers=1), SimulatorModel("pusht", workers=2)
    z0, a = one.encode(torch.from_numpy(starts)), torch.from_numpy(actions)
    try:
        assert _same_bits(one.rollout(z0, a)[..., :7].numpy(), reference)
        assert _same_bits(two.rollout(z0, a)[..., :7].numpy(), reference)  # two parts: here and a worker
        assert two.pool._processes == 1
        copy = pickle.loads(pickle.dumps(two))  # without the running workers
        assert copy.pool._processes == 0
        assert _same_bits(copy.rollout(z0[:5], a[:5])[..., :7].numpy(), reference[:5])
    finally:
        two.close()
    with pytest.raises(ValueError, match="workers"):
        SimulatorModel("wall", workers=0)


def test_oracle_plans_improve_with_iterations():
    model = SimulatorModel("pointmaze", workers=1)
    start = torch.tensor([[0.8, 0.8, 0.0, 0.0], [2.8, 0.6, 0.0, 0.0]], dtype=torch.float64)
    goal = torch.tensor([[0.8, 2.8, 0.0, 0.0], [2.8, 2.6, 0.0, 0.0]], dtype=torch.float64)

    def final_distance(iterations: int) -> float:
        problem = PlanProblem(model, model.encode(start), model.encode(goal), 5, -torch.ones(10),
                              torch.ones(10), Objective("last"))
        plan = Oracle(samples=32, topk=4).plan(problem, Budget(iterations=iterations))
        final = model.rollout(problem.start, plan.actions)[:, -1, :2]
        return float((final - goal[:, :2]).norm(dim=1).mean())

    assert final_distance(8) < 0.6 * final_distance(1)


def test_simulator_latents_wrap_angles_and_weigh_the_success_dims():
    model = SimulatorModel("pusht", workers=1)
    states = torch.tensor([[100.0, 100.0, 200.0, 200.0, 0.01, 5.0, 5.0],
                           [100.0, 100.0, 200.0, 200.0, 2 * np.pi - 0.01, 0.0, 0.0]], dtype=torch.float64)
    z = model.encode(states)
    assert z.shape == (2, 9) and torch.equal(z[:, :7], states)
    assert model.goal_weights.tolist() == [1, 1, 1, 1, 0, 0, 0, 1, 1]  # xy of agent and block, cos and sin
    gap = ((z[0] - z[1]) ** 2 * model.goal_weights).sum().sqrt()
    assert gap == pytest.approx(0.02 * 180 / np.pi, rel=1e-4)  # 0.02 rad across the seam = 1.15 "degrees"
    plan = torch.zeros(2, 1, 10, dtype=torch.float64)
    assert torch.equal(model.rollout(z, plan)[:, 0], z)
    assert SimulatorModel("wall").latent_dim == 2
