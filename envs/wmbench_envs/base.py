"""Shared goal-conditioned Gymnasium env: reset-to-state, obs types, info keys and rendering plumbing.

A concrete env supplies its physics (`_set_physics_state`, `_get_physics_state`, `_physics_step`), its
start/goal distribution (`sample_start_goal`), a pure rasteriser (`draw`) and pure batch functions
`success` and `state_distance`. Everything Gymnasium-facing lives here once.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

OBS_TYPES = ("state", "pixels", "both")


class GoalEnv(gym.Env):
    """Base class of the wmbench envs.

    Observations are float32 states, uint8 HxWx3 images, or a dict of both (``obs_type``). States are float64
    internally and ``set_state(get_state())`` is exact. ``info`` always carries ``state``, ``goal_state`` and
    ``is_success``; reward is ``-state_distance(state, goal)``; ``terminated`` is success.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    #: Box bounds used for the state observation space (subclasses set these).
    state_low: np.ndarray
    state_high: np.ndarray
    #: State dims the success test looks at; state models' planning objectives weigh only these (None = all).
    goal_dims: tuple[int, ...] | None = None
    #: State dims that are angles in radians (state models encode them as cos/sin).
    angle_dims: tuple[int, ...] = ()
    #: ``replay`` steps all rollouts at once in numpy: splitting it across processes costs more than it saves.
    vectorized_replay: bool = False

    def __init__(self, obs_type: str = "state", render_mode: str | None = None, image_size: int = 64):
        if obs_type not in OBS_TYPES:
            raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if int(image_size) < 8:
            raise ValueError(f"image_size must be >= 8, got {image_size}")
        self.obs_type = obs_type
        self.render_mode = render_mode
        self.image_size = int(image_size)
        state_space = spaces.Box(self.state_low.astype(np.float32), self.state_high.astype(np.float32),
                                 dtype=np.float32)
        pixel_space = spaces.Box(0, 255, (self.image_size, self.image_size, 3), dtype=np.uint8)
        self.observation_space = {
            "state": state_space,
            "pixels": pixel_space,
            "both": spaces.Dict({"state": state_space, "pixels": pixel_space}),
        }[obs_type]
        self._goal: np.ndarray | None = None

    # ----------------------------------------------------------------- to implement in subclasses
    def _set_physics_state(self, state: np.ndarray) -> None:
        raise NotImplementedError

    def _get_physics_state(self) -> np.ndarray:
        raise NotImplementedError

    def _physics_step(self, action: np.ndarray) -> None:
        raise NotImplementedError

    def sample_start_goal(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw a (start, goal) pair from the env's documented distribution."""
        raise NotImplementedError

    def draw(self, state: np.ndarray, size: int) -> np.ndarray:
        """Rasterise ``state`` to a uint8 (size, size, 3) image; pure function of the state."""
        raise NotImplementedError

    @staticmethod
    def success(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Batch-capable success test over the last axis."""
        raise NotImplementedError

    @staticmethod
    def state_distance(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Batch-capable distance over the last axis."""
        raise NotImplementedError

    @staticmethod
    def coverage(state: np.ndarray, goal: np.ndarray) -> float:
        """Fraction of the goal region covered in ``state`` (in [0, 1]); NaN for envs that define none."""
        return float("nan")

    # ----------------------------------------------------------------- shared behaviour
    @property
    def state_dim(self) -> int:
        return int(self.state_low.shape[0])

    @property
    def goal(self) -> np.ndarray:
        if self._goal is None:
            raise RuntimeError("call reset() before using the goal")
        return self._goal.copy()

    def get_state(self) -> np.ndarray:
        return np.asarray(self._get_physics_state(), dtype=np.float64).copy()

    def set_state(self, state: np.ndarray) -> None:
        self._set_physics_state(self._check_state(state, "state"))

    def _check_state(self, state: Any, name: str) -> np.ndarray:
        arr = np.asarray(state, dtype=np.float64)
        if arr.shape != (self.state_dim,):
            raise ValueError(f"{name} must have shape ({self.state_dim},), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite, got {arr}")
        return arr.copy()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"state", "goal"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; expected 'state' and/or 'goal'")
        start, goal = self.sample_start_goal(self.np_random)
        if "state" in options:
            start = self._check_state(options["state"], "options['state']")
        if "goal" in options:
            goal = self._check_state(options["goal"], "options['goal']")
        self._set_physics_state(start)
        self._goal = np.asarray(goal, dtype=np.float64).copy()
        return self._observation(), self._info()

    def step(self, action):
        if self._goal is None:
            raise RuntimeError("call reset() before step()")
        action = np.asarray(action, dtype=np.float64).reshape(self.action_space.shape)
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action must be finite, got {action}")
        self._physics_step(np.clip(action, self.action_space.low, self.action_space.high))
        info = self._info()
        reward = -float(self.state_distance(info["state"], self._goal))
        return self._observation(), reward, info["is_success"], False, info

    def replay(self, starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Execute action blocks from each start: ``starts [N, S]``, ``actions [N, H, K, A]`` (H blocks of K
        env actions, clipped to the action space as ``step`` does) -> states at the block boundaries
        ``[N, H + 1, S]`` (index 0 = the start). Physics only: no observations, rewards or info."""
        n, horizon = actions.shape[:2]
        if not np.all(np.isfinite(actions)):
            raise ValueError("replay actions must be finite")
        actions = np.clip(actions, self.action_space.low, self.action_space.high)
        out = np.empty((n, horizon + 1, self.state_dim))
        for i in range(n):
            self.set_state(starts[i])
            out[i, 0] = self.get_state()
            for h in range(horizon):
                for action in actions[i, h]:
                    self._physics_step(action)
                out[i, h + 1] = self.get_state()
        return out

    def _replay_inputs_ok(self, starts: np.ndarray, actions: np.ndarray) -> bool:
        """Whether ``replay`` inputs are well formed: finite starts ``[N, S]`` and actions ``[N, H, K, A]``.

        Batched ``replay`` overrides take their fast path only then and leave every error to this class's
        loop (env-specific state checks are theirs to add)."""
        return (starts.ndim == 2 and starts.shape[1] == self.state_dim and actions.ndim == 4
                and actions.shape[0] == starts.shape[0] and actions.shape[3:] == self.action_space.shape
                and bool(np.isfinite(starts).all()) and bool(np.isfinite(actions).all()))

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return self.draw(self.get_state(), self.image_size)

    def _observation(self):
        state = self.get_state()
        if self.obs_type == "state":
            return state.astype(np.float32)
        pixels = self.draw(state, self.image_size)
        if self.obs_type == "pixels":
            return pixels
        return {"state": state.astype(np.float32), "pixels": pixels}

    def _info(self) -> dict:
        state = self.get_state()
        return {
            "state": state,
            "goal_state": self._goal.copy(),
            "is_success": bool(self.success(state, self._goal)),
        }


class Expert:
    """Base of the scripted experts: validated noise level, own seeded RNG and the episode goal.

    Subclasses implement ``act(state) -> action`` (float32, inside the env's action space) and may extend
    ``reset`` to clear per-episode state.
    """

    def __init__(self, env: GoalEnv, noise: float = 0.0, seed: int = 0):
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise must be in [0, 1], got {noise}")
        self.env = env
        self.noise = float(noise)
        self.rng = np.random.default_rng(seed)
        self._goal: np.ndarray | None = None

    def reset(self, goal: np.ndarray) -> None:
        """Start a new episode towards ``goal`` (a full env state)."""
        goal = np.asarray(goal, dtype=np.float64)
        if goal.shape != (self.env.state_dim,):
            raise ValueError(f"goal must be a {type(self.env).__name__} state of shape "
                             f"({self.env.state_dim},), got {goal.shape}")
        self._goal = goal.copy()

    @property
    def goal(self) -> np.ndarray:
        if self._goal is None:
            raise RuntimeError(f"call {type(self).__name__}.reset(goal) before act()")
        return self._goal

    def act(self, state: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def solves(self, start: np.ndarray, goal: np.ndarray, step_cap: int) -> bool:
        """Reset the env to ``(start, goal)`` and act; whether it succeeds within ``step_cap`` env steps."""
        _, info = self.env.reset(options={"state": start, "goal": goal})
        self.reset(goal)
        for _ in range(step_cap):
            _, _, terminated, _, info = self.env.step(self.act(info["state"]))
            if terminated:
                return True
        return False
