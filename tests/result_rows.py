"""Hand-made result rows (full schema) for the report tests."""

from __future__ import annotations

from collections.abc import Sequence

from wmbench.harness.schema import COLUMNS, SCHEMA_VERSION


def episode_rows(entry: str, budget: float, successes: int | Sequence[bool], n: int = 10, *,
                 seconds: float | None = None, first_task: int = 0, **columns) -> list[dict]:
    """``n`` episodes (tasks ``first_task`` on) of one unit; ``successes``: the first k tasks succeed, or one
    flag per task. ``seconds``: measured planning seconds per plan call (default: the budget). Any schema
    column can be overridden; ``unit_id`` defaults to one id per (entry, env, mode, kind, budget, level,
    model seed), and ``iterations`` to a count that grows with the budget (so two budgets are different runs,
    not merged by the report, unless a test makes them the same)."""
    flags = [i < successes for i in range(n)] if isinstance(successes, int) else list(successes)
    row = dict.fromkeys(COLUMNS, "x")
    row.update(env="pusht", mode="mpc", budget_kind="seconds", budget_value=float(budget), seed=0, level="",
               final_distance=1.0, steps=50, replans=10, forward_evals=100, backward_evals=100,
               overrun=False, error=None, upper_bound=entry == "Oracle", horizon=5, execute_steps=1,
               objective="exponential", max_steps=50, batch_size=len(flags), schema_version=SCHEMA_VERSION,
               threads=1, entry=entry, coverage=float("nan"), concurrent_units=1, model_seed=0,
               dataset_episodes=0)
    row.update(columns)
    if "iterations" not in columns:
        row["iterations"] = row["replans"] * max(1, round(1000 * row["budget_value"]))
    row["planning_seconds"] = row["replans"] * (row["budget_value"] if seconds is None else seconds)
    if "unit_id" not in columns:
        key = [row[c] for c in ("entry", "env", "mode", "budget_kind", "budget_value", "level", "model_seed")]
        row["unit_id"] = "-".join(map(str, key))
    return [{**row, "task": first_task + i, "success": bool(flag)} for i, flag in enumerate(flags)]
