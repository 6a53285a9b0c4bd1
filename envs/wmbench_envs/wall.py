"""Wall (DINO-WM "wall_single"): a dot in a 65-px box moves between two rooms through a door in a fixed wall.

Geometry (DINO-WM's, y points down): border lines at 4 and 60 (interior 4 < x, y < 60); a vertical
wall at x = 32 of half-width 3 (solid x in [29, 35]) with a door at y in [26, 34] (centre 30, half-height 4).
State (float64): the dot's ``[x, y]`` in grid pixels.

Motion rule (one rule, ``move``, for env and data alike): ``next = pos + 2 a`` with ``a`` clipped to [-1, 1].
The dot keeps a margin of 0.5 px from every solid face, so its reachable set is the box [4.5, 59.5]^2 minus
the wall inflated by 0.5 outside the door: the open rectangles (28.5, 35.5) x (-inf, 26.5) and (28.5, 35.5) x
(33.5, inf). If the straight move enters an inflated wall part (swept slab test, so corners cannot be cut),
the dot stops on the face it hits and the rest of the move keeps only its component along that face (the dot
slides); then the dot is clamped into the box (per axis, i.e. sliding along the border). A move (<= 2.9 px) is
shorter than the door height and the wall width, so the dot never enters a wall, never leaves the interior and
changes rooms only through the door band. The slab test skips division on an axis whose move component is
zero, which guards the reference's dx = 0 division.

Differences from the reference: the DWM env does not clip actions and, on a collision, puts the dot at the
intercept plus fixed +-0.5 offsets (one collision per step, dx = 0 divides by zero, the far wall face is not
tested from inside the doorway); the DWM data generator instead leaves the dot in place. Here one rule (slide
with a 0.5 px margin) serves data and env alike. Start/goal sampling uses ``np.random.Generator``.

Rendering at ``size`` px: white background, black border lines and wall (the reference 65-px mask, door rows
26 to 34 open, bilinearly resampled), and the red dot whose off-wall pixels get ``G = B = 255 (1 - g)`` with
``g`` the Gaussian of std 1.7 grid px evaluated at the pixel centres (peak 1 at the dot, not renormalised per
image).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from gymnasium import spaces

from wmbench_envs.base import GoalEnv
from wmbench_envs.geometry import py_max, py_min, replay_batch, sweep_box, sweep_box_batch

GRID = 65
BORDER_LO, BORDER_HI = 4.0, 60.0
WALL_X, WALL_HALF = 32.0, 3.0
DOOR_Y, DOOR_HALF = 30.0, 4.0
DOT_STD = 1.7
ACTION_SCALE = 2.0
MARGIN = 0.5

#: Reachable set of the dot: [BOX_LO, BOX_HI]^2 minus the inflated wall parts above and below the door.
BOX_LO, BOX_HI = BORDER_LO + MARGIN, BORDER_HI - MARGIN
WALL_X0, WALL_X1 = WALL_X - WALL_HALF - MARGIN, WALL_X + WALL_HALF + MARGIN
DOOR_Y0, DOOR_Y1 = DOOR_Y - DOOR_HALF + MARGIN, DOOR_Y + DOOR_HALF - MARGIN
#: y extents of the inflated wall above and below the door
WALL_PARTS = ((-math.inf, DOOR_Y0), (DOOR_Y1, math.inf))

SUCCESS_RADIUS = 4.5
PADDING = BORDER_LO + 2 * DOT_STD  #: 7.4, the reference's sampling padding
SIDE_LO = (PADDING, WALL_X - WALL_HALF - 2 * DOT_STD)  #: start-side x range [7.4, 25.6]
SIDE_HI = (WALL_X + WALL_HALF + 2 * DOT_STD, BORDER_HI - 2 * DOT_STD)  #: goal-side x range [38.4, 56.6]
Y_RANGE = (PADDING, BORDER_HI - 2 * DOT_STD)  #: [7.4, 56.6]


def move(x: float, y: float, dx: float, dy: float) -> tuple[float, float]:
    """The motion rule: move a reachable point by (dx, dy), sliding along any face it hits (module doc)."""
    nx, ny = x + dx, y + dy
    for y0, y1 in WALL_PARTS:
        hit = sweep_box(x, y, dx, dy, WALL_X0, WALL_X1, y0, y1)
        if hit is not None and hit[1] == 0:  # wall face: stop in x, slide in y
            nx = WALL_X0 if dx > 0 else WALL_X1
        elif hit is not None:  # door jamb: stop in y, slide in x
            ny = y0 if dy > 0 else y1
    return min(max(nx, BOX_LO), BOX_HI), min(max(ny, BOX_LO), BOX_HI)


def move_batch(xy: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """`move` for ``N`` points ``[N, 2]`` and moves ``[N, 2]`` at once, bit-identical point by point
    (the same operations in the same order, Python's ``min``/``max`` tie rules)."""
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    dx, dy = delta[:, 0].astype(np.float64), delta[:, 1].astype(np.float64)
    nx, ny = x + dx, y + dy
    for y0, y1 in WALL_PARTS:
        hit, axis = sweep_box_batch(x, y, dx, dy, WALL_X0, WALL_X1, y0, y1)
        face, jamb = hit & (axis == 0), hit & (axis != 0)
        nx = np.where(face, np.where(dx > 0, WALL_X0, WALL_X1), nx)
        ny = np.where(jamb, np.where(dy > 0, y0, y1), ny)
    return np.stack([py_min(py_max(nx, BOX_LO), BOX_HI), py_min(py_max(ny, BOX_LO), BOX_HI)], axis=1)


def is_reachable(xy: np.ndarray) -> np.ndarray:
    """Whether points ``xy [..., 2]`` lie in the dot's reachable set (closed)."""
    xy = np.asarray(xy, dtype=np.float64)
    x, y = xy[..., 0], xy[..., 1]
    in_box = (x >= BOX_LO) & (x <= BOX_HI) & (y >= BOX_LO) & (y <= BOX_HI)
    in_wall = (x > WALL_X0) & (x < WALL_X1) & ((y < DOOR_Y0) | (y > DOOR_Y1))
    return in_box & ~in_wall


def door_offset(start: np.ndarray, goal: np.ndarray) -> float:
    """Wall: distance (px) from the door centre at which the straight start-goal segment meets x = 32."""
    t = (WALL_X - start[0]) / (goal[0] - start[0])
    return float(abs(start[1] + t * (goal[1] - start[1]) - DOOR_Y))


def door_crossing(start: np.ndarray, goal: np.ndarray) -> float:
    """Wall: the length (px) of the straight start-goal segment if it passes the door, else NaN (which no
    length test accepts)."""
    if door_offset(start, goal) > DOOR_Y1 - DOOR_Y:
        return math.nan
    return float(np.linalg.norm(goal[:2] - start[:2]))


class WallGeometry(NamedTuple):
    """Where the wall and its door are (grid px): the wall spans x in ``[wall_x0, wall_x1]`` for the dot's
    centre, and the door lets it through for y in ``[door_y0, door_y1]``."""

    wall_x0: float
    wall_x1: float
    door_y0: float
    door_y1: float


def wall_geometry() -> WallGeometry:
    """The wall's and the door's extent as the dot's centre meets them (`WallGeometry`)."""
    return WallGeometry(WALL_X0, WALL_X1, DOOR_Y0, DOOR_Y1)


def success(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Reference success over the last axis: xy distance < 4.5 px."""
    diff = np.asarray(goal, dtype=np.float64)[..., :2] - np.asarray(state, dtype=np.float64)[..., :2]
    return np.linalg.norm(diff, axis=-1) < SUCCESS_RADIUS


def state_distance(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """L2 distance over the 2-D state (last axis)."""
    return np.linalg.norm(np.asarray(goal, dtype=np.float64) - np.asarray(state, dtype=np.float64), axis=-1)


def wall_mask() -> np.ndarray:
    """The reference 65x65 wall mask (rows = y, columns = x): border lines 4 and 60, wall columns 29..35."""
    mask = np.zeros((GRID, GRID))
    lo, hi = int(BORDER_LO), int(BORDER_HI)
    mask[[lo, hi], :] = 1.0
    mask[:, [lo, hi]] = 1.0
    x0, x1 = int(WALL_X - WALL_HALF), int(WALL_X + WALL_HALF)
    y0, y1 = int(DOOR_Y - DOOR_HALF), int(DOOR_Y + DOOR_HALF)
    mask[:y0, x0:x1 + 1] = 1.0
    mask[y1 + 1:, x0:x1 + 1] = 1.0
    return mask


def grid_coords(size: int) -> np.ndarray:
    """Grid coordinate of each output pixel centre along one axis (identity at size 65)."""
    return (np.arange(size) + 0.5) * GRID / size - 0.5


def _resample_matrix(size: int) -> np.ndarray:
    """Bilinear (half-pixel centres, edge-clamped) resampling matrix [size, 65] from the 65-px grid."""
    u = np.clip(grid_coords(size), 0.0, GRID - 1)
    i0 = np.minimum(np.floor(u).astype(np.int64), GRID - 2)
    w = u - i0
    mat = np.zeros((size, GRID))
    mat[np.arange(size), i0] = 1.0 - w
    mat[np.arange(size), i0 + 1] += w
    return mat


_OPEN: dict[int, np.ndarray] = {}


def _open_fraction(size: int) -> np.ndarray:
    """1 - wall coverage at ``size`` px (cached per size)."""
    if size not in _OPEN:
        mat = _resample_matrix(size)
        _OPEN[size] = 1.0 - np.clip(mat @ wall_mask() @ mat.T, 0.0, 1.0)
    return _OPEN[size]


def draw_state(state: np.ndarray, size: int = 64) -> np.ndarray:
    """Rasterise a Wall state to uint8 (size, size, 3): white room, black walls, red Gaussian dot (y down)."""
    state = np.asarray(state, dtype=np.float64)
    if state.shape != (2,):
        raise ValueError(f"state must have shape (2,), got {state.shape}")
    size = int(size)
    u = grid_coords(size)
    gx = np.exp(-0.5 * ((u - state[0]) / DOT_STD) ** 2)
    gy = np.exp(-0.5 * ((u - state[1]) / DOT_STD) ** 2)
    red = 255.0 * _open_fraction(size)
    img = np.empty((size, size, 3))
    img[..., 0] = red
    img[..., 1] = red * (1.0 - gy[:, None] * gx[None, :])
    img[..., 2] = img[..., 1]
    return np.rint(img).astype(np.uint8)


class WallEnv(GoalEnv):
    """Move a dot from one room to the other through the door of a wall (DINO-WM's "wall_single").

    ## Description
    A dot moves in a 65 x 65 pixel box split by a vertical wall at x = 32 with a door at y in [26, 34]
    (y points down). Start and goal lie in opposite rooms, so every task needs the door. The dot slides along
    any face it hits and keeps 0.5 px from every wall; it never enters a wall. The motion rule and the
    changes from the reference are in the module docstring of `wmbench_envs.wall`.

    ## Action Space
    `Box(-1, 1, (2,), float32)`: the dot's displacement in units of 2 px (`next = pos + 2 * action`, then the
    collision rule). Actions are clipped to the box.

    | Num | Action                     | Min | Max |
    |-----|----------------------------|-----|-----|
    | 0   | x displacement / 2 px      | -1  | 1   |
    | 1   | y displacement / 2 px      | -1  | 1   |

    ## Observation Space
    `obs_type="state"`: `Box(float32, (2,))`, the full simulator state in grid pixels (`get_state()` returns
    it in float64, and `set_state(get_state())` is exact):

    | Num | Observation | Min | Max  |
    |-----|-------------|-----|------|
    | 0   | x [px]      | 4.5 | 59.5 |
    | 1   | y [px]      | 4.5 | 59.5 |

    Points inside the wall (x in (28.5, 35.5) outside the door band [26.5, 33.5]) are not reachable and
    `set_state` rejects them. `obs_type="pixels"`: `Box(0, 255, (image_size, image_size, 3), uint8)`: white
    rooms, black walls and a red Gaussian dot, drawn by the pure `draw(state, size)`; `obs_type="both"`: a
    `Dict` with keys `"state"` and `"pixels"`.

    ## Rewards
    `-state_distance(state, goal)`: minus the L2 distance between dot and goal in pixels. The benchmark
    judges success, not return.

    ## Starting State
    `reset(seed=...)` draws the start x in [7.4, 25.6] (left room) and the goal x in [38.4, 56.6] (right
    room), both y in [7.4, 56.6], then swaps the two x values with probability 0.5.
    `reset(options={"state": s, "goal": g})` sets either exactly (the evaluation task suites do this).

    ## Episode End
    Terminated on success: the dot within 4.5 px of the goal. Truncated after 300 steps when made with
    `gymnasium.make` (TimeLimit); evaluation tasks carry their own step caps. `info` holds `state`,
    `goal_state` and `is_success`.

    ## Arguments
    ```python
    gymnasium.make("wmbench/Wall-v0", obs_type="state", render_mode=None, image_size=64)
    ```
    `obs_type`: `"state"`, `"pixels"` or `"both"`; `render_mode`: `None` or `"rgb_array"` (`render()`
    returns the current state drawn at `image_size`); `image_size`: side of the pixel observations (>= 8).

    ## Version History
    - v0: initial version: DINO-WM's wall geometry with one sliding collision rule for data and env.
    """

    state_low = np.array([BOX_LO, BOX_LO])
    state_high = np.array([BOX_HI, BOX_HI])
    vectorized_replay = True

    def __init__(self, obs_type: str = "state", render_mode: str | None = None, image_size: int = 64):
        super().__init__(obs_type=obs_type, render_mode=render_mode, image_size=image_size)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self._pos = (16.0, 30.0)

    def _set_physics_state(self, state: np.ndarray) -> None:
        if not is_reachable(state):
            raise ValueError(f"Wall state {state} is not reachable: the dot must lie in "
                             f"[{BOX_LO}, {BOX_HI}]^2 and at least {MARGIN} px from the wall (x outside "
                             f"({WALL_X0}, {WALL_X1}) unless y is in the door band [{DOOR_Y0}, {DOOR_Y1}])")
        self._pos = (float(state[0]), float(state[1]))

    def _get_physics_state(self) -> np.ndarray:
        return np.array(self._pos, dtype=np.float64)

    def _physics_step(self, action: np.ndarray) -> None:
        self._pos = move(*self._pos, ACTION_SCALE * float(action[0]), ACTION_SCALE * float(action[1]))

    def replay(self, starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """`GoalEnv.replay` with all rollouts moved at once by `move_batch`: the same states bit
        for bit. Invalid inputs take the reference loop, which raises its errors."""
        starts, actions = np.asarray(starts, dtype=np.float64), np.asarray(actions, dtype=np.float64)
        if not (self._replay_inputs_ok(starts, actions) and is_reachable(starts).all()):
            return super().replay(starts, actions)
        actions = np.clip(actions, self.action_space.low, self.action_space.high)
        return replay_batch(lambda xy, action: move_batch(xy, ACTION_SCALE * action), starts, actions)

    def sample_start_goal(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Reference recipe (section 3.3) with a Generator: start and goal x on opposite sides of the wall.

        Draw order: start_x, target_x, start_y, target_y, then swap the two x values with probability 0.5.
        """
        start_x, target_x = rng.uniform(*SIDE_LO), rng.uniform(*SIDE_HI)
        start_y, target_y = rng.uniform(*Y_RANGE), rng.uniform(*Y_RANGE)
        if rng.uniform() < 0.5:
            start_x, target_x = target_x, start_x
        return np.array([start_x, start_y]), np.array([target_x, target_y])

    def draw(self, state: np.ndarray, size: int = 64) -> np.ndarray:
        return draw_state(state, size)

    success = staticmethod(success)
    state_distance = staticmethod(state_distance)
