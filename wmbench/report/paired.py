"""Paired comparisons of success rates: two entries (or two budgets) on the same episodes.

For paired successes ``(first, second)`` the 2x2 table is ``both`` (a), ``only_first`` (b), ``only_second``
(c) and ``neither`` (d). The difference ``(b - c) / n`` gets Newcombe's hybrid score ("square-and-add")
interval for paired proportions (method 10 of his paired-data comparison): the Wilson intervals of the two
rates combined with the estimated correlation between them. The test is the exact McNemar test: a two-sided
binomial test of ``b`` successes in ``b + c`` discordant pairs at p = 1/2. A family of such tests is corrected
with Holm's step-down method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from wmbench.report.stats import Z95, wilson_interval

#: Columns naming one episode of a curve: the same task of the same suite, planned with the same seed.
EPISODE = ["task_suite_sha256", "split", "task", "seed"]


@dataclass(frozen=True)
class PairedDifference:
    """Paired comparison of ``first`` against ``second`` (rates as fractions, difference = first - second)."""

    n: int
    both: int
    only_first: int
    only_second: int
    neither: int
    difference: float
    low: float
    high: float
    p_value: float


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (1 when there are none)."""
    discordant = only_first + only_second
    if discordant == 0:
        return 1.0
    return float(binomtest(min(only_first, only_second), discordant, 0.5).pvalue)


def newcombe_interval(both: int, only_first: int, only_second: int, neither: int,
                      z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for the paired difference ``(only_first - only_second) / n``.

    The correlation estimate uses the continuity-corrected numerator (``ad - bc - n/2`` when that is
    positive, ``ad - bc`` when negative, else 0) and is 0 when a margin is empty.
    """
    n = both + only_first + only_second + neither
    if n == 0:
        return math.nan, math.nan
    first, second = both + only_first, both + only_second
    p1, p2 = first / n, second / n
    l1, u1 = wilson_interval(first, n, z)
    l2, u2 = wilson_interval(second, n, z)
    margins = first * (n - first) * second * (n - second)
    cross = both * neither - only_first * only_second
    if margins == 0 or 0 <= cross <= n / 2:
        phi = 0.0
    else:
        phi = (cross - n / 2 if cross > 0 else cross) / math.sqrt(margins)
    estimate = p1 - p2
    down = (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
    up = (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)
    return max(-1.0, estimate - math.sqrt(max(down, 0.0))), min(1.0, estimate + math.sqrt(max(up, 0.0)))


def paired_difference(first: Sequence[bool], second: Sequence[bool]) -> PairedDifference:
    """Success difference ``first - second`` over paired episodes, its interval and McNemar p-value."""
    a, b = np.asarray(first, dtype=bool), np.asarray(second, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired outcomes need two equal-length 1-d sequences, got {a.shape} and {b.shape}")
    counts = [int(np.sum(a & b)), int(np.sum(a & ~b)), int(np.sum(~a & b)), int(np.sum(~a & ~b))]
    n = len(a)
    low, high = newcombe_interval(*counts)
    return PairedDifference(n, *counts, difference=(counts[1] - counts[2]) / n if n else math.nan,
                            low=low, high=high, p_value=mcnemar_exact(counts[1], counts[2]))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = (len(p) - np.arange(len(p))) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted.tolist()


def align(first: pd.DataFrame, second: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """The successes of the episodes both row sets ran, matched one to one (None when there are none).

    Episodes match on task suite, split, task and seed, and on the world model's training seed when both
    sides ran the same set of model seeds. Two sides of one model seed each (e.g. an entry against the
    Oracle's simulator) match on the episode alone; other mixes of model seeds cannot be matched one to one.
    """
    seeds_first, seeds_second = set(first["model_seed"]), set(second["model_seed"])
    if seeds_first == seeds_second:
        key = [*EPISODE, "model_seed"]
    elif len(seeds_first) == len(seeds_second) == 1:
        key = EPISODE
    else:
        return None
    merged = first[[*key, "success"]].merge(second[[*key, "success"]], on=key, suffixes=("_1", "_2"))
    if merged.empty:
        return None
    merged = merged.sort_values(key)
    return merged["success_1"].to_numpy(bool), merged["success_2"].to_numpy(bool)
