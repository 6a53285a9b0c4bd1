"""Success-rate statistics: Wilson score intervals and the per-budget summary the plots and tables share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Two-sided 95% standard-normal quantile.
Z95 = 1.959963984540054
#: Budget kind -> unit shown after a budget value.
UNITS = {"seconds": "s", "iterations": "it", "evaluations": "ev"}
#: Rows that identify one curve point (pooled over the world models' training seeds).
GROUP = ["env", "mode", "budget_kind", "level", "entry", "upper_bound", "budget_value"]


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (``(nan, nan)`` when ``n == 0``)."""
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(successes1: int, n1: int, successes2: int, n2: int,
                        z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for the difference of two independent proportions (rate 1 - rate
    2), combining their Wilson intervals (``(nan, nan)`` when a sample is empty)."""
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    p1, p2 = successes1 / n1, successes2 / n2
    l1, u1 = wilson_interval(successes1, n1, z)
    l2, u2 = wilson_interval(successes2, n2, z)
    return (p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def summarise(results: pd.DataFrame, by: list[str] = GROUP) -> pd.DataFrame:
    """One row per group of ``by`` (default: env, mode, budget kind, level, entry, budget), sorted by it.

    Columns: episodes ``n``, ``successes``, ``rate`` with its 95% Wilson interval ``low``/``high``, ``errors``
    and ``overruns`` counts, the number of world ``models`` (training seeds) pooled, and the measured cost per
    plan call (``seconds_per_call``; ``evals_per_call`` = forward + backward model evaluations per episode)
    and per episode (``seconds_per_episode``: planning seconds, every replan's call included).
    Error rows count as failures.
    """
    df = results.assign(evals=results["forward_evals"] + results["backward_evals"],
                        errored=results["error"].notna())
    agg = df.groupby(by, sort=True).agg(
        n=("success", "size"), successes=("success", "sum"), errors=("errored", "sum"),
        models=("model_seed", "nunique"),
        overruns=("overrun", "sum"), seconds=("planning_seconds", "sum"), evals=("evals", "sum"),
        replans=("replans", "sum")).reset_index()
    agg["rate"] = agg["successes"] / agg["n"]
    bounds = [wilson_interval(int(s), int(n)) for s, n in zip(agg["successes"], agg["n"], strict=True)]
    agg["low"] = [lo for lo, _ in bounds]
    agg["high"] = [hi for _, hi in bounds]
    calls = agg["replans"].where(agg["replans"] > 0, np.nan)
    agg["seconds_per_call"] = agg["seconds"] / calls
    agg["evals_per_call"] = agg["evals"] / calls
    agg["seconds_per_episode"] = agg["seconds"] / agg["n"]
    return agg.drop(columns=["seconds", "evals", "replans"])


def budget_label(value: float, kind: str) -> str:
    """A budget as shown in tables, e.g. ``0.1 s`` or ``30 it``."""
    return f"{value:g} {UNITS[kind]}"
