"""PushT env (pymunk physics, reset-to-state, success, rendering) and its scripted pushing expert."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import wmbench_envs
from wmbench_envs.pusht import PushTEnv, block_polygons, coverage, draw_state, state_distance, success
from wmbench_envs.pusht_expert import PushTExpert

# Agent 15 px above the T's bar (angle 0: bar x in [196, 316], y in [260, 290]; stem below it), not touching.
NEAR_BAR = np.array([256.0, 230.0, 256.0, 260.0, 0.0, 0.0, 0.0])


def _rollout(env: PushTEnv, start: np.ndarray, actions: np.ndarray) -> np.ndarray:
    env.reset(options={"state": start})
    return np.array([env.step(a)[4]["state"] for a in actions])


def _near_goal(env: PushTEnv, seed: int, noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation-style task: goal = state after 25 steps of the noisy expert from a random start."""
    start, far_goal = env.sample_start_goal(np.random.default_rng(seed))
    expert = PushTExpert(env, noise=noise, seed=seed)
    expert.reset(far_goal)
    env.reset(options={"state": start, "goal": far_goal})
    state = env.get_state()
    for _ in range(25):
        state = env.step(expert.act(state))[4]["state"]
    return start, state


def test_registry_entry_points_resolve():
    gym_id, env_path, expert_path = wmbench_envs.ENVS["pusht"]
    assert gym_id == "wmbench/PushT-v0"
    assert env_path.endswith(":PushTEnv") and expert_path.endswith(":PushTExpert")
    assert isinstance(gym.make(gym_id).unwrapped, PushTEnv)


def test_reset_to_state_is_exact_and_round_trips():
    env = PushTEnv()
    state = np.array([123.456789, 401.1, 250.123456789, 199.9, 1.234567891, 12.5, -3.25])
    obs, info = env.reset(options={"state": state, "goal": state})
    np.testing.assert_array_equal(env.get_state(), state)
    np.testing.assert_array_equal(info["state"], state)
    assert obs.dtype == np.float32 and info["is_success"]
    rng = np.random.default_rng(0)
    for _ in range(20):
        env.step(rng.uniform(-1, 1, 2))
        mid = env.get_state()
        env.set_state(mid)
        np.testing.assert_array_equal(env.get_state(), mid)
    with pytest.raises(ValueError, match="shape"):
        env.reset(options={"state": state[:5]})


def test_angle_is_stored_mod_two_pi():
    env = PushTEnv()
    env.reset(options={"state": NEAR_BAR + np.array([0, 0, 0, 0, -0.5, 0, 0])})
    assert env.get_state()[4] == pytest.approx(2 * np.pi - 0.5)


def test_determinism_same_seed_and_independent_of_history():
    actions = np.random.default_rng(1).uniform(-1, 1, (60, 2))
    a, b = PushTEnv(), PushTEnv()
    a.reset(seed=7)
    b.reset(seed=7)
    np.testing.assert_array_equal(a.get_state(), b.get_state())
    traj_a = np.array([a.step(x)[4]["state"] for x in actions])
    traj_b = np.array([b.step(x)[4]["state"] for x in actions])
    np.testing.assert_array_equal(traj_a, traj_b)
    # Same start after an unrelated contact-rich history gives the same trajectory (no cached contact state).
    push = np.tile([0.0, 0.3], (30, 1))  # down into the bar
    fresh = _rollout(PushTEnv(), NEAR_BAR, push)
    assert fresh[-1, 3] > NEAR_BAR[3] + 10.0  # the block was pushed
    used = PushTEnv()
    _rollout(used, NEAR_BAR, actions)
    np.testing.assert_array_equal(_rollout(used, NEAR_BAR, push), fresh)


def test_success_and_distance_known_cases():
    goal = np.array([100.0, 100.0, 200.0, 200.0, 0.05, 0.0, 0.0])
    wrapped = goal.copy()
    wrapped[4] = 2 * np.pi - 0.05  # 0.1 rad apart across the wrap
    assert success(wrapped, goal)
    near = goal + np.array([12.0, 0.0, 0.0, 15.0, 0.0, 0.0, 0.0])  # joint xy error 19.2
    far = goal + np.array([12.0, 0.0, 0.0, 16.5, 0.0, 0.0, 0.0])  # joint xy error 20.4
    turned = goal + np.array([0.0, 0.0, 0.0, 0.0, np.pi / 9 + 0.01, 0.0, 0.0])
    fast = goal + np.array([0.0, 0.0, 0.0, 0.0, 0.0, 500.0, 0.0])  # velocity is ignored by success
    batch = np.stack([near, far, turned, fast])
    np.testing.assert_array_equal(success(batch, goal), [True, False, False, True])
    expected = [[True, False, False, True]]
    np.testing.assert_array_equal(PushTEnv.success(batch[None], goal[None, None]), expected)
    np.testing.assert_allclose(state_distance(batch, goal), [19.209373, 20.402206, np.pi / 9 + 0.01, 500.0],
                               rtol=1e-6)
    assert PushTEnv.state_distance(goal, goal) == 0.0


def test_pushing_moves_block_and_block_is_quasi_static():
    env = PushTEnv()
    env.reset(options={"state": NEAR_BAR})
    for _ in range(3):  # agent slides along the bar without touching it
        env.step(np.array([0.5, 0.0]))
    np.testing.assert_array_equal(env.get_state()[2:5], NEAR_BAR[2:5])
    start = np.array([256.0, 320.0, 256.0, 200.0, 0.0, 0.0, 0.0])  # agent right below the stem tip
    env.reset(options={"state": start})
    for _ in range(5):
        env.step(np.array([0.0, -0.5]))  # push the stem upwards
    pushed = env.get_state()
    assert pushed[3] < start[3] - 20.0  # block moved up with the agent
    for _ in range(2):
        env.step(np.array([0.0, 1.0]))  # retreat; the block stops within one substep of losing contact
    rest = env.get_state()
    for _ in range(3):
        env.step(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(env.get_state()[2:5], rest[2:5])


def test_agent_ignores_walls_and_stays_in_observation_space():
    env = PushTEnv()
    env.reset(options={"state": np.array([480.0, 256.0, 200.0, 200.0, 0.0, 0.0, 0.0])})
    for _ in range(10):
        obs = env.step(np.array([1.0, 0.0]))[0]
    assert obs[0] > 600.0 and obs in env.observation_space


def test_actions_are_clipped():
    a, b = PushTEnv(), PushTEnv()
    big = _rollout(a, NEAR_BAR, np.array([[5.0, -3.0]] * 5))
    unit = _rollout(b, NEAR_BAR, np.array([[1.0, -1.0]] * 5))
    np.testing.assert_array_equal(big, unit)
    with pytest.raises(ValueError, match="finite"):
        a.step(np.array([np.nan, 0.0]))


def test_draw_shape_colours_and_determinism():
    state = np.array([100.0, 400.0, 256.0, 256.0, 0.7, 0.0, 0.0])
    img = draw_state(state, 64)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img, PushTEnv().draw(state, 64))
    scale = 64 / 512
    assert tuple(img[int(400 * scale), int(100 * scale)]) == (65, 105, 225)  # agent centre
    stem_mid = block_polygons(state)[1].mean(axis=0) * scale
    assert tuple(img[int(stem_mid[1]), int(stem_mid[0])]) == (119, 136, 153)  # block
    assert tuple(img[32, 20]) == (255, 255, 255)  # floor
    big = draw_state(state, 224)
    assert big.shape == (224, 224, 3) and tuple(big[2, 112]) == (211, 211, 211)  # top wall (y in [3, 7])
    with pytest.raises(ValueError, match="shape"):
        draw_state(state[:5], 64)


def test_block_polygons_match_pymunk():
    env = PushTEnv()
    state = np.array([100.0, 100.0, 300.0, 250.0, 2.1, 0.0, 0.0])
    env.reset(options={"state": state})
    shapes = [s for s in env._block.shapes]
    ours = block_polygons(state)
    for shape, poly in zip(shapes, ours, strict=True):
        world = np.array([env._block.local_to_world(v) for v in shape.get_vertices()])
        assert {tuple(p) for p in np.round(world, 6)} == {tuple(p) for p in np.round(poly, 6)}


def test_expert_reaches_near_goals():
    """Threshold: >= 9 of 10 evaluation-style near-goal tasks within 200 steps (measured 200/200)."""
    env = PushTEnv()
    solved = [PushTExpert(env).solves(*_near_goal(env, seed), step_cap=200) for seed in range(10)]
    assert sum(solved) >= 9


def test_expert_solves_random_pairs():
    """Threshold: >= 7 of 10 random start/goal pairs within 500 steps (measured 94% on 200 pairs)."""
    env = PushTEnv()
    pairs = [env.sample_start_goal(np.random.default_rng(1000 + seed)) for seed in range(10)]
    assert sum(PushTExpert(env).solves(start, goal, step_cap=500) for start, goal in pairs) >= 7


def test_expert_noise_is_seeded_and_bounded():
    env = PushTEnv()
    start, goal = env.sample_start_goal(np.random.default_rng(3))
    runs = []
    for _ in range(2):
        expert = PushTExpert(env, noise=1.0, seed=11)
        expert.reset(goal)
        runs.append(np.array([expert.act(start) for _ in range(50)]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert runs[0].dtype == np.float32 and np.all(np.abs(runs[0]) <= 1.0)
    clean = PushTExpert(env)
    clean.reset(goal)
    assert not np.allclose(runs[0], clean.act(start))
    with pytest.raises(ValueError, match="noise"):
        PushTExpert(env, noise=1.5)
    with pytest.raises(RuntimeError, match="reset"):
        PushTExpert(env).act(start)


def test_expert_moves_around_the_block_not_through_it():
    env = PushTEnv()
    start = np.array([256.0, 130.0, 256.0, 200.0, 0.0, 0.0, 0.0])  # agent above the bar
    goal = np.array([256.0, 360.0, 256.0, 200.0, 0.0, 0.0, 0.0])  # same block pose, agent below the stem tip
    expert = PushTExpert(env)
    expert.reset(goal)
    env.reset(options={"state": start, "goal": goal})
    state, block_moves, agent_min_x, agent_max_x = env.get_state(), [], np.inf, -np.inf
    for _ in range(100):
        _, _, terminated, _, info = env.step(expert.act(state))
        state = info["state"]
        block_moves.append(np.abs(state[2:5] - start[2:5]).max())
        agent_min_x, agent_max_x = min(agent_min_x, state[0]), max(agent_max_x, state[0])
        if terminated:
            break
    assert terminated and max(block_moves) == 0.0
    assert agent_min_x < 256.0 - 75.0 or agent_max_x > 256.0 + 75.0  # it went round the bar's end


def test_coverage_of_a_block_on_its_goal_never_passes_one():
    # the ratio of the two shapely areas passes 1 by a rounding error for many poses (123 of the 500 test
    # goals of suite v2); a result row with coverage > 1 fails the results schema
    env, rng = PushTEnv(), np.random.default_rng(0)
    states = [env.sample_start_goal(rng)[0] for _ in range(300)]
    values = [coverage(state, state) for state in states]
    assert max(values) == 1.0 and min(values) > 1 - 1e-12
