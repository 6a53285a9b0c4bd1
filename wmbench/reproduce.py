"""Reproduce the paper's Table 1 and its time-budget claim on this machine (``wmbench reproduce ...``).

Table 1: GD-GBP, Adam-GBP and CEM on the base, OWM and AWM world models, open-loop and MPC, on the 100-task
``test`` suites, with iteration budgets at the paper's settings (GBP: 300 steps open-loop, 100 per MPC replan;
CEM: 30 iterations of 300 samples, top 30). As in the paper's code, GBP-MPC executes one planning step per
replan and CEM-MPC the whole horizon. The budget figure: Adam-GBP on base/OWM/AWM and CEM on base, MPC, at
wall-clock budgets per plan call, and the budget at which GBP+AWM/OWM first matches CEM's best success.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from wmbench.presets import VARIANTS, Preset, checkpoint_source, get_preset, prepare_models

TABLE1_BUDGETS = {"open-loop": {"gbp": "it:300", "cem": "it:30"}, "mpc": {"gbp": "it:100", "cem": "it:30"}}
CEM_MPC_EXECUTE_STEPS = 5
BUDGET_ENTRIES = ("GBP", "GBP+OWM", "GBP+AWM", "CEM")
BUDGET_SECONDS = "0.03,0.1,0.3,1,3"


def _command(what: str, preset: str, model: str, seeds: tuple[int, ...] | None) -> str:
    seeds_option = "" if seeds is None else f" --seeds {','.join(map(str, seeds))}"
    return f"wmbench reproduce {what} --preset {preset} --model {model}{seeds_option}"


def _preset(name: str, model: str, seeds: tuple[int, ...] | None) -> Preset:
    preset = replace(get_preset(name), model=model, split="test", n_tasks=None)
    return preset if seeds is None else replace(preset, seeds=seeds)


def _sweep(preset: Preset, out_dir: Path, home: Path | None, command: str, **settings) -> None:
    from wmbench.harness.runner import SweepConfig, parse_budgets, run_sweep

    config = SweepConfig(envs=preset.envs, seeds=preset.seeds, split=preset.split, threads=preset.threads,
                         **{**settings, "budgets": parse_budgets(settings["budgets"])})
    run_sweep(config, out_dir, checkpoint_source(preset.model, preset.dataset_size, home), command=command)


def reproduce_table1(preset_name: str = "quick", out_dir: Path | None = None, home: Path | None = None,
                     model: str = "state", seeds: tuple[int, ...] | None = None) -> Path:
    """Train (if needed), run every Table 1 cell, and write ``TABLE1.md``; returns its path."""
    from wmbench.harness.schema import read_results
    from wmbench.report.table1 import table1_entries, table1_markdown

    preset = _preset(preset_name, model, seeds)
    out_dir = Path(out_dir or f"runs/table1-{preset_name}")
    command = _command("table1", preset_name, model, seeds)
    start = time.perf_counter()
    prepare_models(preset, home)
    entries = [table1_entries(variant) for variant in VARIANTS]
    gbp = tuple(name for gd, adam, _ in entries for name in (gd, adam))
    cem = tuple(name for *_, name in entries)
    for mode, budgets in TABLE1_BUDGETS.items():
        _sweep(preset, out_dir, home, command, entries=gbp, mode=mode, budgets=budgets["gbp"])
        _sweep(preset, out_dir, home, command, entries=cem, mode=mode, budgets=budgets["cem"],
               execute_steps=CEM_MPC_EXECUTE_STEPS if mode == "mpc" else 1)
    path = out_dir / "TABLE1.md"
    path.write_text(f"# Table 1 on this machine ({preset_name} preset, {model} world models)\n\n"
                    f"Regenerate: `{command}`\n\n" + table1_markdown(read_results(out_dir)))
    print(path.read_text())
    print(f"total {time.perf_counter() - start:.0f} s")
    return path


def reproduce_budget(preset_name: str = "quick", out_dir: Path | None = None, home: Path | None = None,
                     model: str = "state", seeds: tuple[int, ...] | None = None) -> Path:
    """Run the time-budget sweep, write plots, leaderboard and ``BUDGET.md``; returns its path."""
    from wmbench.harness.schema import read_results
    from wmbench.report import report
    from wmbench.report.table1 import budget_claim, budget_claim_markdown

    preset = _preset(preset_name, model, seeds)
    out_dir = Path(out_dir or f"runs/budget-{preset_name}")
    command = _command("budget", preset_name, model, seeds)
    start = time.perf_counter()
    prepare_models(preset, home)
    _sweep(preset, out_dir, home, command, entries=BUDGET_ENTRIES, mode="mpc", budgets=BUDGET_SECONDS)
    report(out_dir)
    claim = budget_claim(read_results(out_dir))
    path = out_dir / "BUDGET.md"
    path.write_text(f"# Time-budget claim on this machine ({preset_name} preset, {model} world models)\n\n"
                    f"Regenerate: `{command}`; curves: `leaderboard.md` and `plots/` here.\n\n"
                    + budget_claim_markdown(claim))
    print(path.read_text())
    print(f"total {time.perf_counter() - start:.0f} s")
    return path
