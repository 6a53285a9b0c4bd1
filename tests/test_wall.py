"""Wall env and expert: Gymnasium API, exact resets, motion rule, impenetrability, success, expert."""

from __future__ import annotations

import numpy as np
import pytest

import wmbench_envs  # noqa: F401  (registers the Gymnasium ids)
from wmbench_envs.wall import BOX_LO, DOOR_Y0, DOOR_Y1, WALL_X0, WallEnv, is_reachable, move
from wmbench_envs.wall_expert import WallExpert


def test_reset_to_state_is_exact():
    env = WallEnv(obs_type="both")
    state, goal = np.array([28.5, 12.345678901234]), np.array([50.0, 50.0])
    obs, info = env.reset(seed=1, options={"state": state, "goal": goal})
    np.testing.assert_array_equal(env.get_state(), state)
    np.testing.assert_array_equal(info["state"], state)
    np.testing.assert_array_equal(info["goal_state"], goal)
    np.testing.assert_array_equal(obs["state"], state.astype(np.float32))
    np.testing.assert_array_equal(obs["pixels"], env.draw(state, 64))
    for bad in ([30.0, 10.0], [4.2, 30.0], [32.0, 34.0]):
        with pytest.raises(ValueError, match="not reachable"):
            env.set_state(np.array(bad))


def test_sample_start_goal_on_opposite_sides():
    env = WallEnv()
    rng = np.random.default_rng(0)
    pairs = np.array([env.sample_start_goal(rng) for _ in range(500)])  # [N, 2 (start, goal), 2]
    assert ((pairs[:, 0, 0] < 32) != (pairs[:, 1, 0] < 32)).all()
    xs = pairs[..., 0]
    assert (((xs >= 7.4) & (xs <= 25.6)) | ((xs >= 38.4) & (xs <= 56.6))).all()
    assert (pairs[..., 1] >= 7.4).all() and (pairs[..., 1] <= 56.6).all()
    assert 0.4 < (pairs[:, 0, 0] < 32).mean() < 0.6  # swap with probability 0.5


def test_success_and_state_distance_known_and_batched():
    goal = np.array([10.0, 10.0])
    states = np.array([[13.0, 13.0], [13.0, 14.0], [10.0, 10.0]])
    np.testing.assert_array_equal(WallEnv.success(states, goal), [True, False, True])
    np.testing.assert_allclose(WallEnv.state_distance(states, goal), [np.sqrt(18), 5.0, 0.0])
    assert WallEnv.success(np.broadcast_to(states, (4, 3, 2)), goal).shape == (4, 3)


def test_motion_rule_moves_slides_and_stops():
    assert move(10.0, 10.0, 2.0, -1.0) == (12.0, 9.0)  # free move
    assert move(27.5, 10.0, 2.0, 1.0) == (WALL_X0, 11.0)  # hits the wall face, slides along y
    assert move(30.0, 27.0, 0.0, -2.0) == (30.0, DOOR_Y0)  # dx = 0 into the upper door jamb
    assert move(30.0, 33.0, 1.0, 2.0) == (31.0, DOOR_Y1)  # into the lower jamb, slides along x
    assert move(5.0, 5.0, -2.0, -2.0) == (BOX_LO, BOX_LO)  # border corner
    assert move(27.0, 5.0, 2.0, -2.0) == (WALL_X0, BOX_LO)  # wall face and top border at once
    assert move(27.5, 29.0, 2.0, 0.0) == (29.5, 29.0)  # through the door
    assert move(35.5, 35.0, -1.5, -2.0) == (35.5, 33.0)  # ends in the doorway, but cannot cut the corner


def test_wall_is_impenetrable_under_10000_aggressive_steps():
    env = WallEnv()
    rng = np.random.default_rng(2)
    prev = env.reset(seed=2)[1]["state"]
    headings = np.array([[1, 0], [-1, 0], [1, 1], [1, -1], [-1, 1], [-1, -1], [0, 1], [0, -1]],
                        dtype=np.float32)
    crossings = 0
    for t in range(10_000):
        if t % 400 == 0:
            prev = env.reset(seed=int(rng.integers(1 << 30)))[1]["state"]
        if t % 10 == 0:  # aim at the wall/door region or hold a saturated heading
            aim = np.array([rng.uniform(26, 38), rng.uniform(10, 50)]) - prev
            action = aim / np.abs(aim).max() if rng.random() < 0.5 else headings[rng.integers(len(headings))]
        state = env.step(action + rng.normal(0, 0.3, 2))[4]["state"]
        assert is_reachable(state), f"step {t}: dot at {state} is inside a wall or outside the interior"
        assert (state > 4).all() and (state < 60).all()
        # the straight path of the step never touches the solid wall: rooms change only through the door band
        x, y = prev[:, None] + (state - prev)[:, None] * np.linspace(0.0, 1.0, 33)
        in_wall = (x >= 29) & (x <= 35) & ((y <= 26) | (y >= 34))
        assert not in_wall.any(), f"step {t}: the path {prev} -> {state} cuts the wall"
        crossings += (prev[0] < 32) != (state[0] < 32)
        prev = state
    assert crossings > 20  # the door is actually used


def test_draw_colours_and_layout():
    env = WallEnv()
    img = env.draw(np.array([20.0, 45.0]), 65)
    assert img.shape == (65, 65, 3) and img.dtype == np.uint8
    assert tuple(img[10, 32]) == (0, 0, 0) and tuple(img[50, 30]) == (0, 0, 0)  # wall above/below the door
    assert tuple(img[30, 32]) == (255, 255, 255)  # doorway
    assert tuple(img[4, 20]) == (0, 0, 0) and tuple(img[20, 60]) == (0, 0, 0)  # border lines
    assert tuple(img[45, 20]) == (255, 0, 0)  # dot centre (row = y, column = x)
    assert img[45, 22, 1] > 0 and img[45, 22, 0] == 255
    small = env.draw(np.array([20.0, 45.0]), 64)
    assert small.shape == (64, 64, 3)
    row, col = np.unravel_index(np.argmin(small[..., 1].astype(int) - small[..., 0]), (64, 64))
    assert abs(row - 45 * 64 / 65) < 1 and abs(col - 20 * 64 / 65) < 1


def test_expert_crosses_the_door_and_reaches_goals():
    env = WallEnv()
    pairs = [env.sample_start_goal(np.random.default_rng(seed)) for seed in range(30)]
    successes = sum(WallExpert(env, seed=seed).solves(start, goal, step_cap=50)
                    for seed, (start, goal) in enumerate(pairs))
    assert successes >= 29  # measured: 200/200 within 28 steps


def test_expert_noise_is_seeded_random_walk():
    env = WallEnv()
    clean = WallExpert(env)
    clean.reset(np.array([50.0, 50.0]))
    # towards the approach point (27, 30), then from the door corridor towards the exit point (40, 30)
    np.testing.assert_allclose(clean.act(np.array([10.0, 10.0])), [0.85, 1.0], rtol=1e-6)
    np.testing.assert_allclose(clean.act(np.array([26.0, 31.0])), [1.0, -1.0 / 14.0], rtol=1e-6)
    noisy = [WallExpert(env, noise=1.0, seed=9) for _ in range(2)]
    acts = []
    for expert in noisy:
        expert.reset(np.array([50.0, 50.0]))
        acts.append(np.array([expert.act(np.array([10.0, 10.0])) for _ in range(300)]))
    np.testing.assert_array_equal(acts[0], acts[1])
    speed = np.linalg.norm(acts[0], axis=1)
    assert (speed >= 0.1 - 1e-6).all() and (speed <= 0.9 + 1e-6).all()  # step length [0.2, 1.8] px / 2
    turn = np.abs(np.angle(np.exp(1j * np.diff(np.arctan2(acts[0][:, 1], acts[0][:, 0])))))
    assert turn.mean() < 0.6 and np.abs(acts[0].mean(axis=0)).max() < 0.3  # smooth, no goal drift
    with pytest.raises(ValueError, match="noise"):
        WallExpert(env, noise=-0.1)
    with pytest.raises(RuntimeError, match="reset"):
        WallExpert(env).act(np.array([10.0, 10.0]))
