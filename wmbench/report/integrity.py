"""The report's first step: every episode counted once, and no curve pooling rows of different runs.

A *curve* is one (env, mode, budget kind, entry, level, world-model seed). Its rows must agree on everything
that determines results (:data:`DETERMINING`, plus :data:`TIMING` under seconds budgets); rows that do not
(e.g. a checkpoint retrained under the same seed, another horizon) are refused with a message naming the part
files to move away. Overlapping sweep units (budget lists ``it:1,2`` then ``it:2,4``; ``--n-tasks 30`` then
``60``) store some episodes twice: each episode of a curve (task, budget, planner seed) is kept once, from
the unit with the most rows (then the smallest unit id), so the larger run is kept whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CURVE = ["env", "mode", "budget_kind", "entry", "level", "model_seed"]
#: One episode of a curve (task suite and split are checked to agree within the curve).
EPISODE = [*CURVE, "task", "budget_value", "seed"]
#: Columns that determine a curve's results.
DETERMINING = ["planner", "planner_args", "variant", "checkpoint_hash", "dataset_hash", "task_suite",
               "task_suite_sha256", "split", "horizon", "execute_steps", "max_steps", "objective", "device"]
#: Columns that also determine results under seconds budgets (work per plan call and its speed).
TIMING = ["batch_size", "threads"]
_SHOWN_UNITS = 2


@dataclass(frozen=True)
class Checked:
    """Rows with every episode once (sorted by episode) and the duplicates dropped per curve
    (columns: env, mode, budget_kind, entry, level, dropped; only curves that had some)."""

    rows: pd.DataFrame
    duplicates: pd.DataFrame


def _value(value: object) -> str:
    text = "null" if pd.isna(value) else str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _refusal(rows: pd.DataFrame, column: str, where: str) -> ValueError:
    env, mode, kind, entry, level, model_seed = rows.iloc[0][CURVE]
    sides = []
    for _, group in rows.groupby(rows[column].astype(str), sort=True):
        units = sorted(group["unit_id"].unique())
        files = ", ".join(f"*__{u}.parquet" for u in units[:_SHOWN_UNITS])
        more = f" and {len(units) - _SHOWN_UNITS} more" if len(units) > _SHOWN_UNITS else ""
        sides.append(f"{_value(group[column].iloc[0])} in {files}{more}")
    curve = f"{mode}, {kind} budgets" + (f", level {level}" if level else "") + f", model seed {model_seed}"
    return ValueError(
        f"results of entry {entry} on {env} ({curve}) disagree on {column}: {' vs '.join(sides)}; these runs "
        f"cannot be pooled: move the part files of all but one {column} out of {where}/parts (into another "
        "results folder) and rerun the report")


def _check_consistent(results: pd.DataFrame, where: str) -> None:
    seconds = results[results["budget_kind"] == "seconds"]
    for rows, columns in ((results, DETERMINING), (seconds, TIMING)):
        counts = rows[columns].astype(str).groupby([rows[c] for c in CURVE], sort=True).nunique()
        bad = counts[(counts > 1).any(axis=1)]
        if len(bad):
            curve, row = next(bad.iterrows())
            column = row.index[row.to_numpy() > 1][0]
            raise _refusal(rows.groupby(CURVE).get_group(curve), column, where)


def check(results: pd.DataFrame, where: str = "RESULTS_DIR") -> Checked:
    """Refuse inconsistent curves (``ValueError`` naming entry, env, column, values and part files to move
    out of ``where``) and keep each episode once (see the module docstring). A missing level reads as
    ``""``."""
    results = results.assign(level=results["level"].fillna(""))
    _check_consistent(results, where)
    size = results.groupby("unit_id")["unit_id"].transform("size")
    ranked = results.assign(_size=-size).sort_values(["_size", "unit_id"], kind="stable")
    dropped = ranked.duplicated(EPISODE, keep="first")
    duplicates = (ranked[dropped].groupby(["env", "mode", "budget_kind", "entry", "level"], sort=True)
                  .size().rename("dropped").reset_index())
    rows = ranked[~dropped].drop(columns="_size").sort_values(EPISODE, kind="stable").reset_index(drop=True)
    return Checked(rows, duplicates)
