"""Success-rate statistics: Wilson score intervals and the per-budget summary the plots and tables share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Two-sided 95% standard-normal quantile.
Z95 = 1.959963984540054
#: Rows that identify one curve point.
GROUP = ["env", "mode", "budget_kind", "entry", "upper_bound", "budget_value"]


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


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (env, mode, budget kind, entry, budget), sorted by those keys.

    Columns: episodes ``n``, ``successes``, ``rate`` with its 95% Wilson interval ``low``/``high``, ``errors``
    and ``overruns`` counts, and the measured cost per plan call (``seconds_per_call``; ``evals_per_call`` =
    forward + backward model evaluations per episode). Error rows count as failures.
    """
    df = results.assign(evals=results["forward_evals"] + results["backward_evals"],
                        errored=results["error"].notna())
    agg = df.groupby(GROUP, sort=True).agg(
        n=("success", "size"), successes=("success", "sum"), errors=("errored", "sum"),
        overruns=("overrun", "sum"), seconds=("planning_seconds", "sum"), evals=("evals", "sum"),
        replans=("replans", "sum")).reset_index()
    agg["rate"] = agg["successes"] / agg["n"]
    bounds = [wilson_interval(int(s), int(n)) for s, n in zip(agg["successes"], agg["n"], strict=True)]
    agg["low"] = [lo for lo, _ in bounds]
    agg["high"] = [hi for _, hi in bounds]
    calls = agg["replans"].where(agg["replans"] > 0, np.nan)
    agg["seconds_per_call"] = agg["seconds"] / calls
    agg["evals_per_call"] = agg["evals"] / calls
    return agg.drop(columns=["seconds", "evals", "replans"])


def budget_seconds(summary: pd.DataFrame) -> pd.Series:
    """The seconds axis: the nominal budget for seconds budgets, else the measured seconds per plan call."""
    return summary["budget_value"].where(summary["budget_kind"] == "seconds", summary["seconds_per_call"])
