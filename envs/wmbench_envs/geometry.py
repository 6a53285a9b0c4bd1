"""Geometry shared by PointMaze and Wall: swept box-entry tests, Python's min/max over arrays, and a batch
replay loop over action blocks. Pure numpy; each batch function is bit-identical to its scalar twin."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def sweep_box(x: float, y: float, dx: float, dy: float, x0: float, x1: float, y0: float, y1: float
              ) -> tuple[float, int] | None:
    """First time in [0, 1) at which the move ``(x, y) + t (dx, dy)`` enters the open box (x0, x1) x (y0, y1)
    (bounds may be infinite) and the axis of the entry face (0 = x, 1 = y); None if the move never enters it.

    Slab method; an axis with a zero move component only tests containment, so nothing divides by zero.
    """
    t_in, t_out, axis = -math.inf, math.inf, -1
    for k, (p, d, lo, hi) in enumerate(((x, dx, x0, x1), (y, dy, y0, y1))):
        if d == 0.0:
            if not lo < p < hi:
                return None
            continue
        ta, tb = (lo - p) / d, (hi - p) / d
        if ta > tb:
            ta, tb = tb, ta
        if ta > t_in:
            t_in, axis = ta, k
        t_out = min(t_out, tb)
    return (t_in, axis) if 0.0 <= t_in < min(t_out, 1.0) else None


def py_max(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Python's ``max(a, b)`` elementwise (``b`` only where ``b > a``, so signed zeros match it too)."""
    return np.where(b > a, b, a)


def py_min(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Python's ``min(a, b)`` elementwise (``b`` only where ``b < a``)."""
    return np.where(b < a, b, a)


def sweep_box_batch(x: np.ndarray, y: np.ndarray, dx: np.ndarray, dy: np.ndarray, x0: float, x1: float,
                    y0: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    """`sweep_box` over arrays: whether each move enters the box, and the axis of the entry face.

    The same operations in the same order, so it agrees with the scalar test move by move.
    """
    t_in, t_out = np.full(x.shape, -math.inf), np.full(x.shape, math.inf)
    axis, missed = np.full(x.shape, -1), np.zeros(x.shape, dtype=bool)
    for k, (p, d, lo, hi) in enumerate(((x, dx, x0, x1), (y, dy, y0, y1))):
        still = d == 0.0
        missed |= still & ~((lo < p) & (p < hi))
        safe = np.where(still, 1.0, d)
        ta, tb = (lo - p) / safe, (hi - p) / safe
        ta, tb = np.where(ta > tb, tb, ta), np.where(ta > tb, ta, tb)
        later = ~still & (ta > t_in)
        t_in, axis = np.where(later, ta, t_in), np.where(later, k, axis)
        t_out = np.where(still, t_out, py_min(t_out, tb))
    return ~missed & (t_in >= 0.0) & (t_in < py_min(t_out, 1.0)), axis


def replay_batch(step: Callable[[np.ndarray, np.ndarray], np.ndarray], starts: np.ndarray,
                 actions: np.ndarray) -> np.ndarray:
    """Apply a batch step ``step(states [N, S], actions [N, A])`` through action blocks ``[N, H, K, A]``
    from ``starts [N, S]`` -> states at the block boundaries ``[N, H + 1, S]`` (index 0 = the starts)."""
    out = np.empty((starts.shape[0], actions.shape[1] + 1, starts.shape[1]))
    out[:, 0] = state = starts
    for h in range(actions.shape[1]):
        for k in range(actions.shape[2]):
            state = step(state, actions[:, h, k])
        out[:, h + 1] = state
    return out
