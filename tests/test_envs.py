"""Behaviour every registered env shares: Gymnasium's checker and seeded determinism."""

import shutil
import subprocess
import venv
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from wmbench_envs import ENVS

ENV_IDS = [env_id for env_id, _, _ in ENVS.values()]
ROOT = Path(__file__).resolve().parents[1]


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


@pytest.mark.slow
def test_env_package_installs_and_runs_alone_without_torch(tmp_path):
    """``pip install ./envs`` into a fresh virtual environment (no torch, no wmbench): the three ids make,
    reset and step, and neither torch nor wmbench was installed or imported."""
    shutil.copytree(ROOT / "envs", tmp_path / "envs", ignore=shutil.ignore_patterns("*.egg-info", "build"))
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(tmp_path / "envs")], check=True, timeout=600)
    code = ("import importlib.util, sys, gymnasium as gym, numpy as np, wmbench_envs\n"
            "for env_id in ['wmbench/PointMaze-v0', 'wmbench/PushT-v0', 'wmbench/Wall-v0']:\n"
            "    env = gym.make(env_id)\n"
            "    env.reset(seed=0)\n"
            "    obs, reward, terminated, truncated, info = env.step(np.zeros(2, dtype=np.float32))\n"
            "    assert obs.shape == env.observation_space.shape, env_id\n"
            "assert 'torch' not in sys.modules\n"
            "assert not any(importlib.util.find_spec(name) for name in ('torch', 'wmbench'))\n"
            "print('ok')")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
