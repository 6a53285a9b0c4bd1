"""PushT: push a T-shaped block to a goal pose with a kinematic disc (DINO-WM physics, pymunk 7).

Physics follow the DINO-WM reference (``env/pusht/pusht_env.py``), quirks included
because they define the dynamics: 512-unit workspace with y down, no gravity, ``space.damping = 0`` (the
block is quasi-static: it moves only while pushed), frictionless inelastic contacts, the T's
non-area-weighted centre of gravity (0, 45) with ``body.position`` = local origin (midpoint of the bar's outer
edge), moment 3000, and a kinematic agent (radius 15) that ignores the walls. One env step = 10 substeps of
0.01 s of the PD law ``v += (100 (target - p) - 20 v) dt`` with ``target = p + 100 * action``.

State (float64): ``[agent_x, agent_y, block_x, block_y, block_angle mod 2pi, agent_vx, agent_vy]``.
Success: ``||goal[:4] - state[:4]|| < 20`` (agent and block xy jointly) and wrapped angle error ``< pi/9``.
``info["coverage"]`` (and `PushTEnv.coverage`): the area of the block inside the goal block's footprint
over the block area, gym-pusht's success measure (it counts success at coverage > 0.95); recorded beside the
position/angle success, which stays the success test.

Deliberate changes from the reference:
- actions are clipped to ``Box(-1, 1)`` (by ``GoalEnv.step``); the reference did not clip;
- ``set_state`` is exact: no extra substep, angle set before position, block linear and angular velocity
  zeroed, agent velocity from ``state[5:7]``; the pymunk space is rebuilt so that no cached contact impulses
  or broad-phase history leak across resets (same state -> same trajectory, whatever came before). The state
  passed in is returned verbatim by ``get_state`` until the next step (pymunk's position getter is not
  bit-exact after a set);
- start/goal angles use ``np.random.Generator`` (``standard_normal() * 2pi - pi``) instead of ``RandomState``;
- the green goal-pose anchor is not drawn, the block is flat-coloured, the agent is drawn over the block.
"""

from __future__ import annotations

import numpy as np
import pymunk
import shapely
from gymnasium import spaces
from PIL import Image, ImageDraw

from wmbench_envs.base import GoalEnv

WORLD = 512.0
DT = 0.01
SUBSTEPS = 10
K_P, K_V = 100.0, 20.0
ACTION_SCALE = 100.0
AGENT_RADIUS = 15.0
WALLS = (((5, 506), (5, 5)), ((5, 5), (506, 5)), ((506, 5), (506, 506)), ((5, 506), (506, 506)))
WALL_RADIUS = 2.0
#: The two convex parts of the T in the block's local frame (scale 30): bar and stem.
BAR = ((-60.0, 30.0), (60.0, 30.0), (60.0, 0.0), (-60.0, 0.0))
STEM = ((-15.0, 30.0), (-15.0, 120.0), (15.0, 120.0), (15.0, 30.0))
#: Local centre of gravity: mean of the two shape centroids, as in the reference (not area-weighted).
BLOCK_COG = (0.0, 45.0)
#: Outline of the T (counter-clockwise in the y-down frame), local coordinates.
T_OUTLINE = np.array([(-60, 0), (60, 0), (60, 30), (15, 30), (15, 120), (-15, 120), (-15, 30), (-60, 30)],
                     dtype=np.float64)

POS_TOL = 20.0
ANGLE_TOL = np.pi / 9

BLOCK_COLOR = (119, 136, 153)  # LightSlateGray
AGENT_COLOR = (65, 105, 225)  # RoyalBlue
WALL_COLOR = (211, 211, 211)  # LightGray
SUPERSAMPLE = 4


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Absolute angle difference folded into [0, pi]."""
    ang = np.abs(np.asarray(angle, dtype=np.float64)) % (2 * np.pi)
    return np.minimum(ang, 2 * np.pi - ang)


def success(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """DINO-WM success over the last axis: joint agent+block xy error < 20 and angle error < pi/9."""
    state, goal = np.asarray(state, dtype=np.float64), np.asarray(goal, dtype=np.float64)
    pos_err = np.linalg.norm(goal[..., :4] - state[..., :4], axis=-1)
    return (pos_err < POS_TOL) & (wrap_angle(goal[..., 4] - state[..., 4]) < ANGLE_TOL)


def state_distance(state: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Plain L2 distance over the full 7-D state (last axis), as DINO-WM's ``state_dist``."""
    return np.linalg.norm(np.asarray(goal, dtype=np.float64) - np.asarray(state, dtype=np.float64), axis=-1)


def block_outline(state: np.ndarray) -> np.ndarray:
    """World-frame vertices [8, 2] of the T outline for one state."""
    c, s = np.cos(state[4]), np.sin(state[4])
    return T_OUTLINE @ np.array([[c, -s], [s, c]]).T + state[2:4]


def coverage(state: np.ndarray, goal: np.ndarray) -> float:
    """Fraction of the goal T's area covered by the T of ``state`` (shapely polygon intersection; at most 1,
    which the ratio of two areas can pass by a rounding error when the Ts coincide)."""
    target = shapely.Polygon(block_outline(np.asarray(goal, dtype=np.float64)))
    block = shapely.Polygon(block_outline(np.asarray(state, dtype=np.float64)))
    return min(1.0, float(shapely.intersection(block, target).area / target.area))


def block_polygons(state: np.ndarray) -> list[np.ndarray]:
    """World-frame vertices [4, 2] of the bar and stem of the T for one state."""
    c, s = np.cos(state[4]), np.sin(state[4])
    rot = np.array([[c, -s], [s, c]])
    return [np.asarray(part) @ rot.T + state[2:4] for part in (BAR, STEM)]


def make_block() -> pymunk.Body:
    """The T's body (shapes not attached): mass 1 and the reference's moment and centre of gravity."""
    # Reference quirk: moment = 2 x the bar's moment about the local origin (= 3000).
    block = pymunk.Body(1.0, 2 * pymunk.moment_for_poly(1.0, BAR))
    block.center_of_gravity = BLOCK_COG
    return block


def place_block(block: pymunk.Body, x: float, y: float, angle: float) -> None:
    """Put the block at rest at pose (x, y, angle)."""
    block.angle = angle  # angle first: pymunk rotates about the CoG
    block.position = (x, y)
    block.velocity = (0.0, 0.0)
    block.angular_velocity = 0.0


_BACKGROUNDS: dict[int, Image.Image] = {}


def _background(size: int) -> Image.Image:
    """White canvas with the walls at the supersampled resolution (cached per size)."""
    if size not in _BACKGROUNDS:
        big = size * SUPERSAMPLE
        scale = big / WORLD
        img = Image.new("RGB", (big, big), (255, 255, 255))
        draw = ImageDraw.Draw(img)
        for a, b in WALLS:
            x0, x1 = sorted((a[0], b[0]))
            y0, y1 = sorted((a[1], b[1]))
            draw.rectangle(((x0 - WALL_RADIUS) * scale, (y0 - WALL_RADIUS) * scale,
                            (x1 + WALL_RADIUS) * scale, (y1 + WALL_RADIUS) * scale), fill=WALL_COLOR)
        _BACKGROUNDS[size] = img
    return _BACKGROUNDS[size]


def draw_state(state: np.ndarray, size: int) -> np.ndarray:
    """Rasterise a PushT state to uint8 (size, size, 3): Pillow polygons at 4x, box-downsampled."""
    state = np.asarray(state, dtype=np.float64)
    if state.shape != (7,):
        raise ValueError(f"state must have shape (7,), got {state.shape}")
    size = int(size)
    img = _background(size).copy()
    draw = ImageDraw.Draw(img)
    scale = size * SUPERSAMPLE / WORLD
    for poly in block_polygons(state):
        draw.polygon([tuple(p) for p in (poly * scale - 0.5)], fill=BLOCK_COLOR)
    cx, cy = state[:2] * scale - 0.5
    r = AGENT_RADIUS * scale
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=AGENT_COLOR)
    return np.asarray(img.reduce(SUPERSAMPLE))


class PushTEnv(GoalEnv):
    """Push a T-shaped block into a goal pose with a round pusher (DINO-WM's PushT, pymunk physics).

    ## Description
    A kinematic disc (the agent, radius 15) pushes a T-shaped block on a 512 x 512 table seen from above
    (y points down). The block moves only while pushed: no gravity, no damping, frictionless inelastic
    contacts. A task is a start state and a goal state; the goal fixes where the agent, the block and the
    block's angle should end up. Physics, quirks kept from the reference and deliberate changes are listed
    in the module docstring of `wmbench_envs.pusht`.

    ## Action Space
    `Box(-1, 1, (2,), float32)`: a target offset for the agent. One step runs 10 substeps of 0.01 s of the PD
    law `v += (100 (target - p) - 20 v) dt` with `target = p + 100 * action`. Actions are clipped to the box.

    | Num | Action                      | Min | Max |
    |-----|-----------------------------|-----|-----|
    | 0   | target x offset / 100 units | -1  | 1   |
    | 1   | target y offset / 100 units | -1  | 1   |

    ## Observation Space
    `obs_type="state"`: `Box(float32, (7,))`, the full simulator state (`get_state()` returns it in
    float64, and `set_state(get_state())` is exact):

    | Num | Observation                                 | Min  | Max  |
    |-----|---------------------------------------------|------|------|
    | 0   | agent x                                     | -1e5 | 1e5  |
    | 1   | agent y                                     | -1e5 | 1e5  |
    | 2   | block x (midpoint of the bar's outer edge)  | -1e5 | 1e5  |
    | 3   | block y                                     | -1e5 | 1e5  |
    | 4   | block angle [rad]                           | 0    | 2 pi |
    | 5   | agent x velocity [units/s]                  | -1e4 | 1e4  |
    | 6   | agent y velocity [units/s]                  | -1e4 | 1e4  |

    The bounds are generous finite bounds; positions stay near the 512-unit table in practice.
    `obs_type="pixels"`: `Box(0, 255, (image_size, image_size, 3), uint8)`, the state drawn by the pure
    `draw(state, size)`; `obs_type="both"`: a `Dict` with keys `"state"` and `"pixels"`.

    ## Rewards
    `-state_distance(state, goal)`: minus the L2 distance over all 7 state dims. The benchmark judges
    success, not return.

    ## Starting State
    `reset(seed=...)` draws start and goal independently: agent xy uniform integers in [50, 450), block xy in
    [100, 400), block angle `(N(0, 1) * 2 pi - pi) mod 2 pi`, velocities 0. `reset(options={"state": s,
    "goal": g})` sets either exactly (the evaluation task suites do this).

    ## Episode End
    Terminated on success: agent and block xy jointly within 20 units of the goal (`||goal[:4] -
    state[:4]|| < 20`) and the block angle within pi/9. Truncated after 300 steps when made with
    `gymnasium.make` (TimeLimit); evaluation tasks carry their own step caps. `info` holds `state`,
    `goal_state`, `is_success` and `coverage` (the fraction of the goal T covered by the block,
    gym-pusht's success measure, reported beside the success test).

    ## Arguments
    ```python
    gymnasium.make("wmbench/PushT-v0", obs_type="state", render_mode=None, image_size=64)
    ```
    `obs_type`: `"state"`, `"pixels"` or `"both"`; `render_mode`: `None` or `"rgb_array"` (`render()`
    returns the current state drawn at `image_size`); `image_size`: side of the pixel observations (>= 8).

    ## Version History
    - v0: initial version, DINO-WM's PushT dynamics on pymunk 7 with clipped actions and an exact
      `set_state`.
    """

    # Generous finite bounds: the kinematic agent can leave the workspace (<= ~45 units per step with clipped
    # actions) and its speed stays far below 1e4 units/s under the PD law.
    state_low = np.array([-1e5, -1e5, -1e5, -1e5, 0.0, -1e4, -1e4])
    state_high = np.array([1e5, 1e5, 1e5, 1e5, 2 * np.pi, 1e4, 1e4])
    goal_dims = (0, 1, 2, 3, 4)
    angle_dims = (4,)

    def __init__(self, obs_type: str = "state", render_mode: str | None = None, image_size: int = 64):
        super().__init__(obs_type=obs_type, render_mode=render_mode, image_size=image_size)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self._state_cache: np.ndarray | None = None
        self._set_physics_state(np.array([256.0, 400.0, 256.0, 300.0, 0.0, 0.0, 0.0]))

    def _build_space(self) -> None:
        space = pymunk.Space()
        space.gravity = (0.0, 0.0)
        space.damping = 0.0
        space.add(*[pymunk.Segment(space.static_body, a, b, WALL_RADIUS) for a, b in WALLS])
        agent = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        space.add(agent, pymunk.Circle(agent, AGENT_RADIUS))
        block = make_block()
        space.add(block, pymunk.Poly(block, BAR), pymunk.Poly(block, STEM))
        self._space, self._agent, self._block = space, agent, block

    # ----------------------------------------------------------------- physics hooks
    def _set_physics_state(self, state: np.ndarray) -> None:
        self._build_space()
        ax, ay, bx, by, angle, vx, vy = (float(v) for v in state)
        self._agent.position = (ax, ay)
        self._agent.velocity = (vx, vy)
        place_block(self._block, bx, by, angle)
        cached = np.asarray(state, dtype=np.float64).copy()
        cached[4] %= 2 * np.pi
        self._state_cache = cached

    def _get_physics_state(self) -> np.ndarray:
        if self._state_cache is None:
            agent, block = self._agent, self._block
            ax, ay = agent.position
            bx, by = block.position
            vx, vy = agent.velocity
            self._state_cache = np.array([ax, ay, bx, by, block.angle % (2 * np.pi), vx, vy])
        return self._state_cache

    def _physics_step(self, action: np.ndarray) -> None:
        agent, step = self._agent, self._space.step
        px, py = agent.position
        vx, vy = agent.velocity
        tx, ty = px + ACTION_SCALE * float(action[0]), py + ACTION_SCALE * float(action[1])
        for _ in range(SUBSTEPS):
            vx += (K_P * (tx - px) - K_V * vx) * DT
            vy += (K_P * (ty - py) - K_V * vy) * DT
            agent.velocity = (vx, vy)
            step(DT)
            px, py = agent.position
        self._state_cache = None

    def replay(self, starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """`GoalEnv.replay` with the same states bit for bit, several times faster
        (`wmbench_envs.pusht_replay.replay`). Invalid inputs take the reference loop, which raises its
        errors. The env's state afterwards is unspecified."""
        starts, actions = np.asarray(starts, dtype=np.float64), np.asarray(actions, dtype=np.float64)
        if not self._replay_inputs_ok(starts, actions):
            return super().replay(starts, actions)
        from wmbench_envs.pusht_replay import replay  # it imports this module's geometry

        return replay(starts, np.clip(actions, self.action_space.low, self.action_space.high))

    # ----------------------------------------------------------------- task definition
    def sample_start_goal(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """DINO-WM recipe with a Generator: agent in [50,450)^2, block in [100,400)^2, Gaussian angle."""
        return _sample_state(rng), _sample_state(rng)

    def draw(self, state: np.ndarray, size: int) -> np.ndarray:
        return draw_state(state, size)

    def _info(self) -> dict:
        info = super()._info()
        info["coverage"] = coverage(info["state"], info["goal_state"])
        return info

    success = staticmethod(success)
    state_distance = staticmethod(state_distance)
    coverage = staticmethod(coverage)


def _sample_state(rng: np.random.Generator) -> np.ndarray:
    ax, ay = rng.integers(50, 450), rng.integers(50, 450)
    bx, by = rng.integers(100, 400), rng.integers(100, 400)
    angle = (rng.standard_normal() * 2 * np.pi - np.pi) % (2 * np.pi)
    return np.array([ax, ay, bx, by, angle, 0.0, 0.0], dtype=np.float64)
