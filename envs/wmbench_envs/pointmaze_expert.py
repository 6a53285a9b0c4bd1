"""Scripted PointMaze expert: BFS over the U-maze cells, then PD control to the next cell centre or the goal.

Clean policy (``noise = 0``), a simplified D4RL ``WaypointController``: the ball's cell is the maze cell
containing it (``floor(pos + 0.7)``); if it differs from the goal's cell, the waypoint is the centre of the
next cell on the shortest (BFS) cell path to the goal's cell, otherwise the goal position itself. The action
is the D4RL PD law ``a = clip(10 (wp - pos) - vel, -1, 1)``. The waypoint advances as soon as the ball enters
the next cell, and because it is recomputed from the state at every call, the policy recovers from any
perturbation.

Noise: ``a = clip((1 - noise) a_expert + noise u, -1, 1)`` with ``u ~ U[-1, 1]^2`` i.i.d. per step. At
``noise = 1`` this is the reference data's "fully random" uniform policy; since force integrates to velocity,
the ball then follows a smooth random walk. Intermediate values keep a goal-directed drift of strength
``1 - noise``.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from wmbench_envs.base import Expert
from wmbench_envs.pointmaze import CELL_OFFSET, U_MAZE, sample_point

KP, KD = 10.0, 1.0

Cell = tuple[int, int]
FREE_CELLS: tuple[Cell, ...] = tuple((r, c) for r, row in enumerate(U_MAZE)
                                     for c, ch in enumerate(row) if ch != "#")


def cell_centre(cell: Cell) -> np.ndarray:
    """qpos centre of a maze cell."""
    return np.array(cell, dtype=np.float64) + 0.5 - CELL_OFFSET


def cell_of(xy: np.ndarray) -> Cell:
    """The free cell containing ``xy`` (the nearest free cell by centre if ``xy`` lies in a wall cell)."""
    cell = (int(np.floor(xy[0] + CELL_OFFSET)), int(np.floor(xy[1] + CELL_OFFSET)))
    if cell in FREE_CELLS:
        return cell
    return min(FREE_CELLS, key=lambda c: float(np.sum((cell_centre(c) - xy) ** 2)))


def _next_hops() -> dict[tuple[Cell, Cell], Cell]:
    """``(cell, goal_cell) -> next cell`` on a shortest 4-connected path (BFS from every goal cell)."""
    hops: dict[tuple[Cell, Cell], Cell] = {}
    for goal in FREE_CELLS:
        seen, queue = {goal}, deque([goal])
        while queue:
            cell = queue.popleft()
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                nb = (cell[0] + dr, cell[1] + dc)
                if nb in FREE_CELLS and nb not in seen:
                    seen.add(nb)
                    hops[nb, goal] = cell
                    queue.append(nb)
    return hops


NEXT_HOP = _next_hops()


def maze_hops(start: np.ndarray, goal: np.ndarray) -> int:
    """PointMaze: maze cells from the start's cell to the goal's along the shortest cell path."""
    here, there = cell_of(start[:2]), cell_of(goal[:2])
    hops = 0
    while here != there:
        here, hops = NEXT_HOP[here, there], hops + 1
    return hops


class PointMazeExpert(Expert):
    """Cell-BFS waypoint + PD expert with a uniform-random action mix (see module docstring)."""

    def waypoint(self, state: np.ndarray) -> np.ndarray:
        """The current PD target for ``state``: next cell centre on the BFS path, or the goal position."""
        goal = self.goal
        here, there = cell_of(state[:2]), cell_of(goal[:2])
        return goal[:2].copy() if here == there else cell_centre(NEXT_HOP[here, there])

    def act(self, state: np.ndarray) -> np.ndarray:
        state = np.asarray(state, dtype=np.float64)
        action = np.clip(KP * (self.waypoint(state) - state[:2]) - KD * state[2:4], -1.0, 1.0)
        if self.noise > 0:
            action = (1.0 - self.noise) * action + self.noise * self.rng.uniform(-1.0, 1.0, 2)
        return np.clip(action, -1.0, 1.0).astype(np.float32)


TOUR_REACH = 0.3  #: a tour goal counts as reached this close (qpos units)
TOUR_TIMEOUT = 60  #: env steps before a tour goal is abandoned for the next one


class PointMazeTourer(PointMazeExpert):
    """Data policy (not an expert): the expert's BFS routing through a tour of random goals, driven at speed.

    The first goal is the episode's goal; whenever the ball is within ``TOUR_REACH`` of the current goal, or
    after ``TOUR_TIMEOUT`` steps, the next goal is drawn with the env's start/goal sampler
    (``pointmaze.sample_point``: every arm of the maze). Each goal also draws a velocity gain
    ``kd ~ U(0, KD)``, and the action is ``clip(KP (wp - pos) - kd vel, -1, 1)``: with little damping the ball
    runs at full force, overshoots waypoints and hits walls at speed. Noise as in ``PointMazeExpert``.
    """

    def reset(self, goal: np.ndarray) -> None:
        super().reset(goal)
        self._kd, self._age = float(self.rng.uniform(0.0, KD)), 0

    def act(self, state: np.ndarray) -> np.ndarray:
        state = np.asarray(state, dtype=np.float64)
        self._age += 1
        if self._age > TOUR_TIMEOUT or np.linalg.norm(self.goal[:2] - state[:2]) < TOUR_REACH:
            self._goal = sample_point(self.rng)
            self._kd, self._age = float(self.rng.uniform(0.0, KD)), 0
        action = np.clip(KP * (self.waypoint(state) - state[:2]) - self._kd * state[2:4], -1.0, 1.0)
        if self.noise > 0:
            action = (1.0 - self.noise) * action + self.noise * self.rng.uniform(-1.0, 1.0, 2)
        return np.clip(action, -1.0, 1.0).astype(np.float32)
