"""Scripted-expert rollouts: episode ``i`` of a spec is a pure function of ``(spec.seed, i)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from wmbench.data.specs import DatasetSpec
from wmbench.registry import resolve


def episode_rng(spec: DatasetSpec, episode: int) -> np.random.Generator:
    """The generator owning all randomness of one episode (independent of process count and chunking)."""
    return np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(episode,)))


def render_states(env: Any, states: np.ndarray, size: int) -> np.ndarray:
    """Render states ``[..., S]`` to uint8 images ``[..., size, size, 3]`` with the pure ``env.draw``."""
    flat = np.asarray(states, dtype=np.float64).reshape(-1, states.shape[-1])
    images = np.empty((flat.shape[0], size, size, 3), dtype=np.uint8)
    for k, state in enumerate(flat):
        images[k] = env.draw(state, size)
    return images.reshape(*states.shape[:-1], size, size, 3)


def mix_policy(expert_entry: str, mix_entry: tuple) -> type:
    """The policy class of a ``noise_mix`` entry: the expert (``"module:Class"``), or the class named by the
    entry's third item in the expert's module."""
    if len(mix_entry) == 2:
        return resolve(expert_entry)
    return resolve(f"{expert_entry.partition(':')[0]}:{mix_entry[2]}")


def rollout_episodes(spec: DatasetSpec, entries: tuple[str, str], start: int,
                     stop: int) -> dict[str, np.ndarray]:
    """Roll out episodes ``start..stop-1``: the episode's policy (``spec.noise_mix``) acts for
    ``spec.episode_len`` steps (no early stop).

    Returns ``states [n, T+1, S]`` float32, ``actions [n, T, A]`` float32 (clipped, exactly as applied),
    ``rewards [n, T]`` float32, ``success [n, T]`` bool and, if the spec asks for them, ``pixels``
    ``[n, T+1, H, W, 3]`` uint8.
    """
    env = resolve(entries[0])(obs_type="state")
    low, high = env.action_space.low, env.action_space.high
    policies = [mix_policy(entries[1], entry) for entry in spec.noise_mix]
    mix_noise = np.array([entry[0] for entry in spec.noise_mix])
    mix_prob = np.array([entry[1] for entry in spec.noise_mix])
    n, horizon = stop - start, spec.episode_len
    states = np.empty((n, horizon + 1, env.state_dim), dtype=np.float32)
    actions = np.empty((n, horizon, low.shape[0]), dtype=np.float32)
    rewards = np.empty((n, horizon), dtype=np.float32)
    success = np.empty((n, horizon), dtype=bool)
    for k in range(n):
        rng = episode_rng(spec, start + k)
        pick = rng.choice(len(mix_noise), p=mix_prob)
        env_seed, expert_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=2))
        _, info = env.reset(seed=env_seed)
        expert = policies[pick](env, noise=float(mix_noise[pick]), seed=expert_seed)
        expert.reset(info["goal_state"])
        state = info["state"]
        states[k, 0] = state
        for t in range(horizon):
            action = np.clip(expert.act(state), low, high).astype(np.float32)
            _, reward, terminated, _, info = env.step(action)
            state = info["state"]
            states[k, t + 1], actions[k, t], rewards[k, t], success[k, t] = state, action, reward, terminated
    out = {"states": states, "actions": actions, "rewards": rewards, "success": success}
    if spec.pixels:
        out["pixels"] = render_states(env, states, spec.image_size)
    return out
