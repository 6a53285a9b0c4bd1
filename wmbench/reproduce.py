"""Reproduce the paper's Table 1 and its time-budget claim on this machine (``wmbench reproduce ...``).

Table 1: GD-GBP, Adam-GBP and CEM on the base, OWM and AWM world models, open-loop and MPC, on the 100-task
``test`` suites, with iteration budgets at the paper's settings (GBP: 300 steps open-loop, 100 per MPC replan;
CEM: 30 iterations of 300 samples, top 30). As in the paper's code, GBP-MPC executes one planning step per
replan and CEM-MPC the whole horizon. The budget figure: Adam-GBP on base/OWM/AWM and CEM on base, MPC, at
wall-clock budgets per plan call, and the budget at which GBP+AWM/OWM first matches CEM's best success.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from wmbench.presets import Preset, RunOutcome, checkpoint_source, get_preset, prepare_models
from wmbench.training.config import VARIANTS

TABLE1_BUDGETS = {"open-loop": {"gbp": "it:300", "cem": "it:30"}, "mpc": {"gbp": "it:100", "cem": "it:30"}}
CEM_MPC_EXECUTE_STEPS = 5
BUDGET_ENTRIES = ("GBP", "GBP+OWM", "GBP+AWM", "CEM")
BUDGET_SECONDS = "0.03,0.1,0.3,1,3"


@dataclass(frozen=True)
class _Run:
    preset: Preset
    out_dir: Path
    command: str
    started: float
    device: str
    failed: list[str] = field(default_factory=list)


def _start(what: str, preset_name: str, out_dir: Path | None, home: Path | None, model: str,
           seeds: tuple[int, ...] | None, device: str) -> _Run:
    """Resolve the preset (100-task ``test`` split) and train or reuse its world models on ``device``."""
    from wmbench.models.device import resolve_device

    started = time.perf_counter()
    device = resolve_device(device)
    preset = replace(get_preset(preset_name), model=model, split="test", n_tasks=None)
    preset = preset if seeds is None else replace(preset, seeds=seeds)
    seeds_option = "" if seeds is None else f" --seeds {','.join(map(str, seeds))}"
    device_option = "" if device == "cpu" else f" --device {device}"
    command = f"wmbench reproduce {what} --preset {preset_name} --model {model}{seeds_option}{device_option}"
    prepare_models(preset, home, device=device)
    return _Run(preset, Path(out_dir or f"runs/{what}-{preset_name}"), command, started, device)


def _sweep(run: _Run, home: Path | None, **settings) -> None:
    from wmbench.harness.budgets import parse_budgets
    from wmbench.harness.sweep import SweepConfig, run_sweep

    preset = run.preset
    config = SweepConfig(envs=preset.envs, seeds=preset.seeds, split=preset.split, threads=preset.threads,
                         device=run.device, **{**settings, "budgets": parse_budgets(settings["budgets"])})
    source = checkpoint_source(preset.model, preset.dataset_size, home, device=run.device)
    run.failed.extend(run_sweep(config, run.out_dir, source, command=run.command).failed)


def _finish(run: _Run, name: str, title: str, body: str) -> RunOutcome:
    path = run.out_dir / name
    preset = run.preset
    path.write_text(f"# {title} on this machine ({preset.name} preset, {preset.model} world models)\n\n"
                    f"Regenerate: `{run.command}`\n\n{body}")
    print(path.read_text())
    print(f"total {time.perf_counter() - run.started:.0f} s")
    return RunOutcome(path, run.failed)


def reproduce_table1(preset_name: str = "quick", out_dir: Path | None = None, home: Path | None = None,
                     model: str = "state", seeds: tuple[int, ...] | None = None,
                     device: str = "cpu") -> RunOutcome:
    """Train (if needed), run every Table 1 cell on ``device``, and write ``TABLE1.md``."""
    from wmbench.harness.schema import read_results
    from wmbench.report.table1 import table1_entries, table1_markdown

    run = _start("table1", preset_name, out_dir, home, model, seeds, device)
    entries = [table1_entries(variant) for variant in VARIANTS]
    gbp = tuple(name for gd, adam, _ in entries for name in (gd, adam))
    cem = tuple(name for *_, name in entries)
    for mode, budgets in TABLE1_BUDGETS.items():
        _sweep(run, home, entries=gbp, mode=mode, budgets=budgets["gbp"])
        _sweep(run, home, entries=cem, mode=mode, budgets=budgets["cem"],
               execute_steps=CEM_MPC_EXECUTE_STEPS if mode == "mpc" else 1)
    return _finish(run, "TABLE1.md", "Table 1", table1_markdown(read_results(run.out_dir)))


def reproduce_budget(preset_name: str = "quick", out_dir: Path | None = None, home: Path | None = None,
                     model: str = "state", seeds: tuple[int, ...] | None = None,
                     device: str = "cpu") -> RunOutcome:
    """Run the time-budget sweep on ``device``, write plots, leaderboard and ``BUDGET.md``."""
    from wmbench.harness.schema import read_results
    from wmbench.report import report
    from wmbench.report.table1 import budget_claim, budget_claim_markdown

    run = _start("budget", preset_name, out_dir, home, model, seeds, device)
    _sweep(run, home, entries=BUDGET_ENTRIES, mode="mpc", budgets=BUDGET_SECONDS)
    report(run.out_dir)
    body = ("Curves: `leaderboard.md` and `plots/` here.\n\n"
            + budget_claim_markdown(budget_claim(read_results(run.out_dir))))
    return _finish(run, "BUDGET.md", "Time-budget claim", body)
