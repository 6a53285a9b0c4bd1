"""Reproduce the paper's Table 1 and its time-budget claim on this machine (``wmbench reproduce ...``).

Both run on the 500-task ``test`` split of the default task suites (or the 60-task ``dev`` split, for world
models too slow to plan 500 episodes on a CPU), level by level, through the world models of every training
seed of the preset (``quick``: one per variant, ``full``: three), each planner with the protocol's paper
settings (`wmbench.protocols.PAPER_PLANNER_SETTINGS`: GBP weighs all frames by 0.5^t and executes one
planning step per MPC replan, CEM and the Oracle score the last frame and execute the whole horizon).

Table 1: GD-GBP, Adam-GBP and CEM on the base, OWM and AWM world models, open-loop and MPC, with iteration
budgets at the paper's settings (GBP: 300 steps open-loop, 100 per MPC replan; CEM: 30 iterations of 300
samples, top 30); open-loop plans cover each level's open-loop length. The Oracle (CEM at 300 / 30 through
the simulator) runs at CEM's budget as the ceiling.

The data-scaling study: the headline entries (GBP, GBP+OWM, GBP+AWM at 100 Adam steps per MPC replan, CEM
and MPPI at 30 iterations) through world models trained on each dataset size (one base model per size, early
stopped on its validation error, and its OWM / AWM fine-tunings), MPC, on the first 100 tasks of each level of
the ``test`` split, one results folder per size (``OUT/SIZE``) and the Oracle once (``OUT/oracle``);
``wmbench report OUT/oracle OUT/SIZE ... --out OUT`` writes ``SCALING.md`` and ``plots/scaling.png``.

The budget claim: Adam-GBP on base/OWM/AWM and CEM on base, MPC in the preset's protocol, at wall-clock
budgets per plan call from 3 ms to 10 s (run one unit at a time, never under contention), and the time at
which GBP+AWM/OWM/GBP first reaches CEM's best success, as a bracket on the budget grid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wmbench.harness.executors import Executor
from wmbench.presets import (
    TABLE1_BUDGETS,
    Preset,
    RunOutcome,
    get_preset,
    prepare_models,
    sweep_levels,
    table1_sweeps,
)

BUDGET_ENTRIES = ("GBP", "GBP+OWM", "GBP+AWM", "CEM")
BUDGET_SECONDS = "0.003,0.01,0.03,0.1,0.3,1,3,10"
#: The data-scaling study: entries by budget family (the paper's MPC budgets), its dataset sizes and tasks.
SCALING_ENTRIES = {"gbp": ("GBP", "GBP+OWM", "GBP+AWM"), "cem": ("CEM", "MPPI")}
SCALING_SIZES = ("small", "full", "xl")
SCALING_TASKS = 100


@dataclass(frozen=True)
class _Run:
    preset: Preset
    out_dir: Path
    home: Path | None
    command: str
    started: float
    executor: Executor | None = None
    device: str = "cpu"
    failed: list[str] = field(default_factory=list)


def _start(what: str, preset_name: str, out_dir: Path | None, home: Path | None, model: str,
           seeds: tuple[int, ...] | None, executor: Executor | None, threads: int | None,
           device: str, envs: tuple[str, ...] | None, split: str, entries: tuple[str, ...], budgets: str,
           trained: bool, n_tasks: int | None = None, extra: str = "", **changes: Any) -> _Run:
    """Resolve the preset (the whole ``split``, default ``test``, or its first ``n_tasks`` per level;
    ``envs``, default all; other preset fields from ``changes``), check a sweep of ``entries`` at ``budgets``
    with `wmbench.harness.sweep.prepare` before any training, and train or reuse its world models on
    ``device`` (the frozen reference models unless ``trained``). ``extra``: options of ``what`` for the
    recorded command."""
    from wmbench.harness.sweep import SweepConfig, prepare
    from wmbench.models.device import resolve_device
    from wmbench.planning import parse_budgets

    started = time.perf_counter()
    device = resolve_device(device)
    preset = replace(get_preset(preset_name), model=model, split=split, n_tasks=n_tasks, frozen=not trained,
                     **changes)
    preset = preset if envs is None else replace(preset, envs=tuple(envs))
    preset = preset if seeds is None else replace(preset, seeds=seeds)
    preset = preset if threads is None else replace(preset, threads=threads)
    prepare(SweepConfig(entries=entries, envs=preset.envs, budgets=parse_budgets(budgets),
                        seeds=preset.seeds, split=split, threads=preset.threads, device=device))
    options = {"--seeds": None if seeds is None else ",".join(map(str, seeds)),
               "--env": None if envs is None else ",".join(envs),
               "--split": None if split == "test" else split, "--device": None if device == "cpu" else device,
               "--n-tasks": n_tasks, "--trained": "" if trained else None}
    command = f"wmbench reproduce {what} --preset {preset_name} --model {model}" + "".join(
        f" {flag} {value}".rstrip() for flag, value in options.items() if value is not None) + extra
    prepare_models(preset, home, executor=executor, device=device)
    return _Run(preset, Path(out_dir or default_out_dir(what, preset_name)), home, command, started, executor,
                device)


def default_out_dir(what: str, preset_name: str) -> Path:
    """Where ``wmbench reproduce WHAT --preset NAME`` writes without ``--out``: ``runs/WHAT-NAME``."""
    return Path(f"runs/{what}-{preset_name}")


def _sweep(run: _Run, families: list[tuple[tuple[str, ...], str, str]], **overrides: Any) -> None:
    """`wmbench.presets.sweep_levels` of ``run``'s preset (``(entries, budgets, mode)`` families, one queue)
    into its results folder."""
    run.failed.extend(sweep_levels(run.preset, families, run.out_dir, run.home, run.command,
                                   executor=run.executor, device=run.device, **overrides))


def _finish(run: _Run, name: str) -> RunOutcome:
    from wmbench.report import report

    report(run.out_dir)
    path = run.out_dir / name
    print(path.read_text())
    print(f"total {time.perf_counter() - run.started:.0f} s")
    return RunOutcome(path, run.failed)


def reproduce_table1(preset_name: str = "quick", out_dir: Path | None = None, home: Path | None = None,
                     model: str = "state", seeds: tuple[int, ...] | None = None,
                     executor: Executor | None = None, threads: int | None = None,
                     device: str = "cpu", envs: tuple[str, ...] | None = None,
                     split: str = "test", trained: bool = False, n_tasks: int | None = None) -> RunOutcome:
    """Train (if needed: ``trained``, or models the zoo does not ship), run every Table 1 cell and the Oracle
    on ``device`` (the first ``n_tasks`` tasks per level, default all), and write ``TABLE1.md``."""
    sweeps = table1_sweeps("mpc")
    run = _start("table1", preset_name, out_dir, home, model, seeds, executor, threads, device, envs, split,
                 tuple(name for names, _ in sweeps for name in names), TABLE1_BUDGETS["mpc"]["cem"],
                 trained, n_tasks)
    _sweep(run, [(names, budgets, mode) for mode in TABLE1_BUDGETS for names, budgets in table1_sweeps(mode)])
    return _finish(run, "TABLE1.md")


def reproduce_budget(preset_name: str = "quick", out_dir: Path | None = None, home: Path | None = None,
                     model: str = "state", seeds: tuple[int, ...] | None = None,
                     executor: Executor | None = None, threads: int | None = None,
                     device: str = "cpu", envs: tuple[str, ...] | None = None,
                     split: str = "test", trained: bool = False, n_tasks: int | None = None) -> RunOutcome:
    """Run the time-budget sweep on ``device`` and write the report and ``BUDGET.md`` (models and tasks as
    for `reproduce_table1`)."""
    run = _start("budget", preset_name, out_dir, home, model, seeds, executor, threads, device, envs, split,
                 BUDGET_ENTRIES, BUDGET_SECONDS, trained, n_tasks)
    _sweep(run, [(BUDGET_ENTRIES, BUDGET_SECONDS, "mpc")])
    return _finish(run, "BUDGET.md")


def reproduce_scaling(preset_name: str = "full", out_dir: Path | None = None, home: Path | None = None,
                      model: str = "state", seeds: tuple[int, ...] | None = None,
                      executor: Executor | None = None, threads: int | None = None,
                      device: str = "cpu", envs: tuple[str, ...] | None = None,
                      split: str = "test", trained: bool = False, sizes: tuple[str, ...] = SCALING_SIZES,
                      n_tasks: int = SCALING_TASKS) -> RunOutcome:
    """Train (one model seed per variant and size, reusing what exists) and run the data-scaling study on
    ``envs`` (default PushT), then write ``SCALING.md`` and its figure into ``out_dir``."""
    from wmbench.report import report

    out = Path(out_dir or default_out_dir("scaling", preset_name))
    envs = envs or ("pusht",)
    names = tuple(name for family in SCALING_ENTRIES.values() for name in family)
    failed: list[str] = []
    runs = []
    for size in sizes:
        run = _start("scaling", preset_name, out / size, home, model, seeds, executor, threads, device, envs,
                     split, names, TABLE1_BUDGETS["mpc"]["gbp"], trained, n_tasks,
                     f" --sizes {','.join(sizes)}", dataset_size=size, model_seeds=(0,), modes=("mpc",))
        if not runs:  # the Oracle first: it needs no world model
            oracle = replace(run, out_dir=out / "oracle", failed=[])
            _sweep(oracle, [(("Oracle",), TABLE1_BUDGETS["mpc"]["cem"], "mpc")])
            report(oracle.out_dir)
        _sweep(run, [(entries, TABLE1_BUDGETS["mpc"][family], "mpc")
                     for family, entries in SCALING_ENTRIES.items()])
        report(run.out_dir)
        failed += run.failed
        runs.append(run)
    path = report([oracle.out_dir, *(run.out_dir for run in runs)], out)
    print(path.read_text())
    print(f"total {time.perf_counter() - runs[0].started:.0f} s")
    return RunOutcome(path, failed + oracle.failed)
