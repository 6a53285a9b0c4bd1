"""Scripted-expert rollouts: episode ``i`` of a spec is a pure function of ``(spec.seed, i)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from wmbench.data.specs import DatasetSpec
from wmbench.registry import resolve


def episode_rng(spec: DatasetSpec, episode: int) -> np.random.Generator:
    """The generator owning all randomness of one episode (independent of process count and chunking)."""
    return np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(episode,)))


@dataclass(frozen=True)
class EpisodeSetup:
    """What episode ``i`` of a spec is drawn with: its ``noise_mix`` entry and the seeds of its env reset
    (start and goal) and of its policy."""

    mix_index: int
    env_seed: int
    policy_seed: int


def episode_setup(spec: DatasetSpec, episode: int) -> EpisodeSetup:
    """The setup of one episode, all of its episode generator's draws."""
    rng = episode_rng(spec, episode)
    pick = rng.choice(len(spec.noise_mix), p=np.array([entry[1] for entry in spec.noise_mix]))
    env_seed, policy_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=2))
    return EpisodeSetup(int(pick), env_seed, policy_seed)


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
    n, horizon = stop - start, spec.episode_len
    states = np.empty((n, horizon + 1, env.state_dim), dtype=np.float32)
    actions = np.empty((n, horizon, low.shape[0]), dtype=np.float32)
    rewards = np.empty((n, horizon), dtype=np.float32)
    success = np.empty((n, horizon), dtype=bool)
    for k in range(n):
        setup = episode_setup(spec, start + k)
        _, info = env.reset(seed=setup.env_seed)
        expert = policies[setup.mix_index](env, noise=float(spec.noise_mix[setup.mix_index][0]),
                                           seed=setup.policy_seed)
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
