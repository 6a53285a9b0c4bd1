"""Behaviour every registered env shares: Gymnasium's checker and seeded determinism."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from wmbench_envs import ENVS

ENV_IDS = [env_id for env_id, _, _ in ENVS.values()]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("obs_type", ["state", "pixels", "both"])
def test_check_env_without_warnings(env_id, obs_type):
    env = gym.make(env_id, obs_type=obs_type, render_mode="rgb_array").unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=False)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seeded_reset_and_steps_are_deterministic(env_id):
    def rollout(seed):
        env = gym.make(env_id)
        _, info = env.reset(seed=seed)
        actions = np.random.default_rng(seed).uniform(-1, 1, (50, 2))
        return np.stack([info["goal_state"]] + [env.step(a)[4]["state"] for a in actions])

    np.testing.assert_array_equal(rollout(5), rollout(5))
    assert not np.array_equal(rollout(5), rollout(6))
