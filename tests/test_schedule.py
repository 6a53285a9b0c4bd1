"""Longest-expected-unit-first scheduling: the estimate orders the reference planners as their measured
costs do, and a sweep hands its units to the executor in that order (its rows do not depend on it)."""

from __future__ import annotations

from dataclasses import replace

from test_executors import _config, _rows
from test_harness import toy_models, toy_tasks

from wmbench.harness.entries import resolve_entry
from wmbench.harness.executors import SerialExecutor
from wmbench.harness.schedule import expected_cost, longest_first
from wmbench.harness.sweep import prepare, run_sweep, run_sweeps
from wmbench.harness.units import Unit
from wmbench.planning import parse_budgets


def _unit(entry: str, env: str = "pusht", budget: str = "it:30", execute_steps: int = 5, tasks: int = 30
          ) -> Unit:
    return Unit(entry=resolve_entry(entry), env=env, mode="mpc", budgets=parse_budgets(budget), seed=0,
                split="dev", suite_version="2", suite_sha256="x", task_ids=tuple(range(tasks)), horizon=5,
                execute_steps=execute_steps, step_cap=50, objective="last", checkpoint_hash="x", threads=1,
                device="cpu")


def test_expected_costs_order_the_reference_planners_as_measured():
    cem, gbp = _unit("CEM"), _unit("GBP", budget="it:100", execute_steps=1)
    # committed Table 1 (PushT MPC, one thread): CEM about 5.5x GBP's seconds per episode; the PushT
    # simulator about 30x a learned model per rollout, PointMaze's and Wall's vectorised one cheaper
    assert 4 < expected_cost(cem) / expected_cost(gbp) < 8
    assert expected_cost(_unit("Oracle")) == 30 * expected_cost(cem)
    assert expected_cost(_unit("Oracle", env="wall")) < expected_cost(_unit("CEM", env="wall"))
    assert expected_cost(_unit("GBP-CEM")) == 4 * expected_cost(cem)  # 2 forward + 1 backward per sample
    assert expected_cost(_unit("CEM", tasks=60)) == 2 * expected_cost(cem)
    assert expected_cost(_unit("CEM", budget="ev:9000")) == expected_cost(cem)
    order = [cem, gbp, _unit("Oracle"), replace(cem, seed=1)]
    assert longest_first(order) == [order[2], cem, order[3], gbp]  # ties keep their order


class Recording(SerialExecutor):
    """A serial executor that records the order in which jobs are submitted, as a worker pool sees it."""

    in_process = False

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    def submit(self, job) -> None:
        self.keys.append(job.key)
        super().submit(job)


def test_a_sweep_submits_the_longest_units_first_with_the_same_rows(tmp_path):
    config = replace(_config(), mode="mpc", budgets=parse_budgets("it:1,3"), seeds=(0,))
    sweep = prepare(config, tasks=toy_tasks)
    executor = Recording()
    run_sweep(sweep, tmp_path / "lpt", toy_models, command="pytest", progress=False, executor=executor)
    # RandomShooting (8 samples) before Straight (1 candidate), 3 iterations before 1
    assert [key.split(" on ")[0] for key in executor.keys] == ["test_control:RandomShooting"] * 2 + [
        "test_control:Straight"] * 2
    assert ["iterations 3," in key for key in executor.keys] == [True, False, True, False]
    run_sweep(sweep, tmp_path / "serial", toy_models, command="pytest", progress=False)
    assert _rows(tmp_path / "lpt").equals(_rows(tmp_path / "serial"))


def test_several_sweeps_share_one_queue_longest_first(tmp_path):
    short = prepare(replace(_config(), mode="mpc", budgets=parse_budgets("it:1"), seeds=(0,),
                            entries=("test_control:Straight",)), tasks=toy_tasks)
    long = prepare(replace(_config(), mode="mpc", budgets=parse_budgets("it:3"), seeds=(0,),
                           entries=("test_control:RandomShooting",)), tasks=toy_tasks)
    executor = Recording()
    outcomes = run_sweeps([(short, toy_models), (long, toy_models)], tmp_path / "one", command="pytest",
                          progress=False, executor=executor)
    # the second sweep's longer unit is handed out before the first sweep's: no barrier between sweeps
    assert [key.split(" on ")[0] for key in executor.keys] == ["test_control:RandomShooting",
                                                               "test_control:Straight"]
    assert [outcome.ran for outcome in outcomes] == [1, 1] and not any(o.failed for o in outcomes)
    for sweep in (short, long):  # the same rows as the sweeps run one after the other, serially
        run_sweep(sweep, tmp_path / "apart", toy_models, command="pytest", progress=False)
    assert _rows(tmp_path / "one").equals(_rows(tmp_path / "apart"))
