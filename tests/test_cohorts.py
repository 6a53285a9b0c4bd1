"""Rows pair only within one protocol, task suite, world model per variant and — for seconds — machine."""

from __future__ import annotations

import pandas as pd
import pytest
from result_rows import episode_rows

from wmbench.harness.schema import COLUMNS
from wmbench.report.cohorts import cohorts
from wmbench.report.integrity import check
from wmbench.report.leaderboard import render

SAME = dict(protocol="quick", protocol_sha256="p1", task_suite_sha256="s1", machine="m1", variant="base",
            checkpoint_hash="base-0")


def table(*entries: tuple[str, dict], kind: str = "iterations") -> pd.DataFrame:
    rows = []
    for entry, columns in entries:
        rows += episode_rows(entry, 4, 6, budget_kind=kind, **{**SAME, **columns})
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.mark.parametrize("other, reason", [
    ({"protocol": "", "protocol_sha256": "p2"}, "another protocol (none p2 vs quick p1)"),
    ({"task_suite_sha256": "s2"}, "another task suite (s2 vs s1)"),
    ({"checkpoint_hash": "retrained"}, "another base world model for model seed 0 (retrained vs base-0)"),
])
def test_rows_of_another_protocol_suite_or_world_model_are_not_paired(other, reason):
    rows = table(("CEM", {}), ("GBP", {"variant": "awm", "checkpoint_hash": "awm-0"}), ("Mine", other))
    first, second = cohorts(rows, ["CEM", "GBP", "Mine"], "CEM")
    assert set(first.rows["entry"]) == {"CEM", "GBP"} and first.reason == ""
    assert set(second.rows["entry"]) == {"Mine"} and second.reason == reason


def test_machines_matter_for_seconds_budgets_only():
    mine = ("Mine", {"machine": "a laptop"})
    assert len(cohorts(table(("CEM", {}), mine, kind="iterations"), ["CEM", "Mine"], "CEM")) == 1
    first, second = cohorts(table(("CEM", {}), mine, kind="seconds"), ["CEM", "Mine"], "CEM")
    assert second.reason == "another machine under seconds budgets (a laptop vs m1)"


def test_the_leaderboard_shows_unpaired_entries_apart_with_the_reason():
    rows = table(("CEM", {}), ("GBP", {}), ("Mine", {"checkpoint_hash": "retrained"}))
    text = render(check(rows), {}, "wmbench report x")
    paired, apart = text.split("Not paired with the entries above (Mine): another base world model")
    assert "| CEM |" in paired and "| GBP |" in paired and "Δ vs CEM" in paired and "| Mine |" not in paired
    assert "| Mine |" in apart and "No CEM rows in this table" in apart
