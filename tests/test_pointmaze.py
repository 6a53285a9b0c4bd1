"""PointMaze env and expert: Gymnasium API, exact resets, dynamics, walls, success and the scripted expert."""

from __future__ import annotations

import numpy as np
import pytest

import wmbench_envs  # noqa: F401  (registers the Gymnasium ids)
from wmbench_envs.pointmaze import (
    BLOCK_X0,
    BLOCK_X1,
    BLOCK_Y1,
    DAMPING,
    DT,
    GEAR,
    MASS,
    OUTER_HI,
    OUTER_LO,
    SUBSTEPS,
    VEL_CLIP,
    PointMazeEnv,
    in_free_space,
    physics_step,
    sweep_box,
)
from wmbench_envs.pointmaze_expert import PointMazeExpert, cell_of


def test_reset_to_state_is_exact():
    env = PointMazeEnv(obs_type="both")
    state = np.array([0.4, 3.2 - 1e-13, -4.123456789, 5.226])
    goal = np.array([2.8, 0.6, 0.0, 0.0])
    obs, info = env.reset(seed=3, options={"state": state, "goal": goal})
    np.testing.assert_array_equal(env.get_state(), state)
    np.testing.assert_array_equal(info["state"], state)
    np.testing.assert_array_equal(info["goal_state"], goal)
    np.testing.assert_array_equal(obs["state"], state.astype(np.float32))
    np.testing.assert_array_equal(obs["pixels"], env.draw(state, 64))
    env.set_state(np.array([1.2, 1.0, 0.0, 0.0], dtype=np.float32))  # float32 face state (x > 1.2 by 5e-8)
    with pytest.raises(ValueError, match="inside a wall"):
        env.set_state(np.array([1.8, 1.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="velocity"):
        env.set_state(np.array([0.8, 1.0, 11.0, 0.0]))


def test_sample_start_goal_follows_reference_ranges():
    env = PointMazeEnv()
    rng = np.random.default_rng(0)
    samples = np.array([s for _ in range(500) for s in env.sample_start_goal(rng)])
    assert in_free_space(samples[:, :2]).all()
    assert (samples[:, :2] >= 0.5).all() and (samples[:, :2] <= 3.1).all()
    assert (np.abs(samples[:, 2:]) <= 5.226).all()
    assert (samples[:, 0] > 2.5).any() and ((samples[:, 0] > 1.1) & (samples[:, 0] < 2.5)).any()
    again = np.random.default_rng(0)
    np.testing.assert_array_equal(env.sample_start_goal(again)[1], samples[1])


def test_success_and_state_distance_known_and_batched():
    goal = np.array([1.0, 1.0, 0.0, 0.0])
    states = np.array([[1.3, 1.4, 3.0, 4.0], [1.3, 1.4001, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(PointMazeEnv.success(states, goal), [True, False, True])
    np.testing.assert_allclose(PointMazeEnv.state_distance(states, goal), [np.sqrt(0.25 + 25), 0.50008, 0.0],
                               rtol=1e-5)
    batched = PointMazeEnv.success(np.broadcast_to(states, (2, 3, 4)), np.broadcast_to(goal, (2, 3, 4)))
    assert batched.shape == (2, 3)
    assert PointMazeEnv.success(states[0], goal).shape == ()


def test_velocity_from_rest_matches_implicit_damping():
    env = PointMazeEnv()
    env.reset(seed=0, options={"state": np.array([0.5, 2.8, 0.0, 0.0])})
    v, expected = 0.0, []
    for _ in range(5):
        v = min(max(v, -VEL_CLIP), VEL_CLIP)
        for _ in range(SUBSTEPS):
            v = (MASS * v + DT * GEAR * 1.0) / (MASS + DT * DAMPING)
        expected.append(v)
    measured = [env.step(np.array([1.0, 0.0], dtype=np.float32))[4]["state"][2] for _ in range(5)]
    np.testing.assert_allclose(measured, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(measured, [1.19, 2.36, 3.51, 4.66, 5.79], atol=0.005)


def test_contacts_are_inelastic_and_keep_tangential_velocity():
    env = PointMazeEnv()
    env.reset(seed=0, options={"state": np.array([1.15, 1.0, 4.0, 2.0])})
    state = env.step(np.array([1.0, 0.0], dtype=np.float32))[4]["state"]
    assert state[0] == BLOCK_X0 and state[2] == 0.0  # stopped on the block's left face
    decay = MASS / (MASS + DT * DAMPING)
    np.testing.assert_allclose(state[3], 2.0 * decay**SUBSTEPS, rtol=1e-12)  # tangential velocity only damped
    np.testing.assert_allclose(state[1], 1.0 + DT * 2.0 * sum(decay**k for k in range(1, 6)), rtol=1e-12)


def test_swept_contact_cannot_cut_block_corners():
    # the first substep ends above the block's top-left corner, but its path crosses the left face first
    block = (BLOCK_X0, BLOCK_X1, -np.inf, BLOCK_Y1)
    assert sweep_box(1.195, 2.39, 0.03, 0.03, *block) == (pytest.approx(1 / 6), 0)
    x, y, vx, vy = physics_step((1.195, 2.39, 3.0, 3.0), 0.0, 0.0)
    assert x == BLOCK_X0 and vx == 0.0 and y > 2.5
    assert sweep_box(1.0, 1.0, 0.0, 0.1, *block) is None  # dx = 0 beside the block
    assert sweep_box(1.2, 1.0, 0.0, 0.1, *block) is None  # sliding on its face
    assert sweep_box(1.2, 1.0, 0.1, 0.0, *block) == (0.0, 0)  # pushing into it


def test_walls_are_impenetrable_under_10000_aggressive_steps():
    env = PointMazeEnv()
    rng = np.random.default_rng(1)
    _, info = env.reset(seed=1)
    prev = info["state"]
    corners = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1], [1, 0], [-1, 0], [0, 1], [0, -1]],
                       dtype=np.float32)
    action = corners[0]
    for t in range(10_000):
        if t % 500 == 0:  # fresh random start with a random (fast) velocity
            prev = env.reset(seed=int(rng.integers(1 << 30)))[1]["state"]
        if t % 15 == 0:  # hold a saturated action (drives into walls and corners) or go uniform
            action = corners[rng.integers(len(corners))] if rng.random() < 0.7 else None
        state = env.step(action if action is not None else rng.uniform(-1, 1, 2))[4]["state"]
        assert in_free_space(state[:2]), f"step {t}: ball centre {state[:2]} inside a wall"
        assert np.abs(state[:2] - prev[:2]).max() < 0.32  # per-axis move <= 5 * 0.01 * 6.2: no tunnelling
        prev = state
    assert OUTER_LO <= prev[0] <= OUTER_HI and not (BLOCK_X0 < prev[0] < BLOCK_X1 and prev[1] < BLOCK_Y1)


def test_draw_orientation_and_colours():
    env = PointMazeEnv()
    img = env.draw(np.array([0.8, 0.8, 0.0, 0.0]), 64)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8

    def ball_centre(state):
        green = env.draw(np.asarray(state, dtype=np.float64), 64)
        mask = (green[..., 1] > 120) & (green[..., 0] < 110)
        rows, cols = np.nonzero(mask)
        return rows.mean(), cols.mean()

    r0, c0 = ball_centre([0.8, 0.8, 0, 0])
    r1, c1 = ball_centre([2.8, 0.8, 0, 0])  # +x -> right
    r2, c2 = ball_centre([0.8, 2.8, 0, 0])  # +y -> up
    assert c1 > c0 + 25 and abs(r1 - r0) < 1
    assert r2 < r0 - 25 and abs(c2 - c0) < 1
    assert tuple(img[32, 32]) == (178, 128, 77)  # centre of the inner block (1.8, 1.8) is wall
    assert tuple(img[2, 2]) == (178, 128, 77)  # outer wall


def test_expert_reaches_random_goals():
    env = PointMazeEnv()
    pairs = [env.sample_start_goal(np.random.default_rng(seed)) for seed in range(30)]
    successes = sum(PointMazeExpert(env, seed=seed).solves(start, goal, step_cap=100)
                    for seed, (start, goal) in enumerate(pairs))
    assert successes >= 29  # measured: 200/200 within 28 steps


def test_expert_noise_is_seeded_mix():
    env = PointMazeEnv()
    state, goal = np.array([0.8, 0.8, 0.0, 0.0]), np.array([2.8, 0.8, 0.0, 0.0])
    clean = PointMazeExpert(env)
    clean.reset(goal)
    np.testing.assert_array_equal(clean.act(state), [-0.0, 1.0])  # north towards cell (1, 2)
    noisy = [PointMazeExpert(env, noise=1.0, seed=4) for _ in range(2)]
    for expert in noisy:
        expert.reset(goal)
    acts = [np.array([e.act(state) for _ in range(200)]) for e in noisy]
    np.testing.assert_array_equal(acts[0], acts[1])
    assert np.abs(acts[0]).max() <= 1.0 and abs(acts[0].mean()) < 0.1 and acts[0].std() > 0.5
    with pytest.raises(ValueError, match="noise"):
        PointMazeExpert(env, noise=1.5)
    with pytest.raises(RuntimeError, match="reset"):
        PointMazeExpert(env).act(state)
    assert cell_of(np.array([1.2, 1.0])) == (1, 1) and cell_of(np.array([1.25, 2.9])) == (1, 3)
