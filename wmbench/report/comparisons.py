"""The comparisons of one leaderboard table (env, mode, budget kind, level), computed from its episode rows:
paired differences to a reference entry, the Oracle ceiling, the spread between world models and the effect
of a world-model variant with the models as replicates."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import t as student_t
from scipy.stats import ttest_1samp

from wmbench.harness.entries import ENTRIES
from wmbench.report.paired import PairedDifference, align, holm, paired_difference
from wmbench.report.runs import budget_groups
from wmbench.report.stats import wilson_interval


def _cell(episodes: pd.DataFrame, entry: str, budget: float) -> pd.DataFrame:
    return episodes[(episodes["entry"] == entry) & (episodes["budget_value"] == budget)]


def reference_differences(episodes: pd.DataFrame, entries: list[str], reference: str) -> pd.DataFrame:
    """Per entry and budget both it and the reference ran: the paired success difference entry - reference.

    Consecutive budgets at which both ran the same runs (`wmbench.report.runs.budget_groups`) are one
    test: each of their rows carries that test, and ``first_budget``/``last_budget`` name the group.
    Columns: entry, budget_value, first_budget, last_budget, n (paired episodes), entry_n, reference_n,
    difference, low, high (95% Newcombe interval), p_value (exact McNemar) and p_holm (Holm-adjusted over
    the distinct tests of this table). Rows whose episodes cannot be matched have n = 0 and NaN statistics.
    """
    cells = dict(tuple(episodes.groupby(["entry", "budget_value"], sort=True)))
    theirs = episodes[episodes["entry"] == reference]
    rows = []
    for entry in entries:
        if entry == reference or not (episodes["entry"] == entry).any():
            continue
        for group in budget_groups(episodes[episodes["entry"] == entry], theirs):
            mine, ref = cells[entry, group[0]], cells[reference, group[0]]
            pairs = align(mine, ref)
            found = asdict(paired_difference(*pairs)) if pairs is not None else {"n": 0}
            rows += [{"entry": entry, "budget_value": budget, "first_budget": group[0],
                      "last_budget": group[-1], "entry_n": len(mine), "reference_n": len(ref), **found}
                     for budget in group]
    frame = pd.DataFrame(rows, columns=["entry", "budget_value", "first_budget", "last_budget", "n",
                                        "entry_n", "reference_n", "difference", "low", "high", "p_value"])
    tested = (frame["n"] > 0) & (frame["budget_value"] == frame["first_budget"])
    frame["p_holm"] = math.nan
    frame.loc[tested, "p_holm"] = holm(frame.loc[tested, "p_value"].tolist())
    frame["p_holm"] = frame.groupby(["entry", "first_budget"])["p_holm"].transform("first")
    return frame


@dataclass(frozen=True)
class Ceiling:
    """The best upper-bound cell, the best world-model cell and their gap (world model - ceiling; ``gap`` is
    None when their episodes cannot be matched one to one)."""

    bound: pd.Series
    best: pd.Series | None
    gap: PairedDifference | None


def _best(summary: pd.DataFrame) -> pd.Series:
    """The cell with the highest rate (ties: the first entry by name, then the smallest budget)."""
    return summary.sort_values(["rate", "entry", "budget_value"], ascending=[False, True, True],
                               kind="stable").iloc[0]


def ceiling(summary: pd.DataFrame, episodes: pd.DataFrame) -> Ceiling | None:
    """The Oracle (upper-bound) ceiling of a table and the best world-model cell's gap to it (None without
    upper-bound rows)."""
    bounds = summary[summary["upper_bound"]]
    if bounds.empty:
        return None
    bound = _best(bounds)
    models = summary[~summary["upper_bound"]]
    if models.empty:
        return Ceiling(bound, None, None)
    best = _best(models)
    pairs = align(_cell(episodes, best["entry"], best["budget_value"]),
                  _cell(episodes, bound["entry"], bound["budget_value"]))
    return Ceiling(bound, best, paired_difference(*pairs) if pairs is not None else None)


def model_variation(episodes: pd.DataFrame, entries: list[str]) -> pd.DataFrame:
    """Per entry with several world models (training seeds) and budget: the success rate of each model and
    the spread between them.

    Columns: entry, budget_value, models, pooled (rate over all episodes), pooled_low/high (Wilson, over
    episodes), one ``seed N`` rate column per model seed, mean (of the per-model rates), mean_low/high (95%
    t interval over models: the replication unit) and range (max - min).
    """
    episodes = episodes[episodes["entry"].isin(entries)]
    several = episodes.groupby("entry")["model_seed"].nunique()
    episodes = episodes[episodes["entry"].isin(several[several > 1].index)]
    rows = []
    for (entry, budget), group in episodes.groupby(["entry", "budget_value"], sort=True):
        rates = group.groupby("model_seed", sort=True)["success"].mean()
        k, mean = len(rates), float(rates.mean())
        half = float(student_t.ppf(0.975, k - 1) * rates.std(ddof=1)) / math.sqrt(k) if k > 1 else math.nan
        low, high = wilson_interval(int(group["success"].sum()), len(group))
        rows.append({"entry": entry, "budget_value": budget, "models": k,
                     "pooled": float(group["success"].mean()), "pooled_low": low, "pooled_high": high,
                     **{f"seed {s}": float(r) for s, r in rates.items()},
                     "mean": mean, "mean_low": float(np.clip(mean - half, 0, 1)),
                     "mean_high": float(np.clip(mean + half, 0, 1)),
                     "range": float(np.ptp(rates.to_numpy()))})
    return pd.DataFrame(rows)


def variant_base(entry: str) -> str | None:
    """The entry that plans as ``entry`` does through the base world model: ``NAME`` for ``NAME@variant``,
    ``GBP`` for the named ``GBP+OWM``; None for a base entry."""
    name, _, variant = entry.partition("@")
    known = ENTRIES.get(name)
    if variant:
        return name if variant != "base" and (known is None or known.variant == "base") else None
    if known is None or known.variant == "base":
        return None
    return next((other for other, e in ENTRIES.items() if e.variant == "base" and e.planner == known.planner
                 and dict(e.kwargs) == dict(known.kwargs)), None)


def variant_effects(episodes: pd.DataFrame, entries: list[str]) -> pd.DataFrame:
    """Per variant entry (`variant_base`) and budget both it and its base entry ran through the same several
    world models (training seeds): the paired success difference entry - base within each model, and over
    the models as replicates their mean, 95% t interval and two-sided one-sample t-test p-value.

    Columns: entry, base, budget_value, models, one ``seed N`` difference column per model seed, mean,
    low, high, p_value.
    """
    rows = []
    cells = dict(tuple(episodes.groupby(["entry", "budget_value"], sort=True)))
    for entry in entries:
        base = variant_base(entry)
        if base is None:
            continue
        for budget in sorted(b for e, b in cells if e == entry):
            if (base, budget) not in cells:
                continue
            diffs = seed_differences(cells[entry, budget], cells[base, budget])
            if len(diffs) < 2:
                continue
            rows.append({"entry": entry, "base": base, "budget_value": budget, "models": len(diffs),
                         **{f"seed {s}": d for s, d in diffs.items()}, **over_models(diffs)})
    return pd.DataFrame(rows)


def seed_differences(first: pd.DataFrame, second: pd.DataFrame) -> dict[int, float]:
    """Per world-model training seed both row sets ran: the success difference first - second over the
    episodes both ran through that seed's models (paired on tasks; `wmbench.report.paired.align`)."""
    diffs = {}
    for seed in sorted(set(first["model_seed"]) & set(second["model_seed"])):
        pairs = align(first[first["model_seed"] == seed], second[second["model_seed"] == seed])
        if pairs is not None:
            diffs[int(seed)] = float(pairs[0].mean() - pairs[1].mean())
    return diffs


def over_models(diffs: dict[int, float]) -> dict[str, float]:
    """Per-model differences with the models as replicates: their ``mean``, its 95% t interval
    (``low``/``high``) and the two-sided one-sample t-test ``p_value`` (at least two models)."""
    values = np.array(list(diffs.values()))
    k, mean = len(values), float(values.mean())
    half = float(student_t.ppf(0.975, k - 1) * values.std(ddof=1) / math.sqrt(k))
    # the same difference in every model has no spread to test against: p is 1 if it is 0, else 0
    p_value = float(ttest_1samp(values, 0.0).pvalue) if values.std() > 0 else float(mean == 0)
    return {"mean": mean, "low": mean - half, "high": mean + half, "p_value": p_value}
