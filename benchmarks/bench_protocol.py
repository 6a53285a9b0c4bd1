"""A protocol's wall time stage by stage: datasets, training, the curves, the Oracle, Table 1's cells, report.

Runs `wmbench.presets.run` on a preset (default ``full``) cut to its first ``--n-tasks`` tasks per level and
to ``--model-seeds``, into ``--out`` (default: a scratch folder) with the models of ``--home``, and prints
each stage's wall seconds and share, then their projection to the whole protocol: the evaluation stages
scale with the tasks (an upper bound: a larger batch spreads each plan call's fixed cost) and, but for the
Oracle's (it has no world model), with the model seeds; training scales with the model seeds; datasets are
built once. Models and datasets already under ``--home`` are reused (their stage then measures ~0 s).
Without ``--n-tasks`` and with every model seed it runs the whole protocol and the projection is the
measurement.

    .venv/bin/python benchmarks/bench_protocol.py [--preset full] [--n-tasks 25] [--model-seeds 0]
                                                  [--workers 2] [--home DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from wmbench import tasks
from wmbench.harness.executors import make_executor
from wmbench.io import wmbench_home
from wmbench.presets import get_preset, run


def projection_factors(full_tasks: int, tasks_run: int, full_seeds: int, seeds_run: int) -> dict[str, float]:
    """Stage -> factor from the cut run to the whole protocol (see the module docstring)."""
    by_tasks, by_seeds = full_tasks / tasks_run, full_seeds / seeds_run
    return {"datasets": 1.0, "training": by_seeds, "curves": by_tasks * by_seeds, "Oracle": by_tasks,
            "Table 1": by_tasks * by_seeds, "report": 1.0}


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
    home = args.home or wmbench_home()
    with tempfile.TemporaryDirectory() as scratch, make_executor("local", args.workers) as executor:
        out = args.out or Path(scratch) / "results"
        outcome = run(preset, out, f"benchmarks/bench_protocol.py --preset {args.preset}", home,
                      progress=False, executor=executor)
    factors = projection_factors(per_level, args.n_tasks or per_level, len(full.model_seeds), len(seeds))
    projected = {stage: seconds * factors[stage] for stage, seconds in outcome.stages.items()}
    total, whole = sum(outcome.stages.values()), sum(projected.values())
    print(f"\n{args.preset}: {args.n_tasks or per_level} of {per_level} tasks per level, model seeds "
          f"{args.model_seeds} of {len(full.model_seeds)}, {args.workers} workers")
    print(f"{'stage':10s} {'measured s':>11s} {'share':>6s} {'x':>6s} {'projected s':>12s} {'share':>6s}")
    for stage, seconds in outcome.stages.items():
        print(f"{stage:10s} {seconds:11.0f} {seconds / total:6.0%} {factors[stage]:6.1f} "
              f"{projected[stage]:12.0f} {projected[stage] / whole:6.0%}")
    print(f"{'total':10s} {total:11.0f} {'':6s} {'':6s} {whole:12.0f}  ({whole / 3600:.2f} h)")
    if outcome.failed:
        print(f"{len(outcome.failed)} units failed: {outcome.failed[0]}")


if __name__ == "__main__":
    main()
