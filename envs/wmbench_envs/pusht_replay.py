"""PushT's fast batched replay: the same states as stepping the env, bit for bit, several times faster.

The kinematic agent's motion does not depend on the block, so `agent_substeps` computes it for all rollouts at
once. The block moves only through contacts, and none can occur while the agent stays `CONTACT_MARGIN` clear
of the block and the block clear of the walls. So a rollout without such a near approach (`path_clear`) keeps
the block's pose (as pymunk returns it after ``set_state``). Each other one runs in a fresh Chipmunk space
built as the env builds it, fed the precomputed agent velocities through pymunk's C calls, until its block has
come to rest for good (`_settled`, tested at each env step's end with the agent's bounding box from there on).

Why a block found at rest stays there, bit for bit: with space damping 0, Chipmunk's velocity update is
``v <- v * 0 + 0``, so after a substep the block's velocity is that substep's contact impulses alone (bias
velocities too come only from contacts), and the next substep moves it by exactly that (``p + 0 * dt == p``).
The pose read after substep k is the one Chipmunk tested for contacts in substep k. If the agent's positions
from substep k on all stay clear of the T at that pose and the T lies inside the walls, both with the margin,
then substep k has no contact, the block does not move in substep k + 1, which again has no contact, and so
on: its later poses are that pose.
"""

from __future__ import annotations

import math

import numpy as np
import pymunk
from pymunk._chipmunk_cffi import lib as chipmunk

from wmbench_envs.pusht import (
    ACTION_SCALE,
    AGENT_RADIUS,
    BAR,
    BLOCK_COG,
    DT,
    K_P,
    K_V,
    STEM,
    SUBSTEPS,
    T_OUTLINE,
    WALL_RADIUS,
    WALLS,
    make_block,
    place_block,
)

#: Inner edges of the walls (segments at 5 and 506 of radius 2): a block inside them touches no wall.
ARENA_LO, ARENA_HI = 5.0 + WALL_RADIUS, 506.0 - WALL_RADIUS
#: Clearance (world units) under which `replay` steps a rollout in pymunk: far above round-off, so
#: a rollout replayed without pymunk can have had no contact.
CONTACT_MARGIN = 1.0
#: The bar and the stem as local axis-aligned boxes (x0, x1, y0, y1).
T_BOXES = ((-60.0, 60.0, 0.0, 30.0), (-15.0, 15.0, 30.0, 120.0))
#: The smallest disc holding the T (through the bar's outer corners and the stem's far corners), local frame.
T_CENTRE_Y = 11025.0 / 240.0
T_DISC = float(np.hypot(60.0, T_CENTRE_Y))
_CORNERS = T_OUTLINE.tolist()


def replay(starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """States ``[N, H + 1, 7]`` at the action-block boundaries from valid ``starts [N, 7]`` under clipped
    action blocks ``[N, H, K, 2]`` (see the module docstring; ``PushTEnv.replay`` checks the inputs)."""
    n, horizon, frameskip = actions.shape[:3]
    pos, vel = agent_substeps(starts[:, [0, 1, 5, 6]], actions.reshape(n, horizon * frameskip, 2))
    ends = np.arange(1, horizon + 1) * frameskip * SUBSTEPS - 1
    out = np.empty((n, horizon + 1, starts.shape[1]))
    out[:, 0] = starts
    out[:, 0, 4] %= 2 * np.pi
    out[:, 1:, 0:2], out[:, 1:, 5:7] = pos[:, ends], vel[:, ends]
    path = np.concatenate([starts[:, None, :2], pos], axis=1)
    contact = ~block_inside_walls(starts[:, 2:5])
    contact[~contact] = ~path_clear(path[~contact], starts[~contact, 2:5])
    rest: dict[bytes, np.ndarray] = {}
    for i in np.flatnonzero(~contact):
        key = starts[i].tobytes()
        if key not in rest:
            rest[key] = resting_block_pose(starts[i])
        out[i, 1:, 2:5] = rest[key]
    rows = np.flatnonzero(contact)
    out[rows, 1:, 2:5] = block_poses(starts[rows], pos[rows], vel[rows])[:, frameskip - 1::frameskip]
    return out


def agent_substeps(agent: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities ``[N, T * SUBSTEPS, 2]`` of the agent after every substep, from agent states
    ``[N, 4]`` (x, y, vx, vy) under already-clipped actions ``[N, T, 2]``.

    The agent is kinematic (contacts never change its motion), so its PD law runs here for all N at once
    with the operations of ``PushTEnv._physics_step`` and pymunk's kinematic update ``p + v dt``, in the same
    order, x and y alike: bit-identical to the env.
    """
    p, v = np.array(agent[:, 0:2], dtype=np.float64), np.array(agent[:, 2:4], dtype=np.float64)
    n, steps = actions.shape[:2]
    pos, vel = np.empty((n, steps * SUBSTEPS, 2)), np.empty((n, steps * SUBSTEPS, 2))
    for t in range(steps):
        target = p + ACTION_SCALE * actions[:, t]
        for k in range(t * SUBSTEPS, (t + 1) * SUBSTEPS):
            v = v + (K_P * (target - p) - K_V * v) * DT
            p = p + v * DT
            pos[:, k], vel[:, k] = p, v
    return pos, vel


def resting_block_pose(state: np.ndarray) -> np.ndarray:
    """The block's ``[x, y, angle mod 2pi]`` as ``get_state`` reads it after steps without contact from
    ``state``: pymunk's position getter after ``set_state`` (not bit-exact to ``state[2:4]``)."""
    block = make_block()
    place_block(block, float(state[2]), float(state[3]), float(state[4]))
    bx, by = block.position
    return np.array([bx, by, block.angle % (2 * np.pi)])


def block_clearance(points: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Distances ``[N, M]`` from points ``[N, M, 2]`` to the T of block poses ``[N, 3]`` (x, y, angle)."""
    c, s = np.cos(block[:, 2:3]), np.sin(block[:, 2:3])
    dx, dy = points[..., 0] - block[:, 0:1], points[..., 1] - block[:, 1:2]
    lx, ly = c * dx + s * dy, c * dy - s * dx  # the points in the block's local frame
    bar, stem = (np.hypot(np.maximum(np.maximum(x0 - lx, lx - x1), 0.0),
                          np.maximum(np.maximum(y0 - ly, ly - y1), 0.0)) for x0, x1, y0, y1 in T_BOXES)
    return np.minimum(bar, stem)


def path_clear(points: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Whether all points ``[N, M, 2]`` lie more than ``AGENT_RADIUS + CONTACT_MARGIN`` from the T of block
    poses ``[N, 3]``: `block_clearance` only for the points within that reach of the disc holding the T."""
    reach = AGENT_RADIUS + CONTACT_MARGIN
    c, s = np.cos(block[:, 2]), np.sin(block[:, 2])
    centre = block[:, :2] + np.stack([-s, c], axis=1) * T_CENTRE_Y
    gap = points - centre[:, None]
    row, col = np.nonzero(gap[..., 0] ** 2 + gap[..., 1] ** 2 <= (T_DISC + reach) ** 2)
    clear = np.ones(len(points), dtype=bool)
    clear[row[block_clearance(points[row, col][:, None], block[row])[:, 0] <= reach]] = False
    return clear


def block_inside_walls(block: np.ndarray, margin: float = CONTACT_MARGIN) -> np.ndarray:
    """Whether the T of each block pose ``[N, 3]`` lies inside the walls with ``margin`` to spare."""
    c, s = np.cos(block[:, 2:3]), np.sin(block[:, 2:3])
    x = block[:, 0:1] + c * T_OUTLINE[:, 0] - s * T_OUTLINE[:, 1]
    y = block[:, 1:2] + s * T_OUTLINE[:, 0] + c * T_OUTLINE[:, 1]
    lo, hi = ARENA_LO + margin, ARENA_HI - margin
    return ((x > lo) & (x < hi) & (y > lo) & (y < hi)).all(axis=1)


def _settled(pose: tuple[float, float, float], low: list[float], high: list[float]) -> bool:
    """Whether a block at ``pose`` after a substep stays there for good (see the module docstring) while the
    agent stays in the box ``[low, high]``: the disc holding the T is `CONTACT_MARGIN` clear of the agent in
    that box and the T inside the walls."""
    x, y, angle = pose
    cx, cy = x - math.sin(angle) * T_CENTRE_Y, y + math.cos(angle) * T_CENTRE_Y
    gap = math.hypot(max(low[0] - cx, cx - high[0], 0.0), max(low[1] - cy, cy - high[1], 0.0))
    if gap <= T_DISC + AGENT_RADIUS + CONTACT_MARGIN:
        return False
    lo, hi = ARENA_LO + CONTACT_MARGIN, ARENA_HI - CONTACT_MARGIN
    if lo + T_DISC < cx < hi - T_DISC and lo + T_DISC < cy < hi - T_DISC:
        return True
    c, s = math.cos(angle), math.sin(angle)  # else the T's corners, as block_inside_walls
    return all(lo < x + c * u - s * v < hi and lo < y + s * u + c * v < hi for u, v in _CORNERS)


class _RawSpace:
    """A fresh PushT space at ``state`` made of bare Chipmunk objects (``space``, ``agent``, ``block``),
    freed by `close`.

    It makes the C calls that ``PushTEnv._build_space`` and ``_set_physics_state`` make through pymunk, in
    the same order, so it steps bit for bit as the env does (``tests/test_simulator.py`` checks it against
    ``GoalEnv.replay``), minus pymunk's Python objects around each (~100 us per space).
    """

    moment = 2 * pymunk.moment_for_poly(1.0, BAR)  # as make_block
    identity = tuple(pymunk.Transform.identity())

    def __init__(self, state: np.ndarray):
        ax, ay, bx, by, angle, vx, vy = (float(v) for v in state)
        self.space = chipmunk.cpSpaceNew()
        chipmunk.cpSpaceSetGravity(self.space, (0.0, 0.0))
        chipmunk.cpSpaceSetDamping(self.space, 0.0)
        static = chipmunk.cpBodyNewStatic()  # Space.static_body
        chipmunk.cpSpaceAddBody(self.space, static)
        walls = [chipmunk.cpSegmentShapeNew(static, a, b, WALL_RADIUS) for a, b in WALLS]
        for wall in walls:
            chipmunk.cpSpaceAddShape(self.space, wall)
        self.agent = chipmunk.cpBodyNewKinematic()
        circle = chipmunk.cpCircleShapeNew(self.agent, AGENT_RADIUS, (0.0, 0.0))
        chipmunk.cpSpaceAddBody(self.space, self.agent)
        chipmunk.cpSpaceAddShape(self.space, circle)
        self.block = chipmunk.cpBodyNew(1.0, self.moment)
        chipmunk.cpBodySetCenterOfGravity(self.block, BLOCK_COG)
        parts = [chipmunk.cpPolyShapeNew(self.block, len(p), p, self.identity, 0.0) for p in (BAR, STEM)]
        chipmunk.cpSpaceAddBody(self.space, self.block)
        for part in parts:
            chipmunk.cpSpaceAddShape(self.space, part)
        self.shapes, self.bodies = [*walls, circle, *parts], [static, self.agent, self.block]
        chipmunk.cpBodySetPosition(self.agent, (ax, ay))  # _set_physics_state, then place_block
        chipmunk.cpBodySetVelocity(self.agent, (vx, vy))
        chipmunk.cpBodySetAngle(self.block, angle)
        chipmunk.cpBodySetPosition(self.block, (bx, by))
        chipmunk.cpBodySetVelocity(self.block, (0.0, 0.0))
        chipmunk.cpBodySetAngularVelocity(self.block, 0.0)

    def run(self, velocities: list) -> tuple[float, float, float]:
        """Steps the space once per agent velocity; returns the block's pose (x, y, raw angle) after them."""
        agent, space = self.agent, self.space
        set_velocity, step = chipmunk.cpBodySetVelocity, chipmunk.cpSpaceStep
        for velocity in velocities:
            set_velocity(agent, velocity)
            step(space, DT)
        position = chipmunk.cpBodyGetPosition(self.block)
        return position.x, position.y, chipmunk.cpBodyGetAngle(self.block)

    def close(self) -> None:
        chipmunk.cpSpaceFree(self.space)
        for shape in self.shapes:
            chipmunk.cpShapeFree(shape)
        for body in self.bodies:
            chipmunk.cpBodyFree(body)


def block_poses(starts: np.ndarray, pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """Block poses ``[N, T, 3]`` (x, y, angle mod 2pi) after each of the T env steps of rollouts from ``starts
    [N, 7]`` whose agent moves as ``pos``/``vel [N, T * SUBSTEPS, 2]``, each in a `_RawSpace` stepped until
    its block has `_settled`."""
    n, steps = len(starts), pos.shape[1] // SUBSTEPS
    low, high = (_rest_bounds(pos, reduce).tolist() for reduce in (np.minimum, np.maximum))
    poses = np.empty((n, steps, 3))
    for i in range(n):
        poses[i] = _rollout_poses(starts[i], vel[i].reshape(steps, SUBSTEPS, 2).tolist(), low[i], high[i])
    poses[..., 2] %= 2 * np.pi
    return poses


def _rollout_poses(start: np.ndarray, velocities: list, low: list, high: list) -> list[tuple]:
    """Block poses (x, y, raw angle) after each env step of one rollout in a `_RawSpace`, the agent driven by
    ``velocities [T][SUBSTEPS][2]`` and inside the boxes ``low``/``high`` from each env step's end on."""
    poses: list[tuple[float, float, float]] = []
    space = _RawSpace(start)
    try:
        for t, step_velocities in enumerate(velocities[:-1]):
            poses.append(space.run(step_velocities))
            if _settled(poses[-1], low[t], high[t]):
                return poses + poses[-1:] * (len(velocities) - t - 1)
        return poses + [space.run(velocities[-1])]
    finally:
        space.close()


def _rest_bounds(pos: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """``reduce`` (np.minimum or np.maximum) of the agent's positions ``[N, T * SUBSTEPS, 2]`` from the end
    of each env step but the last on: ``[N, T - 1, 2]``."""
    n, total = pos.shape[:2]
    per_step = reduce.reduce(pos.reshape(n, total // SUBSTEPS, SUBSTEPS, 2), axis=2)
    later = reduce.accumulate(per_step[:, :0:-1], axis=1)[:, ::-1]  # env steps t + 1 on
    return reduce(pos[:, SUBSTEPS - 1:-1:SUBSTEPS], later)
