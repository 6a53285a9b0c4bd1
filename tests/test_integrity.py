"""The report's integrity step: every episode counted once, curves that pool different runs refused."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from result_rows import episode_rows
from test_control import ToyModel
from test_harness import _sweep

from wmbench.cli import main
from wmbench.harness.schema import read_results, write_part
from wmbench.planning import parse_budgets
from wmbench.report import report
from wmbench.report.integrity import DETERMINING, check
from wmbench.report.table1 import budget_claim, table1_frame

torch.set_num_threads(1)


def test_overlapping_budget_lists_count_each_episode_once(tmp_path):
    _sweep(tmp_path, budgets=parse_budgets("it:1,2"))
    _sweep(tmp_path, budgets=parse_budgets("it:2,4"))
    raw = read_results(tmp_path)
    assert len(raw) == 16  # budget 2 stored by both units
    checked = check(raw)
    assert len(checked.rows) == 12 and not checked.rows.duplicated(["task", "budget_value"]).any()
    assert checked.duplicates[["entry", "dropped"]].values.tolist() == [["test_control:Straight", 4]]
    text = report(tmp_path).read_text()
    assert "| test_control:Straight | 25 [5–70] n=4 | 25 [5–70] n=4 | 25 [5–70] n=4 |" in text  # not n=8
    assert "Integrity: 4 duplicate episode row(s) dropped" in text
    assert "- test_control:Straight on test_control:ToyEnv (open-loop, iterations budgets): 4 row(s)" in text


def test_a_larger_task_subset_is_kept_whole(tmp_path):
    _sweep(tmp_path, n_tasks=2)
    _sweep(tmp_path, n_tasks=4)
    raw = read_results(tmp_path)
    larger = raw.loc[raw["batch_size"] == 4, "unit_id"].iloc[0]
    rows = check(raw).rows
    assert len(rows) == 8 and (rows["unit_id"] == larger).all()
    assert check(raw.iloc[::-1]).rows.equals(rows)  # the choice does not depend on the order parts are read


def test_an_identical_copy_of_a_part_is_counted_once(tmp_path):
    rows = episode_rows("CEM", 0.1, 3)
    write_part(rows, tmp_path / "parts" / "a.parquet")
    write_part(rows, tmp_path / "parts" / "copy of a.parquet")
    checked = check(read_results(tmp_path))
    assert len(checked.rows) == 10 and int(checked.duplicates["dropped"].sum()) == 10


def test_a_retrained_checkpoint_is_refused(tmp_path):
    def retrained(env, variant):
        model = ToyModel()
        model.metadata["checkpoint_hash"] = "ckpt1"
        return model

    _sweep(tmp_path, mode="mpc")
    _sweep(tmp_path, retrained, mode="mpc")
    raw = read_results(tmp_path)
    old, new = (raw.loc[raw["checkpoint_hash"] == h, "unit_id"].unique() for h in ("ckpt0", "ckpt1"))
    with pytest.raises(ValueError) as caught:
        report(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("results of entry test_control:Straight on test_control:ToyEnv (mpc, "
                              "iterations budgets, model seed -1) disagree on checkpoint_hash: 'ckpt0' in ")
    assert f"*__{old[0]}.parquet" in message and f"*__{new[0]}.parquet" in message and "'ckpt1'" in message
    assert f"move the part files of all but one checkpoint_hash out of {tmp_path}/parts" in message


@pytest.mark.parametrize(("column", "value"), [(c, 7) if c in ("horizon", "execute_steps", "max_steps")
                                                else (c, "other") for c in DETERMINING])
def test_every_result_determining_column_must_agree_within_a_curve(column, value):
    rows = episode_rows("CEM", 0.1, 3) + episode_rows("CEM", 1.0, 5, **{column: value})
    with pytest.raises(ValueError, match=rf"entry CEM on pusht \(mpc, seconds budgets, model seed 0\) "
                                         rf"disagree on {column}: .* vs .*RESULTS_DIR/parts") as caught:
        check(pd.DataFrame(rows))
    assert all(f"*__CEM-pusht-mpc-seconds-{b}--0.parquet" in str(caught.value) for b in ("0.1", "1.0"))


def test_batch_size_and_threads_determine_results_only_under_seconds_budgets():
    for column in ("batch_size", "threads"):
        rows = episode_rows("CEM", 0.1, 3) + episode_rows("CEM", 1.0, 5, **{column: 99})
        with pytest.raises(ValueError, match=f"disagree on {column}"):
            check(pd.DataFrame(rows))
        iterations = [{**r, "budget_kind": "iterations"} for r in rows]
        assert len(check(pd.DataFrame(iterations)).rows) == 20


def test_other_model_seeds_and_levels_are_separate_curves():
    rows = (episode_rows("CEM", 0.1, 3) + episode_rows("CEM", 0.1, 5, model_seed=1, checkpoint_hash="h1")
            + episode_rows("CEM", 0.1, 5, level="far", horizon=20))
    checked = check(pd.DataFrame(rows))
    assert len(checked.rows) == 30 and checked.duplicates.empty


def test_the_cli_refuses_in_one_line(tmp_path, capsys):
    rows = episode_rows("GBP", 0.1, 3) + episode_rows("GBP", 1.0, 5, horizon=10)
    write_part(rows, tmp_path / "parts" / "mixed.parquet")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wmbench: error: results of entry GBP on pusht") and err.count("\n") == 1
    assert "disagree on horizon: '10' in *__GBP-pusht-mpc-seconds-1.0--0.parquet vs '5' in " in err


def _levels(entry: str = "GBP", **far) -> list[dict]:
    """One model seed's ``near`` and ``far`` rows at two budgets (each level with its own horizon and step
    cap); ``far`` overrides columns of the far rows."""
    near = {"level": "near", "task_suite": "v1", "horizon": 5, "max_steps": 50}
    far = {**near, "level": "far", "horizon": 10, "max_steps": 80, **far}
    return [r for b in (0.1, 1.0)
            for r in episode_rows(entry, b, 3, **near) + episode_rows(entry, b, 5, **far)]


def test_one_model_seed_pools_its_levels_with_their_own_step_caps(tmp_path):
    write_part(_levels(), tmp_path / "parts" / "a.parquet")
    text = report(tmp_path).read_text()
    assert "### level far" in text and "### level near" in text
    assert (tmp_path / "plots" / "overview.png").stat().st_size > 0


def test_a_mixed_checkpoint_folder_is_refused_naming_the_checkpoints(tmp_path, capsys):
    write_part(_levels(checkpoint_hash="ckpt-far"), tmp_path / "parts" / "mixed.parquet")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and not (tmp_path / "leaderboard.md").exists()
    assert err.startswith(
        "wmbench: error: results of entry GBP on pusht (mpc, seconds budgets, model seed 0; the figures "
        "pool levels) disagree on checkpoint_hash: 'ckpt-far' (level far) in "
        "*__GBP-pusht-mpc-seconds-0.1-far-0.parquet, *__GBP-pusht-mpc-seconds-1.0-far-0.parquet vs 'x' "
        "(level near) in *__GBP-pusht-mpc-seconds-0.1-near-0")
    with pytest.raises(ValueError, match="disagree on checkpoint_hash"):  # Table 1 and the budget claim too
        table1_frame(read_results(tmp_path))
    with pytest.raises(ValueError, match="disagree on checkpoint_hash"):
        budget_claim(read_results(tmp_path), challengers=("GBP",))


def test_a_mixed_suite_version_folder_is_refused_naming_the_versions(tmp_path):
    v0 = [r for b in (0.1, 1.0) for r in episode_rows("GBP", b, 4, level="", task_suite="v0")]
    write_part(v0 + _levels(), tmp_path / "parts" / "mixed.parquet")
    with pytest.raises(ValueError) as caught:
        report(tmp_path)
    assert "disagree on task_suite: 'v0' (level none) in *__GBP-pusht-mpc-seconds-0.1--0.parquet" in \
        str(caught.value)
    assert "vs 'v1' (levels far, near) in " in str(caught.value)


def test_model_seeds_pooled_by_the_tables_must_share_the_suite_and_split(tmp_path):
    rows = _levels() + [{**r, "model_seed": 1, "checkpoint_hash": "h1"} for r in _levels()]
    assert len(check(pd.DataFrame(rows)).rows) == 80  # one checkpoint per model seed: pooled
    rows = _levels() + [{**r, "model_seed": 1, "checkpoint_hash": "h1", "split": "dev"} for r in _levels()]
    with pytest.raises(ValueError, match=r"\(mpc, seconds budgets; tables pool levels and model seeds\) "
                                         r"disagree on split: 'dev' \(levels far, near; model seed 1\) in "):
        check(pd.DataFrame(rows))
