"""Print env steps/s per env for state and 64-px pixel observations (random actions, via gym.make)."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

from wmbench_envs import ENVS


def steps_per_second(env_id: str, obs_type: str, n_steps: int = 3000) -> float:
    env = gym.make(env_id, obs_type=obs_type)
    env.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-1, 1, (n_steps, 2)).astype(np.float32)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return n_steps / (time.perf_counter() - start)


def main() -> None:
    print(f"{'env':<10} {'obs':<7} {'steps/s':>9}")
    for name, (env_id, _, _) in ENVS.items():
        for obs_type in ("state", "pixels"):
            print(f"{name:<10} {obs_type:<7} {steps_per_second(env_id, obs_type):>9.0f}")


if __name__ == "__main__":
    main()
