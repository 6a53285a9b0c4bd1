"""PointMaze U-maze (D4RL maze2d-umaze as used by DINO-WM), re-implemented analytically in the qpos frame.

Dynamics (D4RL's MuJoCo point mass): one env step clips the action to [-1, 1] and the velocity to [-5, 5]
(once), then runs 5 substeps of MuJoCo's implicit-damping Euler update ``v <- (m v + h 100 a) / (m + h)`` and
``p <- p + h v`` with ``h = 0.01`` and ``m = 4.18879`` (a sphere of radius 0.1 and density 1000).

Walls are the ``#`` cells of ``U_MAZE`` (unit boxes; cell (r, c) covers qpos x in [r - 0.7, r + 0.3] and y in
[c - 0.7, c + 0.3]). The ball centre lives in the free set of section 2.2: the box [0.4, 3.2]^2 minus the open
block (1.2, 2.4) x (-inf, 2.4), i.e. the walls inflated by the ball radius with square corners. Contacts are
exact, frictionless and inelastic: if a substep's straight move enters the block (swept test, so corners
cannot be cut), the ball stops on the face it hits, loses its normal velocity and slides along the face for
the rest of the substep with its tangential velocity; then the centre is clamped into the outer box (a convex
box, so clamping per axis is the same sliding contact), again zeroing the inward velocity. The centre can
never enter a wall.

Deviations from the reference: contacts are rigid rather than MuJoCo's soft constraints (which allow about
0.01 of penetration, hence the dataset range x >= 0.393), the block's convex corners are square rather than
rounded by the ball radius, and start/goal sampling uses ``np.random.Generator`` instead of ``RandomState``.

State (float64): ``[x, y, vx, vy]``. Success: ``||goal[:2] - state[:2]|| < 0.5``; distance: 4-D L2.
Rendering: top-down view of qpos [-0.2, 3.8]^2 (image right = +x, image up = +y), dark floor, brown walls and
a green disc of radius 0.2 (the reference's visual site, not the 0.1 collision geom).
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from wmbench_envs.base import GoalEnv
from wmbench_envs.geometry import py_max, py_min, replay_batch, sweep_box, sweep_box_batch

#: D4RL U_MAZE: line index r is the x cell index, column index c the y cell index.
U_MAZE = ("#####", "#GOO#", "###O#", "#OOO#", "#####")
CELL_OFFSET = 0.7  #: cell (r, c) covers [r - 0.7, r + 0.3] x [c - 0.7, c + 0.3]

MASS = 4.18879
DT = 0.01
SUBSTEPS = 5
GEAR = 100.0
DAMPING = 1.0
VEL_CLIP = 5.0
SITE_RADIUS = 0.2

#: Free set of the ball centre (walls inflated by the ball radius 0.1): the OUTER box minus the open block
#: (BLOCK_X0, BLOCK_X1) x (-inf, BLOCK_Y1).
OUTER_LO, OUTER_HI = 0.4, 3.2
BLOCK_X0, BLOCK_X1, BLOCK_Y1 = 1.2, 2.4, 2.4
#: Tolerance of ``set_state`` (float32 round trips of states on a face, e.g. x = 1.2).
STATE_TOL = 1e-5
#: Observation bound on |velocity|: steps never exceed 5 + 5 * h * 100 / (m + h) ~ 6.2.
VEL_BOUND = 10.0

SUCCESS_RADIUS = 0.5
SAMPLE_LO, SAMPLE_HI = 0.5, 3.1
SAMPLE_VEL = 5.226

VIEW_LO, VIEW_HI = -0.2, 3.8
FLOOR_COLOR = np.array([26, 51, 77], dtype=np.float64)  # dark blue-grey, (.1, .2, .3)
WALL_COLOR = np.array([178, 128, 77], dtype=np.float64)  # (.7, .5, .3)
BALL_COLOR = np.array([77, 153, 77], dtype=np.float64)  # (.3, .6, .3)
SUPERSAMPLE = 4


def in_free_space(xy: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """Whether ball centres ``xy [..., 2]`` lie in the free set (up to ``tol``)."""
    xy = np.asarray(xy, dtype=np.float64)
    x, y = xy[..., 0], xy[..., 1]
    in_box = (x >= OUTER_LO - tol) & (x <= OUTER_HI + tol) & (y >= OUTER_LO - tol) & (y <= OUTER_HI + tol)
    in_block = (x > BLOCK_X0 + tol) & (x < BLOCK_X1 - tol) & (y < BLOCK_Y1 - tol)
    return in_box & ~in_block


def is_wall_cell(r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Whether maze cells (r, c) are walls; cells outside the layout count as walls."""
    grid = np.array([[ch == "#" for ch in row] for row in U_MAZE])
    inside = (r >= 0) & (r < grid.shape[0]) & (c >= 0) & (c < grid.shape[1])
    return ~inside | grid[np.clip(r, 0, grid.shape[0] - 1), np.clip(c, 0, grid.shape[1] - 1)]


def success(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Reference success over the last axis: xy distance < 0.5."""
    diff = np.asarray(goal, dtype=np.float64)[..., :2] - np.asarray(state, dtype=np.float64)[..., :2]
    return np.linalg.norm(diff, axis=-1) < SUCCESS_RADIUS


def state_distance(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """L2 distance over the full 4-D state (last axis), as DINO-WM's ``state_dist``."""
    return np.linalg.norm(np.asarray(goal, dtype=np.float64) - np.asarray(state, dtype=np.float64), axis=-1)


def physics_step(state: tuple[float, float, float, float], ax: float, ay: float) -> tuple[float, ...]:
    """One env step from ``(x, y, vx, vy)`` under an already-clipped action (pure Python floats)."""
    x, y, vx, vy = state
    if BLOCK_X0 < x < BLOCK_X1 and y < BLOCK_Y1:  # only within STATE_TOL (float32 round-off): nearest face
        gaps = (x - BLOCK_X0, BLOCK_X1 - x, BLOCK_Y1 - y)
        x, y = ((BLOCK_X0, y), (BLOCK_X1, y), (x, BLOCK_Y1))[gaps.index(min(gaps))]
    x, y = min(max(x, OUTER_LO), OUTER_HI), min(max(y, OUTER_LO), OUTER_HI)
    vx, vy = min(max(vx, -VEL_CLIP), VEL_CLIP), min(max(vy, -VEL_CLIP), VEL_CLIP)
    fx, fy, denom = DT * GEAR * ax, DT * GEAR * ay, MASS + DT * DAMPING
    for _ in range(SUBSTEPS):
        vx, vy = (MASS * vx + fx) / denom, (MASS * vy + fy) / denom
        nx, ny = x + DT * vx, y + DT * vy
        hit = sweep_box(x, y, nx - x, ny - y, BLOCK_X0, BLOCK_X1, -math.inf, BLOCK_Y1)
        if hit is not None and hit[1] == 0:  # side face: stop in x, slide in y
            nx, vx = (BLOCK_X0 if vx > 0 else BLOCK_X1), 0.0
        elif hit is not None:  # top face: stop in y, slide in x
            ny, vy = BLOCK_Y1, 0.0
        if nx < OUTER_LO:
            nx, vx = OUTER_LO, max(vx, 0.0)
        elif nx > OUTER_HI:
            nx, vx = OUTER_HI, min(vx, 0.0)
        if ny < OUTER_LO:
            ny, vy = OUTER_LO, max(vy, 0.0)
        elif ny > OUTER_HI:
            ny, vy = OUTER_HI, min(vy, 0.0)
        x, y = nx, ny
    return x, y, vx, vy


def physics_step_batch(states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """`physics_step` for ``N`` states ``[N, 4]`` under already-clipped actions ``[N, 2]`` at once.

    Bit-identical to the scalar step state by state: the same IEEE operations in the same order (numpy does
    not fuse multiply-adds), with Python's ``min``/``max`` tie rules for signed zeros.
    """
    x, y, vx, vy = (np.array(states[:, k], dtype=np.float64) for k in range(4))
    ax, ay = (np.asarray(actions[:, k], dtype=np.float64) for k in range(2))
    inside = (x > BLOCK_X0) & (x < BLOCK_X1) & (y < BLOCK_Y1)  # within STATE_TOL only: snap to nearest face
    face = np.argmin(np.stack([x - BLOCK_X0, BLOCK_X1 - x, BLOCK_Y1 - y]), axis=0)
    x = np.where(inside & (face == 0), BLOCK_X0, np.where(inside & (face == 1), BLOCK_X1, x))
    y = np.where(inside & (face == 2), BLOCK_Y1, y)
    x, y = py_min(py_max(x, OUTER_LO), OUTER_HI), py_min(py_max(y, OUTER_LO), OUTER_HI)
    vx, vy = py_min(py_max(vx, -VEL_CLIP), VEL_CLIP), py_min(py_max(vy, -VEL_CLIP), VEL_CLIP)
    fx, fy, denom = DT * GEAR * ax, DT * GEAR * ay, MASS + DT * DAMPING
    for _ in range(SUBSTEPS):
        vx, vy = (MASS * vx + fx) / denom, (MASS * vy + fy) / denom
        nx, ny = x + DT * vx, y + DT * vy
        hit, axis = sweep_box_batch(x, y, nx - x, ny - y, BLOCK_X0, BLOCK_X1, -math.inf, BLOCK_Y1)
        side, top = hit & (axis == 0), hit & (axis != 0)
        nx, vx = np.where(side, np.where(vx > 0, BLOCK_X0, BLOCK_X1), nx), np.where(side, 0.0, vx)
        ny, vy = np.where(top, BLOCK_Y1, ny), np.where(top, 0.0, vy)
        low_x, high_x = nx < OUTER_LO, nx > OUTER_HI
        low_y, high_y = ny < OUTER_LO, ny > OUTER_HI
        vx = np.where(low_x, py_max(vx, 0.0), np.where(high_x, py_min(vx, 0.0), vx))
        vy = np.where(low_y, py_max(vy, 0.0), np.where(high_y, py_min(vy, 0.0), vy))
        x = np.where(low_x, OUTER_LO, np.where(high_x, OUTER_HI, nx))
        y = np.where(low_y, OUTER_LO, np.where(high_y, OUTER_HI, ny))
    return np.stack([x, y, vx, vy], axis=1)


_BACKGROUNDS: dict[int, np.ndarray] = {}


def _pixel_centres(size: int, supersample: int = 1) -> np.ndarray:
    """World coordinate of each pixel centre along one image axis (increasing)."""
    n = size * supersample
    return VIEW_LO + (np.arange(n) + 0.5) * (VIEW_HI - VIEW_LO) / n


def _background(size: int) -> np.ndarray:
    """Floor and walls as float (size, size, 3), anti-aliased by supersampling (cached per size)."""
    if size not in _BACKGROUNDS:
        u = _pixel_centres(size, SUPERSAMPLE)
        cells = np.floor(u + CELL_OFFSET).astype(np.int64)
        # rows of the image run from +y (top) to -y; columns along +x
        wall = is_wall_cell(cells[None, :], cells[::-1, None]).astype(np.float64)
        cover = wall.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(1, 3))[..., None]
        _BACKGROUNDS[size] = cover * WALL_COLOR + (1.0 - cover) * FLOOR_COLOR
    return _BACKGROUNDS[size]


def draw_state(state: np.ndarray, size: int) -> np.ndarray:
    """Rasterise a PointMaze state to uint8 (size, size, 3): top-down, right = +x, up = +y."""
    state = np.asarray(state, dtype=np.float64)
    if state.shape != (4,):
        raise ValueError(f"state must have shape (4,), got {state.shape}")
    size = int(size)
    img = _background(size).copy()
    scale = size / (VIEW_HI - VIEW_LO)  # pixels per unit
    col, row = (state[0] - VIEW_LO) * scale, (VIEW_HI - state[1]) * scale  # continuous pixel coordinates
    radius = SITE_RADIUS * scale
    c0, c1 = max(int(col - radius - 1), 0), min(int(col + radius + 2), size)
    r0, r1 = max(int(row - radius - 1), 0), min(int(row + radius + 2), size)
    if c0 < c1 and r0 < r1:
        dist = np.hypot(np.arange(c0, c1)[None, :] + 0.5 - col, np.arange(r0, r1)[:, None] + 0.5 - row)
        alpha = np.clip(radius - dist + 0.5, 0.0, 1.0)[..., None]
        img[r0:r1, c0:c1] = alpha * BALL_COLOR + (1.0 - alpha) * img[r0:r1, c0:c1]
    return np.rint(img).astype(np.uint8)


def sample_point(rng: np.random.Generator) -> np.ndarray:
    """Reference state sampler (section 2.4): rejection-sampled position, then uniform velocity."""
    while True:
        x, y = rng.uniform(SAMPLE_LO, SAMPLE_HI, size=2)
        if ((0.5 <= x <= 1.1 or 2.5 <= x <= 3.1) and 0.5 <= y <= 3.1) or (1.1 < x < 2.5 and 2.5 <= y <= 3.1):
            break
    vx, vy = rng.uniform(-SAMPLE_VEL, SAMPLE_VEL, size=2)
    return np.array([x, y, vx, vy], dtype=np.float64)


class PointMazeEnv(GoalEnv):
    """Steer a point mass through a U-shaped maze to a goal position (D4RL maze2d-umaze, as in DINO-WM).

    ## Description
    A ball (radius 0.1, mass 4.19) slides on the floor of a U-maze of unit cells, driven by a force on each
    axis with linear damping. Contacts with the walls are exact, frictionless and inelastic: the ball stops on
    the face it hits and slides along it; it can never enter a wall. The dynamics are an analytic
    re-implementation of the reference's MuJoCo model (module docstring of `wmbench_envs.pointmaze`).

    ## Action Space
    `Box(-1, 1, (2,), float32)`: the force on the ball (gear 100). One step clips the velocity to [-5, 5],
    then runs 5 substeps of 0.01 s of the implicit-damping Euler update. Actions are clipped to the box.

    | Num | Action          | Min | Max |
    |-----|-----------------|-----|-----|
    | 0   | force along +x  | -1  | 1   |
    | 1   | force along +y  | -1  | 1   |

    ## Observation Space
    `obs_type="state"`: `Box(float32, (4,))`, the full simulator state in the maze's qpos frame
    (`get_state()` returns it in float64, and `set_state(get_state())` is exact):

    | Num | Observation | Min  | Max |
    |-----|-------------|------|-----|
    | 0   | x           | 0.4  | 3.2 |
    | 1   | y           | 0.4  | 3.2 |
    | 2   | x velocity  | -10  | 10  |
    | 3   | y velocity  | -10  | 10  |

    Positions inside the wall block (1.2, 2.4) x (-inf, 2.4) are not reachable and `set_state` rejects them.
    `obs_type="pixels"`: `Box(0, 255, (image_size, image_size, 3), uint8)`, a top-down view (right = +x,
    up = +y) drawn by the pure `draw(state, size)`; `obs_type="both"`: a `Dict` with keys `"state"` and
    `"pixels"`.

    ## Rewards
    `-state_distance(state, goal)`: minus the L2 distance over the 4-D state. The benchmark judges success,
    not return.

    ## Starting State
    `reset(seed=...)` draws start and goal independently: a position uniform in [0.5, 3.1]^2 restricted to
    the maze's free corridors (rejection sampling) and a velocity uniform in [-5.226, 5.226]^2 (the goal's
    velocity does not enter the success test). `reset(options={"state": s, "goal": g})` sets either exactly
    (the evaluation task suites do this).

    ## Episode End
    Terminated on success: the ball's xy within 0.5 of the goal's. Truncated after 300 steps when made with
    `gymnasium.make` (TimeLimit); evaluation tasks carry their own step caps. `info` holds `state`,
    `goal_state` and `is_success`.

    ## Arguments
    ```python
    gymnasium.make("wmbench/PointMaze-v0", obs_type="state", render_mode=None, image_size=64)
    ```
    `obs_type`: `"state"`, `"pixels"` or `"both"`; `render_mode`: `None` or `"rgb_array"` (`render()`
    returns the current state drawn at `image_size`); `image_size`: side of the pixel observations (>= 8).

    ## Version History
    - v0: initial version, an analytic re-implementation of maze2d-umaze with rigid contacts.
    """

    state_low = np.array([OUTER_LO, OUTER_LO, -VEL_BOUND, -VEL_BOUND])
    state_high = np.array([OUTER_HI, OUTER_HI, VEL_BOUND, VEL_BOUND])
    goal_dims = (0, 1)
    vectorized_replay = True

    def __init__(self, obs_type: str = "state", render_mode: str | None = None, image_size: int = 64):
        super().__init__(obs_type=obs_type, render_mode=render_mode, image_size=image_size)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self._state = (0.8, 0.8, 0.0, 0.0)

    def _set_physics_state(self, state: np.ndarray) -> None:
        if not in_free_space(state[:2], STATE_TOL):
            raise ValueError(f"PointMaze state position {state[:2]} is inside a wall; the ball centre must "
                             f"lie in [{OUTER_LO}, {OUTER_HI}]^2 outside the block "
                             f"({BLOCK_X0}, {BLOCK_X1}) x (-inf, {BLOCK_Y1})")
        if np.any(np.abs(state[2:]) > VEL_BOUND):
            raise ValueError(f"PointMaze state velocity {state[2:]} exceeds the bound {VEL_BOUND}")
        self._state = tuple(float(v) for v in state)

    def _get_physics_state(self) -> np.ndarray:
        return np.array(self._state, dtype=np.float64)

    def _physics_step(self, action: np.ndarray) -> None:
        self._state = physics_step(self._state, float(action[0]), float(action[1]))

    def replay(self, starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """`GoalEnv.replay` with all rollouts stepped at once by `physics_step_batch`: the same
        states bit for bit. Invalid inputs take the reference loop, which raises its errors."""
        starts, actions = np.asarray(starts, dtype=np.float64), np.asarray(actions, dtype=np.float64)
        if not (self._replay_inputs_ok(starts, actions) and in_free_space(starts[:, :2], STATE_TOL).all()
                and (np.abs(starts[:, 2:]) <= VEL_BOUND).all()):
            return super().replay(starts, actions)
        return replay_batch(physics_step_batch, starts,
                            np.clip(actions, self.action_space.low, self.action_space.high))

    def sample_start_goal(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Reference recipe (section 2.4) with a Generator: start, then goal, each via ``sample_point``."""
        start = sample_point(rng)
        return start, sample_point(rng)

    def draw(self, state: np.ndarray, size: int = 64) -> np.ndarray:
        return draw_state(state, size)

    success = staticmethod(success)
    state_distance = staticmethod(state_distance)
