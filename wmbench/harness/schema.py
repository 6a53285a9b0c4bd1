"""The results schema (one Parquet row per entry x env x task x budget x seed x mode) and its atomic I/O.

Results live in ``RESULTS_DIR/parts/*.parquet``, one file per completed sweep unit, written atomically
(`wmbench.io.atomic_write`), so an interrupted sweep never leaves a partial part. Every row carries its
unit's identity hash (``unit_id``, `wmbench.harness.units`). Each column carries its description in the
Parquet field metadata. Bump `SCHEMA_VERSION` on any change. Reading a part checks its types, nulls
(only ``error`` may be null) and value ranges (`RULES`), so an edited part is refused, not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wmbench.io import atomic_write

SCHEMA_VERSION = 4
PARTS = "parts"
#: The values of the ``mode`` and ``budget_kind`` columns: ``wmbench.harness.episodes.MODES`` and
#: ``wmbench.planning.budget.BUDGET_KINDS`` restated, so that reading results imports no torch (a test keeps
#: them equal).
MODES = ("mpc", "open-loop")
BUDGET_KINDS = ("seconds", "iterations", "evaluations")

_FIELDS: list[tuple[str, pa.DataType, str]] = [
    # what was run
    ("entry", pa.string(), "benchmark entry name (e.g. GBP+AWM, CEM, or a 'module:Class' plugin)"),
    ("env", pa.string(), "env short name"),
    ("task", pa.int64(), "task index in the task suite"),
    ("budget_kind", pa.string(), "seconds | iterations | evaluations (per plan call, for the whole batch)"),
    ("budget_value", pa.float64(), "budget per plan call, in budget_kind units"),
    ("seed", pa.int64(), "planner seed"),
    ("mode", pa.string(), "mpc | open-loop"),
    ("level", pa.string(), "difficulty level of the task in its suite ('' when the suite has none)"),
    ("unit_id", pa.string(), "hash of everything that determines this row's unit (wmbench.harness.units)"),
    # outcome
    ("success", pa.bool_(), "goal reached (MPC: at any env step, sticky; open-loop: final state); "
                            "errors count as failures"),
    ("final_distance", pa.float64(), "env state_distance(final state, goal)"),
    ("coverage", pa.float64(), "goal coverage of the final state (PushT: block overlap with the goal block "
                               "/ block area); NaN for envs without one"),
    ("steps", pa.int64(), "env steps executed"),
    ("replans", pa.int64(), "plan calls this episode took part in"),
    ("planning_seconds", pa.float64(), "wall-clock seconds of the plan calls (summed over replans)"),
    ("iterations", pa.int64(), "planner iterations (summed over replans)"),
    ("forward_evals", pa.int64(), "world-model forward rollouts for this episode (summed over replans); "
                                  "model evaluations = forward + backward evals, the unit of ev: budgets"),
    ("backward_evals", pa.int64(), "world-model backward passes for this episode (summed over replans)"),
    ("overrun", pa.bool_(), "some plan call took more than 2x its seconds budget"),
    ("error", pa.string(), "planner raised, NaN or out-of-bounds actions, model failed; null if ok"),
    # configuration
    ("variant", pa.string(), "world-model variant (base | owm | awm | ...)"),
    ("planner", pa.string(), "planner class as 'module:Class'"),
    ("planner_args", pa.string(), "every keyword argument the planner was built with, 'key=value, ...'"),
    ("planner_source_sha256", pa.string(), "hash of the planner's package (or module) source; '' for "
                                           "wmbench's own classes and for rows of older schemas"),
    ("planner_version", pa.string(), "version of the planner's installed distribution ('' if not installed)"),
    ("upper_bound", pa.bool_(), "entry is a labelled upper bound (Oracle), kept out of world-model rankings"),
    ("horizon", pa.int64(), "planning horizon in planning steps"),
    ("execute_steps", pa.int64(), "planning steps executed per replan (MPC)"),
    ("objective", pa.string(), "planning objective weighting over the predicted frames (exponential | last)"),
    ("max_steps", pa.int64(), "the step cap: env steps per episode at most (MPC), or executed (open-loop)"),
    ("batch_size", pa.int64(), "episodes planned together in one plan call"),
    ("split", pa.string(), "task-suite split"),
    ("task_suite", pa.string(), "task-suite version"),
    ("task_suite_sha256", pa.string(), "task-suite content hash"),
    ("dataset_hash", pa.string(), "world-model training dataset hash (from model metadata)"),
    ("dataset", pa.string(), "world-model training dataset name ('' for the simulator and rows of older "
                             "schemas)"),
    ("dataset_size", pa.string(), "its registered size (small | full | xl; '' as for dataset)"),
    ("dataset_episodes", pa.int64(), "episodes in that dataset (0: not a registered dataset, the simulator, "
                                     "rows of older schemas)"),
    ("checkpoint_hash", pa.string(), "world-model identity: hash of its class, config and weights "
                                     "('simulator-...' for the Oracle)"),
    ("model_source_sha256", pa.string(), "hash of the world model's package (or module) source; '' for "
                                         "wmbench's own classes and for rows of older schemas"),
    ("model_version", pa.string(), "version of the world model's distribution (wmbench's for its own)"),
    ("protocol", pa.string(), "name of the protocol the unit ran under (wmbench.protocols; '' ad hoc)"),
    ("protocol_sha256", pa.string(), "hash of that protocol's definition ('' ad hoc)"),
    ("model_seed", pa.int64(), "training seed of the world model (-1: unknown, or the simulator); models of "
                               "different seeds are independent replicates"),
    # machine and software
    ("schema_version", pa.int64(), "results schema version"),
    ("wmbench_version", pa.string(), "wmbench package version"),
    ("git_commit", pa.string(), "git commit of the wmbench checkout ('-dirty' if modified)"),
    ("torch_version", pa.string(), "torch version"),
    ("python_version", pa.string(), "Python version"),
    ("threads", pa.int64(), "torch intra-op threads"),
    ("cpu_model", pa.string(), "CPU model name"),
    ("machine", pa.string(), "machine fingerprint (CPU, cores, torch and BLAS build, GPU; never the host "
                             "name): seconds budgets pair only within one ('' for older rows)"),
    ("host", pa.string(), "host name of the machine that ran the unit"),
    ("concurrent_units", pa.int64(), "units running at the same time on that host (1 = serial)"),
    ("device", pa.string(), "device the world model ran on"),
    ("command", pa.string(), "command that produced the row"),
]

SCHEMA = pa.schema([pa.field(name, dtype, metadata={"description": doc}) for name, dtype, doc in _FIELDS],
                   metadata={"wmbench_schema_version": str(SCHEMA_VERSION)})
COLUMNS = [name for name, _, _ in _FIELDS]
#: The only column that may hold nulls.
NULLABLE = ("error",)
_Test = Callable[[pa.ChunkedArray], pa.ChunkedArray]


def _at_least(low: int) -> _Test:
    return lambda column: pc.greater_equal(column, low)


def _nan_or(test: _Test) -> _Test:
    return lambda column: pc.or_(pc.is_nan(column), test(column))


#: (columns, test giving True for every valid value, what the values must be).
RULES: list[tuple[tuple[str, ...], _Test, str]] = [
    (("schema_version",), lambda c: pc.equal(c, SCHEMA_VERSION), f"{SCHEMA_VERSION} (this schema version)"),
    (("mode",), lambda c: pc.is_in(c, value_set=pa.array(MODES)), f"one of {', '.join(MODES)}"),
    (("budget_kind",), lambda c: pc.is_in(c, value_set=pa.array(BUDGET_KINDS)),
     f"one of {', '.join(BUDGET_KINDS)}"),
    (("budget_value",), lambda c: pc.and_(pc.greater(c, 0), pc.is_finite(c)), "finite and > 0"),
    (("task", "seed", "steps", "replans", "iterations", "forward_evals", "backward_evals",  # max_steps 0:
      "planning_seconds", "max_steps", "dataset_episodes"), _at_least(0), ">= 0"),  # open-loop, model failed
    (("horizon", "execute_steps", "batch_size", "threads", "concurrent_units"), _at_least(1), ">= 1"),
    (("model_seed",), _at_least(-1), ">= -1"),
    (("final_distance",), _nan_or(_at_least(0)), ">= 0 or NaN"),
    (("coverage",), _nan_or(lambda c: pc.and_(pc.greater_equal(c, 0), pc.less_equal(c, 1))),
     "in [0, 1] or NaN"),
]


def to_table(rows: list[dict]) -> pa.Table:
    """Rows (dicts with exactly the schema's columns) -> a typed table."""
    for row in rows:
        if set(row) != set(COLUMNS):
            missing, extra = sorted(set(COLUMNS) - set(row)), sorted(set(row) - set(COLUMNS))
            raise ValueError(f"result row does not match schema v{SCHEMA_VERSION}: missing {missing}, "
                             f"extra {extra}")
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def write_part(rows: list[dict], path: Path) -> Path:
    """Atomically write one part file."""
    table = to_table(rows)
    return atomic_write(path, lambda fh: pq.write_table(table, fh))


def part_paths(results_dir: str | Path) -> list[Path]:
    """Completed part files under ``results_dir/parts`` (sorted; temp files excluded)."""
    return sorted(p for p in (Path(results_dir) / PARTS).glob("*.parquet") if not p.name.startswith("."))


def read_part(path: Path) -> pa.Table:
    """One part file, checked against this schema (column names and types, nulls, value ranges:
    `RULES`); ``ValueError`` naming the file, the column and the fix if it is corrupt, edited or of
    another schema version."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"results part {path} is corrupt ({str(exc).splitlines()[0][:200]}); delete it and "
                         "rerun the sweep command to recompute it") from exc
    version = (table.schema.metadata or {}).get(b"wmbench_schema_version", b"?").decode()
    if version != str(SCHEMA_VERSION) or table.column_names != COLUMNS:
        raise ValueError(f"results part {path} has schema version {version}, this wmbench reads "
                         f"v{SCHEMA_VERSION}; rerun the sweep into a fresh folder")
    problem = _uncastable(table)
    if problem is None:
        table = table.cast(SCHEMA)
        problem = _invalid(table)
    if problem:
        raise ValueError(f"results part {path} is invalid: {problem}; it was edited or written by other "
                         "code: delete it and rerun the sweep command to recompute it")
    return table


def _uncastable(table: pa.Table) -> str | None:
    """The first column whose values do not convert to this schema's type, described; None if all do."""
    for field in SCHEMA:
        stored = table.schema.field(field.name).type
        if stored != field.type:
            try:
                table.column(field.name).cast(field.type)
            except pa.ArrowException:
                return f"column {field.name} holds {stored} values that are not {field.type}"
    return None


def _invalid(table: pa.Table) -> str | None:
    """The first null in a non-nullable column or value out of `RULES`, described; None if valid."""
    for name in COLUMNS:
        column = table.column(name)
        if name not in NULLABLE and column.null_count:
            row = pc.index(pc.is_null(column), True).as_py()
            return (f"column {name} has {column.null_count} null value(s) (first in row {row}); it must not "
                    "be null")
    for names, test, expected in RULES:
        for name in names:
            column = table.column(name)
            bad = pc.invert(test(column))
            count = pc.sum(bad).as_py() or 0
            if count:
                row = pc.index(bad, True).as_py()
                return (f"column {name} must be {expected}, but {count} row(s) are not (row {row}: "
                        f"{column[row].as_py()!r})")
    return None


def read_results(results_dir: str | Path) -> pd.DataFrame:
    """All result rows of a results folder, every part checked against this schema version."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results directory {results_dir} does not exist or is not a directory; run "
                                "`wmbench eval ... --results DIR` first")
    paths = part_paths(results_dir)
    if not paths:
        raise FileNotFoundError(f"no results under {results_dir / PARTS}; run a sweep first "
                                "(`wmbench eval ... --results DIR`)")
    return pa.concat_tables([read_part(p) for p in paths]).to_pandas()
