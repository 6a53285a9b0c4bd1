"""Scripted Wall expert: straight to the goal in its room, otherwise via points in front of and past the door.

Clean policy (``noise = 0``), recomputed from the state at every call (so it recovers from perturbations):
- inside the door column (between the inflated wall faces): head for the exit point on the goal's side,
  ``(32 -+ 8, 30)``, or straight for the goal if the goal is in the column too;
- in the goal's room (``x < 32`` vs ``x >= 32``): head straight for the goal (each room is a convex box);
- otherwise: head for the approach point ``(32 -+ 5, 30)`` in front of the door on the own side; once in the
  door corridor (``|y - 30| < 3`` and ``|x - 32| <= 8``) head for the exit point on the far side. From the
  corridor the straight line to the exit passes the wall faces inside the door band (``|y - 30| < 3.5``).
The action points at the target: ``(target - pos) / 2`` (the env moves ``2 a``), scaled down uniformly so that
its largest component is at most 1, which keeps the straight-line direction and lands exactly on close
targets.

Noise: ``a = clip((1 - noise) a_expert + noise u, -1, 1)`` where ``u`` is the reference data generator's
random walk (DINO-WM's) in action units: heading ``theta_t = theta_{t-1} + VonMises(0, kappa = 5)``
(``theta_0`` uniform at ``reset``), step length ``L ~ N(1.0, 0.4)`` truncated to [0.2, 1.8] px,
``u = L / 2 (cos, sin)``. At ``noise = 1`` the expert is that smooth random walk; smaller values add a
goal-directed drift.
"""

from __future__ import annotations

import numpy as np

from wmbench_envs.base import Expert, GoalEnv
from wmbench_envs.wall import ACTION_SCALE, DOOR_Y, WALL_X, WALL_X0, WALL_X1

EXIT_OFFSET = 8.0  #: exit points (and the corridor's reach): this far from the wall centre, at door height
APPROACH_OFFSET = 5.0  #: approach points: this far from the wall centre, at door height
CORRIDOR_HALF = 3.0  #: half-height of the approach corridor in front of the door
KAPPA = 5.0
STEP_MEAN, STEP_STD, STEP_MIN, STEP_MAX = 1.0, 0.4, 0.2, 1.8


def door_point(left: bool, offset: float = EXIT_OFFSET) -> np.ndarray:
    """The point ``offset`` px in front of the door on the left (``x < 32``) or right side."""
    return np.array([WALL_X - offset if left else WALL_X + offset, DOOR_Y])


def target(pos: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """The clean expert's current target point for dot position ``pos`` and goal position ``goal``."""
    goal_left = goal[0] < WALL_X
    if WALL_X0 < pos[0] < WALL_X1:
        return goal.copy() if WALL_X0 < goal[0] < WALL_X1 else door_point(goal_left)
    left = pos[0] < WALL_X
    if left == goal_left:
        return goal.copy()
    in_corridor = abs(pos[1] - DOOR_Y) < CORRIDOR_HALF and abs(pos[0] - WALL_X) <= EXIT_OFFSET
    return door_point(not left) if in_corridor else door_point(left, APPROACH_OFFSET)


class WallExpert(Expert):
    """Door-routing expert with a von-Mises random-walk action mix (see module docstring)."""

    def __init__(self, env: GoalEnv, noise: float = 0.0, seed: int = 0):
        super().__init__(env, noise, seed)
        self._heading = 0.0

    def reset(self, goal: np.ndarray) -> None:
        super().reset(goal)
        self._heading = float(self.rng.uniform(0.0, 2 * np.pi))

    def act(self, state: np.ndarray) -> np.ndarray:
        goal = self.goal
        pos = np.asarray(state, dtype=np.float64)[:2]
        action = (target(pos, goal) - pos) / ACTION_SCALE
        action /= max(1.0, float(np.max(np.abs(action))))
        if self.noise > 0:
            action = (1.0 - self.noise) * action + self.noise * self._random_walk()
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def _random_walk(self) -> np.ndarray:
        """Next action of the reference generator's random walk (in action units)."""
        self._heading += float(self.rng.vonmises(0.0, KAPPA))
        length = self.rng.normal(STEP_MEAN, STEP_STD)
        while not STEP_MIN <= length <= STEP_MAX:
            length = self.rng.normal(STEP_MEAN, STEP_STD)
        return length / ACTION_SCALE * np.array([np.cos(self._heading), np.sin(self._heading)])


SEGMENT_STEPS = (4, 16)  #: a pusher segment lasts a uniform number of env steps in this range (inclusive)
SEGMENT_KINDS = ("face", "door", "border")
SEGMENT_PROBS = (0.55, 0.25, 0.2)
FACE_SPREADS = (0.0, 0.0, 4.0, 12.0)  #: vertical spread of face targets (0: pure horizontal pushes)
JAMB_PROB = 0.5  #: chance that a door segment turns into a vertical push into a door jamb
MIN_REACH = 0.5  #: px; a target closer than this counts as reached


class WallPusher(Expert):
    """Data policy (not an expert): full-speed pushes into the wall, the door jambs and the border, and
    full-speed door passages; it ignores the goal. Used by the v1 datasets for contact coverage.

    The episode is a sequence of segments of ``SEGMENT_STEPS`` env steps. Each segment picks a target:
    - ``face``: a point in the wall's centre line, ``(32, y + U(-s, s))`` with ``s`` drawn from
      ``FACE_SPREADS``; the dot runs into the near face and keeps pushing (``s = 0``: ``a = (+-1, 0)``, the
      wall-contact probe's push), sliding along the face towards the target's height;
    - ``door``: the door point 8 px beyond the wall on the far side, at a height ``U(-3, 3)`` from the door
      centre (a full-speed passage); with probability ``JAMB_PROB`` the dot, once inside the door column,
      instead pushes vertically (``a = (U(-0.3, 0.3), +-1)``) into a door jamb;
    - ``border``: a point 100 px away in a uniform direction (a push into the border).
    The action heads for the target at full speed, ``a = d / max|d|`` with ``d = target - pos`` (its largest
    component is exactly +-1). Noise as in ``WallExpert`` but with ``u ~ U[-1, 1]^2``: at ``noise = 1`` the
    policy is uniform random actions.
    """

    def reset(self, goal: np.ndarray) -> None:
        super().reset(goal)
        self._steps_left = 0
        self._kind, self._target, self._jamb = "face", np.zeros(2), 0.0

    def act(self, state: np.ndarray) -> np.ndarray:
        pos = np.asarray(state, dtype=np.float64)[:2]
        if self._steps_left <= 0:
            self._new_segment(pos)
        self._steps_left -= 1
        if self._jamb and WALL_X0 < pos[0] < WALL_X1:
            action = np.array([self.rng.uniform(-0.3, 0.3), self._jamb])
        else:
            delta = self._target - pos
            if np.max(np.abs(delta)) < MIN_REACH:  # target reached (inside the door): next segment
                self._new_segment(pos)
                delta = self._target - pos
            action = delta / max(float(np.max(np.abs(delta))), MIN_REACH)
        if self.noise > 0:
            action = (1.0 - self.noise) * action + self.noise * self.rng.uniform(-1.0, 1.0, 2)
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def _new_segment(self, pos: np.ndarray) -> None:
        rng = self.rng
        self._steps_left = int(rng.integers(SEGMENT_STEPS[0], SEGMENT_STEPS[1] + 1))
        self._kind = SEGMENT_KINDS[rng.choice(len(SEGMENT_KINDS), p=SEGMENT_PROBS)]
        self._jamb = 0.0
        if self._kind == "face":
            spread = FACE_SPREADS[rng.integers(len(FACE_SPREADS))]
            self._target = np.array([WALL_X, pos[1] + rng.uniform(-spread, spread) if spread else pos[1]])
        elif self._kind == "door":
            self._target = door_point(pos[0] >= WALL_X) + [0.0, rng.uniform(-CORRIDOR_HALF, CORRIDOR_HALF)]
            if rng.random() < JAMB_PROB:
                self._jamb = float(rng.choice([-1.0, 1.0]))
        else:
            angle = rng.uniform(0.0, 2 * np.pi)
            self._target = pos + 100.0 * np.array([np.cos(angle), np.sin(angle)])
