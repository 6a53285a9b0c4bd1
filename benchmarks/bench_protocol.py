"""A protocol's wall time stage by stage (datasets, training, evaluation, report), and the evaluation's
share per family of units (the curves, the Oracle, Table 1's other cells).

Runs `wmbench.presets.run` on a preset (default ``full``) cut to its first ``--n-tasks`` tasks per level and
to ``--model-seeds``, into ``--out`` (default: a scratch folder) with the models of ``--home``, and prints
each stage's wall seconds, then their projection to the whole protocol. The evaluation runs every unit in
one queue, so its families are told apart by their units' planning seconds (each unit's longest episode)
in the rows: the curves and Table 1 scale with the tasks (an upper bound: a larger batch spreads each plan
call's fixed cost) and the model seeds, the Oracle (no world model) with the tasks; the evaluation's wall
time is projected by the ratio of projected to measured unit seconds. Training scales with the model seeds;
datasets are built once. Models and datasets already under ``--home`` are reused (their stage then measures
~0 s). Without ``--n-tasks`` and with every model seed it runs the whole protocol and the projection is the
measurement.

    .venv/bin/python benchmarks/bench_protocol.py [--preset full] [--n-tasks 25] [--model-seeds 0]
                                                  [--workers 2] [--home DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from wmbench import tasks
from wmbench.harness.executors import make_executor
from wmbench.harness.schema import read_results
from wmbench.io import wmbench_home
from wmbench.planning import parse_budgets
from wmbench.presets import Preset, get_preset, run


def family_seconds(rows: pd.DataFrame, preset: Preset) -> dict[str, float]:
    """Planning seconds of each family's units (a unit's longest episode): ``curves`` (the preset's entries
    at its budgets), ``Oracle`` and ``Table 1`` (the rest)."""
    units = rows.groupby("unit_id").agg(entry=("entry", "first"), budget=("budget_value", "max"),
                                        seconds=("planning_seconds", "max"))
    grid = {budget.iterations for budget in parse_budgets(preset.budgets)}
    family = ["Oracle" if entry == "Oracle" else "curves" if entry in preset.entries and budget in grid
              else "Table 1" for entry, budget in zip(units["entry"], units["budget"], strict=True)]
    return units.groupby(family)["seconds"].sum().to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="full")
    parser.add_argument("--n-tasks", type=int, default=25, help="first tasks per level (0: all)")
    parser.add_argument("--model-seeds", default="0", help="comma-separated training seeds (default 0)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--home", type=Path, default=None, help="WMBENCH_HOME (default: $WMBENCH_HOME)")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: a scratch one)")
    args = parser.parse_args()
    full = get_preset(args.preset)
    seeds = tuple(int(s) for s in args.model_seeds.split(","))
    preset = replace(full, n_tasks=args.n_tasks or None, model_seeds=seeds, frozen=False)
    per_level = min(tasks.load(env, full.split).level_counts()[level] for env in full.envs
                    for level in full.levels)
    by_tasks, by_seeds = per_level / (args.n_tasks or per_level), len(full.model_seeds) / len(seeds)
    with tempfile.TemporaryDirectory() as scratch, make_executor("local", args.workers) as executor:
        out = args.out or Path(scratch) / "results"
        outcome = run(preset, out, f"benchmarks/bench_protocol.py --preset {args.preset}", home=args.home or
                      wmbench_home(), progress=False, executor=executor)
        families = family_seconds(read_results(out), preset)
    family_factor = {"curves": by_tasks * by_seeds, "Oracle": by_tasks, "Table 1": by_tasks * by_seeds}
    projected_families = {name: s * family_factor[name] for name, s in families.items()}
    factors = {"datasets": 1.0, "training": by_seeds, "report": 1.0,
               "evaluation": sum(projected_families.values()) / sum(families.values())}
    projected = {stage: seconds * factors[stage] for stage, seconds in outcome.stages.items()}
    total, whole = sum(outcome.stages.values()), sum(projected.values())
    print(f"\n{args.preset}: {args.n_tasks or per_level} of {per_level} tasks per level, model seeds "
          f"{args.model_seeds} of {len(full.model_seeds)}, {args.workers} workers")
    print(f"{'stage':12s} {'measured s':>11s} {'share':>6s} {'x':>6s} {'projected s':>12s} {'share':>6s}")
    for stage, seconds in outcome.stages.items():
        print(f"{stage:12s} {seconds:11.0f} {seconds / total:6.0%} {factors[stage]:6.1f} "
              f"{projected[stage]:12.0f} {projected[stage] / whole:6.0%}")
    print(f"{'total':12s} {total:11.0f} {'':6s} {'':6s} {whole:12.0f}  ({whole / 3600:.2f} h)")
    print("\nevaluation by family: units' planning seconds (CPU, one thread each)")
    unit_total, projected_total = sum(families.values()), sum(projected_families.values())
    for name, seconds in families.items():
        print(f"{name:12s} {seconds:11.0f} {seconds / unit_total:6.0%} {family_factor[name]:6.1f} "
              f"{projected_families[name]:12.0f} {projected_families[name] / projected_total:6.0%}")
    if outcome.failed:
        print(f"{len(outcome.failed)} units failed: {outcome.failed[0]}")


if __name__ == "__main__":
    main()
