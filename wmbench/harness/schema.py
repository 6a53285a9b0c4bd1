"""The results schema (one Parquet row per entry x env x task x budget x seed x mode) and its atomic I/O.

Results live in ``RESULTS_DIR/parts/*.parquet``, one file per completed sweep unit, each written to a temp
file and moved into place with ``os.replace``, so an interrupted sweep never leaves a partial part. Each
column carries its description in the Parquet field metadata. Bump :data:`SCHEMA_VERSION` on any change.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA_VERSION = 1
PARTS = "parts"

_FIELDS: list[tuple[str, pa.DataType, str]] = [
    # what was run
    ("entry", pa.string(), "benchmark entry name (e.g. GBP+AWM, CEM, or a 'module:Class' plugin)"),
    ("env", pa.string(), "env short name"),
    ("task", pa.int64(), "task index in the task suite"),
    ("budget_kind", pa.string(), "seconds | iterations | evaluations (per plan call, for the whole batch)"),
    ("budget_value", pa.float64(), "budget per plan call, in budget_kind units"),
    ("seed", pa.int64(), "planner seed"),
    ("mode", pa.string(), "mpc | open-loop"),
    # outcome
    ("success", pa.bool_(), "goal reached (MPC: at any env step, sticky; open-loop: final state); "
                            "errors count as failures"),
    ("final_distance", pa.float64(), "env state_distance(final state, goal)"),
    ("steps", pa.int64(), "env steps executed"),
    ("replans", pa.int64(), "plan calls this episode took part in"),
    ("planning_seconds", pa.float64(), "wall-clock seconds of the plan calls (summed over replans)"),
    ("iterations", pa.int64(), "planner iterations (summed over replans)"),
    ("forward_evals", pa.int64(), "world-model forward rollouts for this episode (summed over replans)"),
    ("backward_evals", pa.int64(), "world-model backward passes for this episode (summed over replans)"),
    ("overrun", pa.bool_(), "some plan call took more than 2x its seconds budget"),
    ("error", pa.string(), "planner raised, NaN or out-of-bounds actions, model failed; null if ok"),
    # configuration
    ("variant", pa.string(), "world-model variant (base | owm | awm | ...)"),
    ("planner", pa.string(), "planner class as 'module:Class'"),
    ("upper_bound", pa.bool_(), "entry is a labelled upper bound (Oracle), kept out of world-model rankings"),
    ("horizon", pa.int64(), "planning horizon in planning steps"),
    ("execute_steps", pa.int64(), "planning steps executed per replan (MPC)"),
    ("objective", pa.string(), "planning objective weighting over the predicted frames (exponential | last)"),
    ("max_steps", pa.int64(), "env-step cap per episode (MPC) or env steps executed (open-loop)"),
    ("batch_size", pa.int64(), "episodes planned together in one plan call"),
    ("split", pa.string(), "task-suite split"),
    ("task_suite", pa.string(), "task-suite version"),
    ("task_suite_sha256", pa.string(), "task-suite content hash"),
    ("dataset_hash", pa.string(), "world-model training dataset hash (from model metadata)"),
    ("checkpoint_hash", pa.string(), "world-model checkpoint sha256 (from model metadata)"),
    # machine and software
    ("schema_version", pa.int64(), "results schema version"),
    ("wmbench_version", pa.string(), "wmbench package version"),
    ("git_commit", pa.string(), "git commit of the wmbench checkout ('-dirty' if modified)"),
    ("torch_version", pa.string(), "torch version"),
    ("python_version", pa.string(), "Python version"),
    ("threads", pa.int64(), "torch intra-op threads"),
    ("cpu_model", pa.string(), "CPU model name"),
    ("device", pa.string(), "device the world model ran on"),
    ("command", pa.string(), "command that produced the row"),
]

SCHEMA = pa.schema([pa.field(name, dtype, metadata={"description": doc}) for name, dtype, doc in _FIELDS],
                   metadata={"wmbench_schema_version": str(SCHEMA_VERSION)})
COLUMNS = [name for name, _, _ in _FIELDS]


def to_table(rows: list[dict]) -> pa.Table:
    """Rows (dicts with exactly the schema's columns) -> a typed table."""
    for row in rows:
        if set(row) != set(COLUMNS):
            missing, extra = sorted(set(COLUMNS) - set(row)), sorted(set(row) - set(COLUMNS))
            raise ValueError(f"result row does not match schema v{SCHEMA_VERSION}: missing {missing}, "
                             f"extra {extra}")
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def write_part(rows: list[dict], path: Path) -> Path:
    """Atomically write one part file (temp file in the same folder + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(to_table(rows), tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def part_paths(results_dir: str | Path) -> list[Path]:
    """Completed part files under ``results_dir/parts`` (sorted; temp files excluded)."""
    return sorted(p for p in (Path(results_dir) / PARTS).glob("*.parquet") if not p.name.startswith("."))


def read_results(results_dir: str | Path) -> pd.DataFrame:
    """All result rows of a results folder, checked against this schema version."""
    paths = part_paths(results_dir)
    if not paths:
        raise FileNotFoundError(f"no results under {Path(results_dir) / PARTS}; run a sweep first "
                                "(`wmbench sweep ... --out RESULTS_DIR`)")
    tables = []
    for path in paths:
        table = pq.read_table(path)
        version = (table.schema.metadata or {}).get(b"wmbench_schema_version", b"?").decode()
        if version != str(SCHEMA_VERSION) or table.column_names != COLUMNS:
            raise ValueError(f"results part {path} has schema version {version}, this wmbench reads "
                             f"v{SCHEMA_VERSION}; rerun the sweep into a fresh folder")
        tables.append(table.cast(SCHEMA))
    return pa.concat_tables(tables).to_pandas()
