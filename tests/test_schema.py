"""Result parts are checked on read: types, nulls and value ranges, so an edited part is refused by name."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from result_rows import episode_rows
from test_harness import _sweep

from wmbench.cli import main
from wmbench.harness import episodes, schema
from wmbench.harness.schema import SCHEMA_VERSION, read_part, read_results, write_part
from wmbench.planning import budget as budgets

N = 6


def _part(tmp_path, **columns):
    return write_part(episode_rows("CEM", 0.1, 3, n=N, **columns), tmp_path / "parts" / "p.parquet")


def _rewrite(path, column: str, values: list, dtype: pa.DataType | None = None) -> None:
    """Rewrite ``column`` of a part with pyarrow, keeping the schema and its metadata (as a hand edit
    does)."""
    table = pq.read_table(path)
    i = table.schema.get_field_index(column)
    array = pa.array(values, type=dtype or table.schema.field(i).type)
    pq.write_table(table.set_column(i, table.schema.field(i).with_type(array.type), array), path)


def test_the_column_vocabularies_are_their_owners():
    assert schema.MODES == episodes.MODES and schema.BUDGET_KINDS == budgets.BUDGET_KINDS


def test_a_valid_part_reads_back_with_nulls_only_in_error_and_nan_coverage(tmp_path):
    path = _part(tmp_path, coverage=math.nan)
    _rewrite(path, "error", [None] * (N - 1) + ["planner raised"])
    table = read_part(path)
    assert table.num_rows == N and table.column("error").null_count == N - 1
    assert len(read_results(tmp_path)) == N


@pytest.mark.parametrize("column, values, message", [
    ("schema_version", [SCHEMA_VERSION + 1] * N,
     f"column schema_version must be {SCHEMA_VERSION} (this schema version), but {N} row(s) are not "
     f"(row 0: {SCHEMA_VERSION + 1})"),
    ("forward_evals", [5, 5, 5, -1, 5, 5],
     "column forward_evals must be >= 0, but 1 row(s) are not (row 3: -1)"),
    ("success", [True, False, None, True, True, True],
     "column success has 1 null value(s) (first in row 2); it must not be null"),
    ("mode", ["mpc"] * 5 + ["closed-loop"], "column mode must be one of mpc, open-loop, but 1 row(s) are not "
                                            "(row 5: 'closed-loop')"),
    ("budget_kind", ["minutes"] * N, "column budget_kind must be one of seconds, iterations, evaluations"),
    ("budget_value", [0.0] * N,
     "column budget_value must be finite and > 0, but 6 row(s) are not (row 0: 0.0)"),
    ("planning_seconds", [1.0] * 5 + [math.nan],
     "column planning_seconds must be >= 0, but 1 row(s) are not (row 5: nan)"),
    ("steps", [-3] * N, "column steps must be >= 0"),
    ("concurrent_units", [0] * N, "column concurrent_units must be >= 1"),
    ("horizon", [0] * N, "column horizon must be >= 1"),
    ("model_seed", [-2] * N, "column model_seed must be >= -1"),
    ("final_distance", [-1.0] * N, "column final_distance must be >= 0 or NaN"),
    ("coverage", [1.5] * N, "column coverage must be in [0, 1] or NaN"),
    ("checkpoint_hash", [None] * N, "column checkpoint_hash has 6 null value(s) (first in row 0)"),
])
def test_an_edited_part_is_refused_naming_the_file_and_the_column(column, values, message, tmp_path):
    path = _part(tmp_path)
    _rewrite(path, column, values)
    with pytest.raises(ValueError) as caught:
        read_part(path)
    assert str(caught.value).startswith(f"results part {path} is invalid: {message}")
    assert str(caught.value).endswith("delete it and rerun the sweep command to recompute it")


@pytest.mark.parametrize("values, dtype, stored", [
    (["many"] * N, pa.string(), "string"),
    ([1.5] * N, pa.float64(), "double"),
])
def test_values_of_another_type_are_refused(values, dtype, stored, tmp_path):
    path = _part(tmp_path)
    _rewrite(path, "forward_evals", values, dtype)
    with pytest.raises(ValueError, match=f"is invalid: column forward_evals holds {stored} values that are "
                                         "not int64; it was edited"):
        read_part(path)


def test_the_report_refuses_an_edited_part_in_one_line(tmp_path, capsys):
    path = _part(tmp_path)
    _rewrite(path, "forward_evals", [-1] * N)
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wmbench: error: results part {path} is invalid: column forward_evals")
    assert err.count("\n") == 1


def test_a_rerun_recomputes_an_edited_part(tmp_path):
    (path,) = _sweep(tmp_path)
    clean = read_part(path)
    _rewrite(path, "forward_evals", [-1] * clean.num_rows)
    assert _sweep(tmp_path) == [path]
    assert read_part(path).column("forward_evals").equals(clean.column("forward_evals"))
