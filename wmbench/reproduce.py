"""Reproduce the paper's Table 1 and its time-budget claim on this machine (``wmbench reproduce ...``).

Both run on the 500-task ``test`` split of the v1 task suites (or the 60-task ``dev`` split, for world models
too slow to plan 500 episodes on a CPU), level by level, through the world models of every training seed of
the preset (``quick``: one per variant, ``full``: three).

Table 1: GD-GBP, Adam-GBP and CEM on the base, OWM and AWM world models, open-loop and MPC, with iteration
budgets at the paper's settings (GBP: 300 steps open-loop, 100 per MPC replan; CEM: 30 iterations of 300
samples, top 30) and its objective (all frames, weights 0.5^t). As in the paper's code, GBP-MPC executes one
planning step per replan and CEM-MPC the whole horizon; open-loop plans cover each level's open-loop length.
The Oracle runs at CEM's budget as the ceiling.

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
from wmbench.presets import Preset, RunOutcome, get_preset, prepare_models, sweep_levels
from wmbench.training.config import VARIANTS

TABLE1_BUDGETS = {"open-loop": {"gbp": "it:300", "cem": "it:30"}, "mpc": {"gbp": "it:100", "cem": "it:30"}}
#: The paper's objective (all predicted frames, weights 0.5^t) and MPC protocol per planner family.
TABLE1_OBJECTIVE = "exponential"
TABLE1_EXECUTE_STEPS = {"gbp": 1, "cem": 5}
BUDGET_ENTRIES = ("GBP", "GBP+OWM", "GBP+AWM", "CEM")
BUDGET_SECONDS = "0.003,0.01,0.03,0.1,0.3,1,3,10"


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
           trained: bool) -> _Run:
    """Resolve the preset (the whole ``split``, default ``test``; ``envs``, default all), check a sweep of
    ``entries`` at ``budgets`` with `wmbench.harness.sweep.prepare` before any training, and train or
    reuse its world models on ``device`` (the frozen reference models unless ``trained``)."""
    from wmbench.harness.sweep import SweepConfig, prepare
    from wmbench.models.device import resolve_device
    from wmbench.planning import parse_budgets

    started = time.perf_counter()
    device = resolve_device(device)
    preset = replace(get_preset(preset_name), model=model, split=split, n_tasks=None, frozen=not trained)
    preset = preset if envs is None else replace(preset, envs=tuple(envs))
    preset = preset if seeds is None else replace(preset, seeds=seeds)
    preset = preset if threads is None else replace(preset, threads=threads)
    prepare(SweepConfig(entries=entries, envs=preset.envs, budgets=parse_budgets(budgets),
                        seeds=preset.seeds, split=split, threads=preset.threads, device=device))
    options = {"--seeds": None if seeds is None else ",".join(map(str, seeds)),
               "--env": None if envs is None else ",".join(envs),
               "--split": None if split == "test" else split, "--device": None if device == "cpu" else device,
               "--trained": "" if trained else None}
    command = f"wmbench reproduce {what} --preset {preset_name} --model {model}" + "".join(
        f" {flag} {value}".rstrip() for flag, value in options.items() if value is not None)
    prepare_models(preset, home, executor=executor, device=device)
    return _Run(preset, Path(out_dir or default_out_dir(what, preset_name)), home, command, started, executor,
                device)


def default_out_dir(what: str, preset_name: str) -> Path:
    """Where ``wmbench reproduce WHAT --preset NAME`` writes without ``--out``: ``runs/WHAT-NAME``."""
    return Path(f"runs/{what}-{preset_name}")


def _sweep(run: _Run, entries: tuple[str, ...], budgets: str, mode: str, **overrides: Any) -> None:
    """`wmbench.presets.sweep_levels` of ``run``'s preset into its results folder."""
    run.failed.extend(sweep_levels(run.preset, entries, budgets, mode, run.out_dir, run.home, run.command,
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
                     split: str = "test", trained: bool = False) -> RunOutcome:
    """Train (if needed: ``trained``, or models the zoo does not ship), run every Table 1 cell and the Oracle
    on ``device``, and write ``TABLE1.md``."""
    from wmbench.report.table1 import table1_entries

    entries = [table1_entries(variant) for variant in VARIANTS]
    run = _start("table1", preset_name, out_dir, home, model, seeds, executor, threads, device, envs, split,
                 (*(name for names in entries for name in names), "Oracle"), TABLE1_BUDGETS["mpc"]["cem"],
                 trained)
    families = {"gbp": tuple(name for gd, adam, _ in entries for name in (gd, adam)),
                "cem": tuple(name for *_, name in entries)}
    for mode, budgets in TABLE1_BUDGETS.items():
        for family, names in families.items():
            execute = TABLE1_EXECUTE_STEPS[family] if mode == "mpc" else 1
            _sweep(run, names, budgets[family], mode, objective=TABLE1_OBJECTIVE, execute_steps=execute)
        _sweep(run, ("Oracle",), budgets["cem"], mode, objective=TABLE1_OBJECTIVE,
               execute_steps=TABLE1_EXECUTE_STEPS["cem"] if mode == "mpc" else 1)
    return _finish(run, "TABLE1.md")


def reproduce_budget(preset_name: str = "quick", out_dir: Path | None = None, home: Path | None = None,
                     model: str = "state", seeds: tuple[int, ...] | None = None,
                     executor: Executor | None = None, threads: int | None = None,
                     device: str = "cpu", envs: tuple[str, ...] | None = None,
                     split: str = "test", trained: bool = False) -> RunOutcome:
    """Run the time-budget sweep on ``device`` and write the report and ``BUDGET.md`` (models as for
    `reproduce_table1`)."""
    run = _start("budget", preset_name, out_dir, home, model, seeds, executor, threads, device, envs, split,
                 BUDGET_ENTRIES, BUDGET_SECONDS, trained)
    _sweep(run, BUDGET_ENTRIES, BUDGET_SECONDS, "mpc")
    return _finish(run, "BUDGET.md")
