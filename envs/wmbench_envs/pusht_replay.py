"""PushT's fast batched replay: the same states as stepping the env, bit for bit, several times faster.

The kinematic agent's motion does not depend on the block, so `agent_substeps` computes it for all
rollouts at once. The block moves only through contacts (no damping: its velocity is the contact impulses of
the current substep alone), and none can occur while the agent stays `CONTACT_MARGIN`
clear of the block and the block clear of the walls. So a rollout without such a near approach keeps the
block's pose (as pymunk returns it after ``set_state``); any other runs in a fresh Chipmunk space as ``step``
would, fed the precomputed agent velocities through pymunk's C calls, until a substep without contact after
which the agent stays clear of the block where it lies: the block has come to rest there for good.
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
#: Radius of the disc about the block's local origin that holds the T (its stem's far corners).
T_RADIUS = float(np.hypot(15.0, 120.0))


def replay(starts: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """States ``[N, H + 1, 7]`` at the action-block boundaries from valid ``starts [N, 7]`` under clipped
    action blocks ``[N, H, K, 2]`` (see the module docstring; ``PushTEnv.replay`` checks the inputs)."""
    n, horizon, frameskip = actions.shape[:3]
    pos, vel = agent_substeps(starts[:, [0, 1, 5, 6]], actions.reshape(n, horizon * frameskip, 2))
    path = np.concatenate([starts[:, None, :2], pos], axis=1)
    contact = ((block_clearance(path, starts[:, 2:5]) <= AGENT_RADIUS + CONTACT_MARGIN).any(axis=1)
               | ~block_inside_walls(starts[:, 2:5]))
    ends = np.arange(1, horizon + 1) * frameskip * SUBSTEPS - 1
    out = np.empty((n, horizon + 1, starts.shape[1]))
    out[:, 0] = starts
    out[:, 0, 4] %= 2 * np.pi
    out[:, 1:, 0:2], out[:, 1:, 5:7] = pos[:, ends], vel[:, ends]
    rest: dict[bytes, np.ndarray] = {}
    for i in np.flatnonzero(~contact):
        key = starts[i].tobytes()
        if key not in rest:
            rest[key] = resting_block_pose(starts[i])
        out[i, 1:, 2:5] = rest[key]
    # the agent's bounding box from the end of each env step on, to test whether the block has settled
    checks = slice(SUBSTEPS - 1, None, SUBSTEPS)
    low = np.minimum.accumulate(pos[:, ::-1], axis=1)[:, ::-1][:, checks].tolist()
    high = np.maximum.accumulate(pos[:, ::-1], axis=1)[:, ::-1][:, checks].tolist()
    for i in np.flatnonzero(contact):
        out[i, 1:, 2:5] = _block_poses(starts[i], vel[i].tolist(), frameskip * SUBSTEPS, low[i], high[i])
    return out


def agent_substeps(agent: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities ``[N, T * SUBSTEPS, 2]`` of the agent after every substep, from agent states
    ``[N, 4]`` (x, y, vx, vy) under already-clipped actions ``[N, T, 2]``.

    The agent is kinematic (contacts never change its motion), so its PD law runs here for all N at once
    with the operations of ``PushTEnv._physics_step`` and pymunk's kinematic update ``p + v dt``, in the same
    order: bit-identical to the env.
    """
    px, py, vx, vy = (np.array(agent[:, k], dtype=np.float64) for k in range(4))
    n, steps = actions.shape[:2]
    pos, vel = np.empty((n, steps * SUBSTEPS, 2)), np.empty((n, steps * SUBSTEPS, 2))
    for t in range(steps):
        tx, ty = px + ACTION_SCALE * actions[:, t, 0], py + ACTION_SCALE * actions[:, t, 1]
        for k in range(t * SUBSTEPS, (t + 1) * SUBSTEPS):
            vx = vx + (K_P * (tx - px) - K_V * vx) * DT
            vy = vy + (K_P * (ty - py) - K_V * vy) * DT
            px, py = px + vx * DT, py + vy * DT
            pos[:, k, 0], pos[:, k, 1], vel[:, k, 0], vel[:, k, 1] = px, py, vx, vy
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


def block_inside_walls(block: np.ndarray, margin: float = CONTACT_MARGIN) -> np.ndarray:
    """Whether the T of each block pose ``[N, 3]`` lies inside the walls with ``margin`` to spare."""
    c, s = np.cos(block[:, 2:3]), np.sin(block[:, 2:3])
    x = block[:, 0:1] + c * T_OUTLINE[:, 0] - s * T_OUTLINE[:, 1]
    y = block[:, 1:2] + s * T_OUTLINE[:, 0] + c * T_OUTLINE[:, 1]
    lo, hi = ARENA_LO + margin, ARENA_HI - margin
    return ((x > lo) & (x < hi) & (y > lo) & (y < hi)).all(axis=1)


def _settled(pose: list[float], low: list[float], high: list[float]) -> bool:
    """Whether a block at ``pose`` is clear of the walls and of an agent that stays in the box
    ``[low, high]`` (both by `CONTACT_MARGIN`): then it never moves again."""
    bx, by = pose[0], pose[1]
    gap = math.hypot(max(low[0] - bx, bx - high[0], 0.0), max(low[1] - by, by - high[1], 0.0))
    if gap <= T_RADIUS + AGENT_RADIUS + CONTACT_MARGIN:
        return False
    lo, hi = ARENA_LO + CONTACT_MARGIN + T_RADIUS, ARENA_HI - CONTACT_MARGIN - T_RADIUS
    return (lo < bx < hi and lo < by < hi) or bool(block_inside_walls(np.array([pose]))[0])


class _RawSpace:
    """A fresh PushT space at ``state`` made of bare Chipmunk objects, as a context manager yielding
    ``(space, agent, block)`` and freeing them on exit.

    It makes the C calls that ``PushTEnv._build_space`` and ``_set_physics_state`` make through pymunk, in
    the same order, so it steps bit for bit as the env does (``tests/test_simulator.py`` checks it against
    ``GoalEnv.replay``), minus pymunk's Python objects around each (~100 us per space).
    """

    moment = 2 * pymunk.moment_for_poly(1.0, BAR)  # as make_block
    identity = tuple(pymunk.Transform.identity())

    def __init__(self, state: np.ndarray):
        self.state = [float(v) for v in state]

    def __enter__(self) -> tuple[object, object, object]:
        ax, ay, bx, by, angle, vx, vy = self.state
        self.space = chipmunk.cpSpaceNew()
        chipmunk.cpSpaceSetGravity(self.space, (0.0, 0.0))
        chipmunk.cpSpaceSetDamping(self.space, 0.0)
        static = chipmunk.cpBodyNewStatic()  # Space.static_body
        chipmunk.cpSpaceAddBody(self.space, static)
        walls = [chipmunk.cpSegmentShapeNew(static, a, b, WALL_RADIUS) for a, b in WALLS]
        for wall in walls:
            chipmunk.cpSpaceAddShape(self.space, wall)
        agent = chipmunk.cpBodyNewKinematic()
        circle = chipmunk.cpCircleShapeNew(agent, AGENT_RADIUS, (0.0, 0.0))
        chipmunk.cpSpaceAddBody(self.space, agent)
        chipmunk.cpSpaceAddShape(self.space, circle)
        block = chipmunk.cpBodyNew(1.0, self.moment)
        chipmunk.cpBodySetCenterOfGravity(block, BLOCK_COG)
        parts = [chipmunk.cpPolyShapeNew(block, len(part), part, self.identity, 0.0) for part in (BAR, STEM)]
        chipmunk.cpSpaceAddBody(self.space, block)
        for part in parts:
            chipmunk.cpSpaceAddShape(self.space, part)
        self.shapes, self.bodies = [*walls, circle, *parts], [static, agent, block]
        chipmunk.cpBodySetPosition(agent, (ax, ay))  # _set_physics_state, then place_block
        chipmunk.cpBodySetVelocity(agent, (vx, vy))
        chipmunk.cpBodySetAngle(block, angle)
        chipmunk.cpBodySetPosition(block, (bx, by))
        chipmunk.cpBodySetVelocity(block, (0.0, 0.0))
        chipmunk.cpBodySetAngularVelocity(block, 0.0)
        return self.space, agent, block

    def __exit__(self, *exc: object) -> None:
        chipmunk.cpSpaceFree(self.space)
        for shape in self.shapes:
            chipmunk.cpShapeFree(shape)
        for body in self.bodies:
            chipmunk.cpBodyFree(body)


def _block_poses(start: np.ndarray, velocities: list, block: int, low: list, high: list) -> list[list[float]]:
    """Block poses (x, y, angle mod 2pi) after every ``block`` substeps of one rollout in a fresh space
    (`_RawSpace`), the agent driven by ``velocities``; ``low``/``high``: the agent's bounding box from
    each env step's end on."""
    poses: list[list[float]] = []
    total = len(velocities)
    with _RawSpace(start) as (space, agent, body):
        for k, velocity in enumerate(velocities, 1):
            chipmunk.cpBodySetVelocity(agent, velocity)
            chipmunk.cpSpaceStep(space, DT)
            if k % block == 0:
                position = chipmunk.cpBodyGetPosition(body)
                poses.append([position.x, position.y, chipmunk.cpBodyGetAngle(body) % (2 * np.pi)])
                if k < total and _settled(poses[-1], low[k // SUBSTEPS - 1], high[k // SUBSTEPS - 1]):
                    return poses + poses[-1:] * (total // block - len(poses))
    return poses
