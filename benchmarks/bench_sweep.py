"""Sweep throughput: serial vs ``--workers N`` local processes vs ``--executor ray`` (a local Ray instance,
at most N units in flight).

The sweep is iteration-budgeted (GBP, MPC, on the ``dev`` PointMaze tasks), so every executor must give the
same rows (checked: all columns but timing, host, concurrency and command). The world model is the reference
state model, untrained (the same work as a trained one). Each executor first runs a short warm-up sweep (one
small unit per worker: its worker processes start and import torch); start-up is reported on its own. Then the
executors take turns, ``--repeats`` rounds, and the medians are reported (load on a shared machine drifts).
For each: wall seconds of the sweep, its throughput ratio to serial, the mean seconds of a unit inside its
worker, and the executor's overhead per unit: ``(wall x slots - sum of unit seconds) / units`` as a fraction
of a unit (slots idle while the driver transports, schedules and writes; contention between units shows in the
unit seconds instead). The load average is printed: on a shared machine the numbers are only indicative.

``--uneven``: instead, 27 units of uneven size, GBP, CEM and GBP+OWM MPC on Wall at 4, 8 and 16 iterations, 3
planner seeds, 30 tasks each (a CEM unit costs about 60 GBP units): the case in which the order units are
handed out in decides the wall time (the sweep hands out the longest expected unit first,
`wmbench.harness.schedule`). The ratio "with start-up" adds each executor's start-up (and its warm-up sweep)
to its wall time.

    .venv/bin/python benchmarks/bench_sweep.py [--units 12] [--n-tasks 10] [--budget it:20] [--workers 2]
                                               [--repeats 3] [--uneven]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from wmbench.harness.executors import Executor, Job, ProcessExecutor, RayExecutor, SerialExecutor
from wmbench.harness.schema import read_results
from wmbench.harness.sweep import SweepConfig, run_sweep
from wmbench.models.state_model import StateWorldModel
from wmbench.planning import parse_budgets
from wmbench.registry import make_env

ENV = "pointmaze"
UNEVEN_ENV, UNEVEN_ENTRIES = "wall", ("GBP", "CEM", "GBP+OWM")
KEY = ["entry", "env", "task", "budget_value", "seed", "mode"]
MACHINE = ["planning_seconds", "host", "concurrent_units", "command"]


class Recorder(Executor):
    """Wraps an executor and records the seconds each job took where it ran."""

    def __init__(self, inner: Executor):
        self.inner, self.seconds = inner, []

    def share(self, obj):
        return self.inner.share(obj)

    def submit(self, job: Job) -> None:
        self.inner.submit(job)

    def completed(self):
        for job, outcome in self.inner.completed():
            self.seconds.append(outcome.seconds)
            yield job, outcome

    def close(self) -> None:
        self.inner.close()


def sweep_config(seeds: tuple[int, ...], args: argparse.Namespace) -> SweepConfig:
    """The benchmark's sweep for planner ``seeds``: uniform GBP units, or the ``--uneven`` mix."""
    if args.uneven:
        return SweepConfig(UNEVEN_ENTRIES, (UNEVEN_ENV,), parse_budgets("it:4,8,16"), seeds=seeds, mode="mpc",
                           split="dev", n_tasks=30)
    return SweepConfig(("GBP",), (ENV,), parse_budgets(args.budget), seeds=seeds, mode="mpc", split="dev",
                       n_tasks=args.n_tasks)


def warm_up_config(env: str, workers: int) -> SweepConfig:
    """One small GBP unit per worker: enough for each worker process to start and import torch."""
    return SweepConfig(("GBP",), (env,), parse_budgets("it:1"), seeds=tuple(range(1000, 1000 + workers)),
                       mode="mpc", split="dev", n_tasks=2)


def sweep(executor: Executor, out: Path, config: SweepConfig, model: torch.nn.Module) -> tuple[float, float]:
    """Wall seconds of one sweep into ``out``, and the sum of its units' seconds in the workers."""
    models = {(env, variant): model for env in config.envs for variant in ("base", "owm")}
    recorder = Recorder(executor)
    start = time.perf_counter()
    run_sweep(config, out, models, progress=False, executor=recorder)
    return time.perf_counter() - start, sum(recorder.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=12, help="sweep units (planner seeds)")
    parser.add_argument("--n-tasks", type=int, default=10, help="tasks per unit")
    parser.add_argument("--budget", default="it:20", help="iteration budget per plan call")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (and Ray tasks)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (executors interleaved; medians)")
    parser.add_argument("--uneven", action="store_true", help="27 uneven units (see the module docstring)")
    args = parser.parse_args()
    torch.manual_seed(0)
    env = UNEVEN_ENV if args.uneven else ENV
    model = StateWorldModel(env, make_env(env).state_dim)
    seeds = tuple(range(3 if args.uneven else args.units))
    units = 27 if args.uneven else args.units
    what = f"{', '.join(UNEVEN_ENTRIES)} MPC it:4,8,16 x 30 {env} tasks" if args.uneven else \
        f"GBP MPC {args.budget} x {args.n_tasks} {env} tasks"
    print(f"{units} units of {what}, {args.repeats} rounds; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    makers = {"serial": (1, SerialExecutor),
              f"--workers {args.workers}": (args.workers, lambda: ProcessExecutor(args.workers)),
              "--executor ray": (args.workers, lambda: RayExecutor(workers=args.workers))}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        executors, startup, walls, busy, rows = {}, {}, {}, {}, {}
        for name, (_, make) in makers.items():
            start = time.perf_counter()
            executors[name] = stack.enter_context(make())
            sweep(executors[name], Path(tmp) / name / "warm-up", warm_up_config(env, args.workers), model)
            startup[name] = time.perf_counter() - start
        for r in range(args.repeats):
            for name, executor in executors.items():
                out = Path(tmp) / name / f"round{r}"
                wall, seconds = sweep(executor, out, sweep_config(seeds, args), model)
                walls.setdefault(name, []).append(wall)
                busy.setdefault(name, []).append(seconds)
                rows[name] = read_results(out).drop(columns=MACHINE).sort_values(KEY, ignore_index=True)
    serial_wall = statistics.median(walls["serial"])
    print(f"{'executor':<16} {'start-up s':>10} {'sweep s':>8} {'throughput':>10} {'with start-up':>13} "
          f"{'unit s':>7} {'overhead/unit':>14} {'same rows':>9}")
    for name, (slots, _) in makers.items():
        wall = statistics.median(walls[name])
        unit = statistics.median(busy[name]) / units
        overheads = [(w * slots - b) / b for w, b in zip(walls[name], busy[name], strict=True)]
        print(f"{name:<16} {startup[name]:>10.1f} {wall:>8.1f} {serial_wall / wall:>9.2f}x "
              f"{serial_wall / (wall + startup[name]):>12.2f}x {unit:>7.2f} "
              f"{statistics.median(overheads):>13.1%} {str(rows[name].equals(rows['serial'])):>9}")
    print(f"medians over {args.repeats} rounds; load average now {os.getloadavg()[0]:.1f}")
    for name, frame in rows.items():
        differ = [c for c in frame.columns if not frame[c].equals(rows["serial"][c])]
        if differ:
            print(f"{name}: rows differ from serial's in {', '.join(differ)}")


if __name__ == "__main__":
    main()
