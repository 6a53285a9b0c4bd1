"""Named end-to-end runs: build datasets, train world models, evaluate entries, write the report.

``quick`` is the README's main job (minutes on 2 CPU cores): small datasets, state models (base, OWM, AWM)
per env, the five headline entries in MPC and open-loop on the ``dev`` task split at several wall-clock
budgets. ``full`` uses the full datasets and the 100-task ``test`` split with three seeds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from wmbench.envs import ENVS
from wmbench.harness.entries import HEADLINE_ENTRIES
from wmbench.training.config import VARIANTS


@dataclass(frozen=True)
class Preset:
    """Everything an end-to-end run does."""

    name: str
    dataset_size: str
    split: str
    n_tasks: int | None
    seeds: tuple[int, ...]
    budgets: str
    modes: tuple[str, ...] = ("mpc", "open-loop")
    entries: tuple[str, ...] = HEADLINE_ENTRIES
    envs: tuple[str, ...] = tuple(ENVS)
    model: str = "state"
    threads: int = 1


PRESETS = {
    "quick": Preset("quick", "small", "dev", None, (0,), "0.03,0.1,0.3,1"),
    "full": Preset("full", "full", "test", None, (0, 1, 2), "0.01,0.03,0.1,0.3,1,3"),
}


@dataclass
class RunOutcome:
    """Where a run's report went, and one line per sweep unit that failed (error rows were written)."""

    report: Path
    failed: list[str] = field(default_factory=list)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]


def prepare_models(preset: Preset, home: Path | None = None, progress: bool = True,
                   device: str = "cpu") -> None:
    """Build the preset's datasets and train its world models on ``device`` (reusing what already exists)."""
    from wmbench import data, training

    for env in preset.envs:
        data.build(f"{env}-expert-v0", preset.dataset_size, home=home, progress=progress)
        for variant in VARIANTS:
            training.train(env, preset.model, variant, preset.dataset_size, home=home, progress=progress,
                           device=device)


def run_preset(name: str, out_dir: Path, home: Path | None = None, progress: bool = True,
               leaderboard: Path | None = None, device: str = "cpu") -> RunOutcome:
    """Run preset ``name`` end to end into ``out_dir``, training and planning on ``device``; returns the
    leaderboard path and failed units."""
    from wmbench.harness.budgets import parse_budgets
    from wmbench.harness.sweep import SweepConfig, run_sweep
    from wmbench.models.device import resolve_device
    from wmbench.report import report

    preset = get_preset(name)
    device = resolve_device(device)
    start = time.perf_counter()
    prepare_models(preset, home, progress, device)
    trained = time.perf_counter()
    source = checkpoint_source(preset.model, preset.dataset_size, home, device=device)
    failed = []
    for mode in preset.modes:
        config = SweepConfig(entries=preset.entries, envs=preset.envs, budgets=parse_budgets(preset.budgets),
                             seeds=preset.seeds, mode=mode, split=preset.split, n_tasks=preset.n_tasks,
                             threads=preset.threads, device=device)
        failed += run_sweep(config, out_dir, source, command=f"wmbench run --preset {name}",
                            progress=progress).failed
    done = time.perf_counter()
    out = report(out_dir, out_dir if leaderboard is None else leaderboard.parent,
                 plots_dir=out_dir / "plots")
    print(f"preset {name}: data + training {trained - start:.0f} s, evaluation {done - trained:.0f} s, "
          f"total {time.perf_counter() - start:.0f} s; leaderboard: {out}")
    return RunOutcome(out, failed)


def checkpoint_source(model: str, dataset_size: str, home: Path | None = None, seed: int = 0,
                      device: str = "cpu"):
    """A harness model source reading the trained checkpoints of ``wmbench train`` onto ``device``."""
    from wmbench.harness.sweep import checkpoint_models
    from wmbench.models.checkpoint import checkpoint_path

    def path_for(env: str, variant: str) -> Path:
        return checkpoint_path(env, model, variant, dataset_size, seed, home)

    return checkpoint_models(path_for, device)
