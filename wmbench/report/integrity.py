"""The report's first step: every episode counted once, and no curve or pooled view mixing rows of different
runs.

A *curve* is one (env, mode, budget kind, entry, level, world-model seed). Its rows must agree on everything
that determines results (`DETERMINING`, plus `TIMING` under seconds budgets); rows that do not
(e.g. a checkpoint retrained under the same seed, another horizon) are refused with a message naming the part
files to move away. The pooled views are held to the same rule (`VIEWS`): the figures pool an entry's
levels, so one world-model seed's rows must agree on `POOLED` across levels (one checkpoint, one task
suite version and split); the leaderboard's cells, Table 1 and the budget claim also pool world-model seeds,
so all of an entry's rows must agree on `POOLED` except the checkpoint. Only a level's own settings
(`PER_LEVEL`) may differ between levels. Such rows are refused too, never split into separate curves.

Overlapping sweep units (budget lists ``it:1,2`` then ``it:2,4``; ``--n-tasks 30`` then ``60``) store some
episodes twice: each episode of a curve (task, budget, planner seed) is kept once, from the unit with the most
rows (then the smallest unit id), so the larger run is kept whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CURVE = ["env", "mode", "budget_kind", "entry", "level", "model_seed"]
#: One episode of a curve (task suite and split are checked to agree within the curve).
EPISODE = [*CURVE, "task", "budget_value", "seed"]
#: Columns that determine a curve's results.
DETERMINING = ["planner", "planner_args", "planner_source_sha256", "variant", "checkpoint_hash",
               "model_source_sha256", "dataset_hash", "task_suite", "task_suite_sha256", "split", "horizon",
               "execute_steps", "max_steps", "objective", "device", "protocol_sha256"]
#: Columns that also determine results under seconds budgets (work per plan call and its speed).
TIMING = ["batch_size", "threads", "machine"]
#: Settings each task level has of its own (its open-loop plan length and MPC step cap).
PER_LEVEL = ["horizon", "max_steps"]
#: Columns that must agree across the levels a pooled view puts together.
POOLED = [c for c in DETERMINING if c not in PER_LEVEL]
#: (rows that must agree, determining columns, also under seconds budgets, what pools them): each curve,
#: a world-model seed's levels (the figures), an entry's levels and world-model seeds (the leaderboard's
#: cells, Table 1, the budget claim).
VIEWS = (
    (CURVE, DETERMINING, TIMING, ""),
    ([c for c in CURVE if c != "level"], POOLED, ["threads"], "the figures pool levels"),
    ([c for c in CURVE if c not in ("level", "model_seed")], [c for c in POOLED if c != "checkpoint_hash"],
     ["threads"], "tables pool levels and model seeds"),
)
#: Columns a pooled view puts together, named on each side of a refusal.
_POOLED_OVER = {"level": "level", "model_seed": "model seed"}
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


def _pooled(group: pd.DataFrame, by: list[str]) -> str:
    """The levels and model seeds of one side of a pooled view's refusal, e.g. `` (level far)``."""
    names = []
    for column, name in _POOLED_OVER.items():
        if column not in by:
            values = sorted(map(str, group[column].unique()))
            names.append(f"{name}{'s' if len(values) > 1 else ''} {', '.join(v or 'none' for v in values)}")
    return f" ({'; '.join(names)})" if names else ""


def _refusal(rows: pd.DataFrame, column: str, where: str, by: list[str] = CURVE,
             pools: str = "") -> ValueError:
    env, mode, kind, entry, level, model_seed = rows.iloc[0][CURVE]
    sides = []
    for _, group in rows.groupby(rows[column].astype(str), sort=True):
        units = sorted(group["unit_id"].unique())
        files = ", ".join(f"*__{u}.parquet" for u in units[:_SHOWN_UNITS])
        more = f" and {len(units) - _SHOWN_UNITS} more" if len(units) > _SHOWN_UNITS else ""
        sides.append(f"{_value(group[column].iloc[0])}{_pooled(group, by)} in {files}{more}")
    curve = (f"{mode}, {kind} budgets" + (f", level {level}" if "level" in by and level else "")
             + (f", model seed {model_seed}" if "model_seed" in by else "") + (f"; {pools}" if pools else ""))
    return ValueError(
        f"results of entry {entry} on {env} ({curve}) disagree on {column}: {' vs '.join(sides)}; these runs "
        f"cannot be pooled: move the part files of all but one {column} out of {where}/parts (into another "
        "results folder) and rerun the report")


def _check_consistent(results: pd.DataFrame, where: str) -> None:
    seconds = results[results["budget_kind"] == "seconds"]
    for by, determining, timing, pools in VIEWS:
        for rows, columns in ((results, determining), (seconds, timing)):
            counts = rows[columns].astype(str).groupby([rows[c] for c in by], sort=True).nunique()
            bad = counts[(counts > 1).any(axis=1)]
            if len(bad):
                key, row = next(bad.iterrows())
                column = row.index[row.to_numpy() > 1][0]
                raise _refusal(rows.groupby(by).get_group(key), column, where, by, pools)


def check(results: pd.DataFrame, where: str = "RESULTS_DIR") -> Checked:
    """Refuse inconsistent curves and pooled views (``ValueError`` naming entry, env, column, values, the
    levels and model seeds of each side and the part files to move out of ``where``) and keep each episode
    once (see the module docstring). A missing level reads as ``""``."""
    results = results.assign(level=results["level"].fillna(""))
    _check_consistent(results, where)
    size = results.groupby("unit_id")["unit_id"].transform("size")
    ranked = results.assign(_size=-size).sort_values(["_size", "unit_id"], kind="stable")
    dropped = ranked.duplicated(EPISODE, keep="first")
    duplicates = (ranked[dropped].groupby(["env", "mode", "budget_kind", "entry", "level"], sort=True)
                  .size().rename("dropped").reset_index())
    rows = ranked[~dropped].drop(columns="_size").sort_values(EPISODE, kind="stable").reset_index(drop=True)
    return Checked(rows, duplicates)
