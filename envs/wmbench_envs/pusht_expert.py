"""Scripted pushing expert for PushT (pure numpy, ~0.1 ms per step).

The block is quasi-static and contacts are frictionless, so a push at boundary point ``c`` with inward
normal ``n`` moves the centre of gravity along ``n`` and turns the block by ``(r x n) / I`` per unit of
impulse (``r = c - cog``, mass 1, ``I = 3000``). Each step the expert works in the block's frame:

1. Pose error ``e = (goal_cog - cog, wrap(goal_angle - angle))``, metric ``|e_xy|^2 + (L e_angle)^2``,
   L = 60 px/rad.
2. For 56 fixed contact candidates on the T's outline it computes the push depth that best reduces the
   error (least squares along the candidate's twist, capped at 40 px) and scores it by error reduction per
   unit of travel (agent path to the pre-contact point + push depth); the current contact gets a hysteresis
   bonus.
3. Away from the chosen contact the agent travels to the pre-contact point (3 px outside the edge):
   straight if that segment clears the T by the agent radius, otherwise it backs away from the block and
   orbits the centre of gravity at a safe radius (never through the block). At the contact it pushes along
   ``n`` by the best depth.
4. Once the block is within 7 px / 0.09 rad of the goal pose the agent moves (around the block) to the goal
   agent position, moved just outside the block if it overlaps it, and stops there; pushing resumes if the
   block drifts beyond 12 px / 0.16 rad.

Actions are target offsets ``(target - agent) / 100`` scaled into [-1, 1]; the env's critically damped PD
controller then drives the agent to the target. ``noise`` in [0, 1]: with probability ``noise / 2`` the
action is replaced by a uniform random action, otherwise Gaussian noise of std ``0.3 * noise`` is added;
the result is clipped to [-1, 1].

Measured (clean expert, seeded): 94% of 200 random ``sample_start_goal`` pairs within 500 steps (median 86
steps; the failures have infeasible goals: goal agent inside the goal T, or goal T through a wall) and
100% of 200 evaluation-style near goals (25 noisy-expert steps ahead) within 200 steps.
"""

from __future__ import annotations

import numpy as np

from wmbench_envs.base import Expert, GoalEnv
from wmbench_envs.pusht import AGENT_RADIUS, BAR, BLOCK_COG, STEM, T_OUTLINE

MOMENT = 3000.0
ANGLE_SCALE = 60.0  # px per rad in the pose-error metric
SPACING = 7.0  # px between contact candidates along the outline
CLEARANCE = 3.0  # pre-contact gap between agent disc and block edge
MAX_DEPTH = 40.0  # px, cap on one push
ORBIT_RADIUS = 77.0 + AGENT_RADIUS + 12.0  # farthest T vertex from the CoG + agent radius + margin
DONE_POS, DONE_ANGLE = 7.0, 0.09
REDO_POS, REDO_ANGLE = 12.0, 0.16
HYSTERESIS = 1.5
_RECTS = [(np.min(p, axis=0), np.max(p, axis=0)) for p in (np.array(BAR), np.array(STEM))]
_COG = np.array(BLOCK_COG)


def _rot(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def _point_t_dist(p: np.ndarray) -> np.ndarray:
    """Distance from local points [..., 2] to the T (0 inside)."""
    dists = []
    for lo, hi in _RECTS:
        d = np.maximum(np.maximum(lo - p, p - hi), 0.0)
        dists.append(np.linalg.norm(d, axis=-1))
    return np.minimum(*dists)


def _segment_t_dist(p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """Distance from local segments p0[M, 2] -> p1[M, 2] to the T (0 if they cross it)."""
    out = np.minimum(_point_t_dist(p0), _point_t_dist(p1))
    d = p1 - p0
    dd = np.maximum(np.einsum("mi,mi->m", d, d), 1e-12)
    safe_d = np.where(np.abs(d) < 1e-12, 1e-12, d)
    for lo, hi in _RECTS:
        corners = np.array([lo, hi, [lo[0], hi[1]], [hi[0], lo[1]]])
        t = np.clip(np.einsum("mci,mi->mc", corners[None] - p0[:, None], d) / dd[:, None], 0.0, 1.0)
        closest = p0[:, None] + t[..., None] * d[:, None]
        out = np.minimum(out, np.linalg.norm(corners[None] - closest, axis=-1).min(axis=1))
        t_a, t_b = (lo - p0) / safe_d, (hi - p0) / safe_d
        t_in = np.minimum(t_a, t_b).max(axis=1)
        t_out = np.maximum(t_a, t_b).min(axis=1)
        out = np.where((t_in <= t_out) & (t_out >= 0) & (t_in <= 1), 0.0, out)
    return out


def _contact_candidates() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local contact points, outward normals and pre-contact agent positions reachable without overlap."""
    points, normals = [], []
    for a, b in zip(T_OUTLINE, np.roll(T_OUTLINE, -1, axis=0), strict=True):
        edge = b - a
        length = float(np.linalg.norm(edge))
        normal = np.array([edge[1], -edge[0]]) / length
        if _point_t_dist((a + b) / 2 + normal) == 0.0:
            normal = -normal
        for s in np.arange(SPACING / 2, length, SPACING):
            points.append(a + edge * s / length)
            normals.append(normal)
    points, normals = np.array(points), np.array(normals)
    pre = points + normals * (AGENT_RADIUS + CLEARANCE)
    keep = _point_t_dist(pre) >= AGENT_RADIUS + CLEARANCE - 1e-6
    return points[keep], normals[keep], pre[keep]


class PushTExpert(Expert):
    """Contact-selecting pushing expert: moves the T to the goal pose, then the agent to its goal position."""

    def __init__(self, env: GoalEnv, noise: float = 0.0, seed: int = 0):
        super().__init__(env, noise, seed)
        self.points, self.normals, self.pre = _contact_candidates()
        r = self.points - _COG
        cross = r[:, 0] * -self.normals[:, 1] - r[:, 1] * -self.normals[:, 0]  # r x n_in
        k = 1.0 + cross**2 / MOMENT
        self.u_pos = -self.normals / k[:, None]  # CoG motion per px of push depth
        self.u_ang = cross / (MOMENT * k)  # rotation per px of push depth
        self.tangents = np.stack([-self.normals[:, 1], self.normals[:, 0]], axis=1)
        self._contact: int | None = None
        self._final = False

    def reset(self, goal: np.ndarray) -> None:
        """Start a new episode towards ``goal`` (a 7-D PushT state)."""
        super().reset(goal)
        self._contact = None
        self._final = False

    def act(self, state: np.ndarray) -> np.ndarray:
        """Action in [-1, 1]^2 (float32) for the current 7-D state."""
        action = self._clean_action(np.asarray(state, dtype=np.float64))
        if self.noise > 0:
            if self.rng.random() < self.noise / 2:
                action = self.rng.uniform(-1.0, 1.0, 2)
            else:
                action = action + self.rng.normal(0.0, 0.3 * self.noise, 2)
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    # ----------------------------------------------------------------- control
    def _clean_action(self, state: np.ndarray) -> np.ndarray:
        goal = self.goal
        pos, angle = state[2:4], state[4]
        rot = _rot(angle)
        agent_l = rot.T @ (state[:2] - pos)
        pos_err = float(np.linalg.norm(goal[2:4] - pos))
        ang_err = _wrap(goal[4] - angle)
        if self._final and (pos_err > REDO_POS or abs(ang_err) > REDO_ANGLE):
            self._final = False
        elif not self._final and pos_err < DONE_POS and abs(ang_err) < DONE_ANGLE:
            self._final, self._contact = True, None
        if self._final:
            target_l = self._navigate(agent_l, self._outside(rot.T @ (goal[:2] - pos)))
        else:
            goal_cog = goal[2:4] + _rot(goal[4]) @ _COG
            err_l = rot.T @ (goal_cog - (pos + rot @ _COG))
            target_l = self._push(agent_l, err_l, ang_err)
        offset = (pos + rot @ target_l - state[:2]) / 100.0
        return offset / max(1.0, float(np.abs(offset).max()))

    def _push(self, agent_l: np.ndarray, err: np.ndarray, ang_err: float) -> np.ndarray:
        gain = self.u_pos @ err + ANGLE_SCALE**2 * self.u_ang * ang_err
        curv = np.einsum("mi,mi->m", self.u_pos, self.u_pos) + ANGLE_SCALE**2 * self.u_ang**2
        depth = np.clip(gain / curv, 0.0, MAX_DEPTH)
        reduction = 2 * depth * gain - depth**2 * curv
        travel = self._travel(agent_l)
        score = reduction / (travel + depth + 10.0)
        if self._contact is not None:
            score[self._contact] *= HYSTERESIS
        i = int(np.argmax(score))
        self._contact = i
        rel = agent_l - self.points[i]
        along, normal = rel @ self.tangents[i], rel @ self.normals[i]
        if abs(along) < 8.0 and AGENT_RADIUS - 6.0 < normal < AGENT_RADIUS + CLEARANCE + 8.0:
            return self.points[i] + self.normals[i] * (AGENT_RADIUS - max(depth[i], 2.0))
        return self._navigate(agent_l, self.pre[i])

    def _travel(self, agent_l: np.ndarray) -> np.ndarray:
        """Approximate agent path length to each pre-contact point (straight if clear, else via the orbit)."""
        straight = np.linalg.norm(self.pre - agent_l, axis=1)
        clear = _segment_t_dist(np.broadcast_to(agent_l, self.pre.shape), self.pre) >= AGENT_RADIUS - 1.0
        rel_a, rel_p = agent_l - _COG, self.pre - _COG
        arc = np.abs(np.angle(np.exp(1j * (np.arctan2(rel_p[:, 1], rel_p[:, 0])
                                           - np.arctan2(rel_a[1], rel_a[0])))))
        around = (arc * ORBIT_RADIUS + abs(np.linalg.norm(rel_a) - ORBIT_RADIUS)
                  + np.abs(np.linalg.norm(rel_p, axis=1) - ORBIT_RADIUS))
        return np.where(clear, straight, around)

    def _outside(self, target_l: np.ndarray) -> np.ndarray:
        """Move a goal agent position that overlaps the block out to just beyond contact distance."""
        dist = float(_point_t_dist(target_l))
        if dist >= AGENT_RADIUS + 0.5:
            return target_l
        if dist > 0:
            return target_l + self._away(target_l) * (AGENT_RADIUS + 0.5 - dist)
        return self.pre[np.argmin(np.linalg.norm(self.pre - target_l, axis=1))]  # inside: nearest free spot

    def _navigate(self, agent_l: np.ndarray, target_l: np.ndarray) -> np.ndarray:
        """Next local target on a path to ``target_l`` that does not cross the block."""
        seg = _segment_t_dist(agent_l[None], target_l[None])[0]
        if seg >= AGENT_RADIUS - 1.0:
            return target_l
        dist = float(_point_t_dist(agent_l))
        if dist < AGENT_RADIUS + 8.0:  # too close to orbit: back away from the nearest surface point
            away = self._away(agent_l)
            return agent_l + away * 25.0
        rel_a, rel_t = agent_l - _COG, target_l - _COG
        phi_a = np.arctan2(rel_a[1], rel_a[0])
        turn = _wrap(np.arctan2(rel_t[1], rel_t[0]) - phi_a)
        phi = phi_a + np.sign(turn) * min(abs(turn), 0.6)
        return _COG + ORBIT_RADIUS * np.array([np.cos(phi), np.sin(phi)])

    @staticmethod
    def _away(agent_l: np.ndarray) -> np.ndarray:
        eps = 1e-3
        grad = np.array([_point_t_dist(agent_l + [eps, 0]) - _point_t_dist(agent_l - [eps, 0]),
                         _point_t_dist(agent_l + [0, eps]) - _point_t_dist(agent_l - [0, eps])])
        norm = np.linalg.norm(grad)
        if norm < 1e-9:  # inside the block (e.g. pinned against a wall): leave radially from the CoG
            grad = agent_l - _COG
            norm = np.linalg.norm(grad) + 1e-9
        return grad / norm


POKE_DEPTH = (10.0, 2 * MAX_DEPTH)  #: px, uniform range of a poke's push depth
POKE_TRAVEL = 30.0  #: px; contact c is picked with probability proportional to exp(-travel_c / POKE_TRAVEL)
POKE_SLIDE = 10.0  #: px, a poke's target slides up to this far along the edge (uniform)
POKE_STEPS = 30  #: env steps before an unfinished poke is abandoned
POKE_REACH = 3.0  #: px, the poke ends when the agent is this close to its push target


class PushTPoker(PushTExpert):
    """Data policy (not an expert): a sequence of random pokes at the block; it ignores the goal.

    Each poke draws a contact candidate (the expert's outline points) with probability proportional to
    ``exp(-travel / POKE_TRAVEL)`` (the expert's estimate of the agent's path to its pre-contact point, so
    nearby contacts are preferred and most steps push), a depth ``U(10, 80)`` px and a slide ``U(-10, 10)`` px
    along the edge, then reaches the pre-contact point on a path that does not cross the block (the
    expert's navigation). Once there, the push target is fixed in the world at
    ``point - normal (depth - radius) + slide tangent`` and the agent drives to it; the poke ends when the
    agent is within ``POKE_REACH`` of it or after ``POKE_STEPS`` steps. Most steps are contacts or approaches
    to them, from every side of the T. Actions and noise as in ``PushTExpert``.
    """

    def reset(self, goal: np.ndarray) -> None:
        super().reset(goal)
        self._poke: tuple[int, float, float] | None = None
        self._push: np.ndarray | None = None
        self._age = 0

    def _clean_action(self, state: np.ndarray) -> np.ndarray:
        agent, pos, rot = state[:2], state[2:4], _rot(state[4])
        agent_l = rot.T @ (agent - pos)
        if self._poke is None or self._age >= POKE_STEPS \
                or (self._push is not None and np.linalg.norm(agent - self._push) < POKE_REACH):
            self._new_poke(agent_l)
        self._age += 1
        if self._push is None:
            i, depth, slide = self._poke
            rel = agent_l - self.points[i]
            near = abs(rel @ self.normals[i] - AGENT_RADIUS) < CLEARANCE + 8.0
            if abs(rel @ self.tangents[i]) < 8.0 and near:
                push_l = self.points[i] + self.normals[i] * (AGENT_RADIUS - depth) + self.tangents[i] * slide
                self._push = pos + rot @ push_l
            else:
                return self._offset(pos + rot @ self._navigate(agent_l, self.pre[i]), agent)
        return self._offset(self._push, agent)

    @staticmethod
    def _offset(target: np.ndarray, agent: np.ndarray) -> np.ndarray:
        offset = (target - agent) / 100.0
        return offset / max(1.0, float(np.abs(offset).max()))

    def _new_poke(self, agent_l: np.ndarray) -> None:
        rng = self.rng
        travel = self._travel(agent_l)
        weights = np.exp(-(travel - travel.min()) / POKE_TRAVEL)
        contact = int(rng.choice(len(weights), p=weights / weights.sum()))
        self._poke = (contact, float(rng.uniform(*POKE_DEPTH)), float(rng.uniform(-POKE_SLIDE, POKE_SLIDE)))
        self._push, self._age = None, 0
