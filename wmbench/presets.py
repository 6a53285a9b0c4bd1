"""Named end-to-end runs: build datasets, train world models, evaluate entries, write the report.

``quick`` is the README's main job (minutes on 2 CPU cores): small datasets, state models (base, OWM, AWM)
per env, the five headline entries in MPC and open-loop on the ``dev`` task split at several wall-clock
budgets. ``full`` uses the full datasets and the 100-task ``test`` split with three seeds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from wmbench.envs import ENVS
from wmbench.harness.entries import HEADLINE_ENTRIES
from wmbench.harness.executors import Executor, Job
from wmbench.training.config import VARIANTS, TrainConfig


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
                   executor: Executor | None = None, config: TrainConfig | None = None) -> None:
    """Build the preset's datasets and train its world models with ``config`` (default ``TrainConfig()``),
    reusing what already exists.

    Datasets are built here. Without an executor (or with an in-process one) the models train here, one
    after the other; otherwise they train as parallel jobs on ``executor`` (:func:`_train_jobs`).
    """
    from wmbench import data, training

    config = config or TrainConfig()
    for env in preset.envs:
        data.build(data.default_dataset(env), preset.dataset_size, home=home, progress=progress)
    if executor is not None and not executor.in_process:
        _train_jobs(preset, home, progress, executor, config)
        return
    for env in preset.envs:
        for variant in VARIANTS:
            training.train(env, preset.model, variant, preset.dataset_size, home=home, config=config,
                           progress=progress)


def _train_jobs(preset: Preset, home: Path | None, progress: bool, executor: Executor,
                config: TrainConfig) -> None:
    """One job per env x variant x seed still to train, OWM and AWM submitted when their base is done.

    Each job receives the loaded dataset and the checkpoints it starts from, and returns checkpoint bytes,
    which are verified and written under ``home`` here (:mod:`wmbench.training.jobs`): workers need no
    shared filesystem.
    """
    from wmbench import data
    from wmbench.training.jobs import TrainSpec, install_checkpoint, needs_training, train_job

    datasets: dict[str, Any] = {}
    specs: dict[str, TrainSpec] = {}
    bar = tqdm(total=0, desc="train", unit="model", disable=not progress, dynamic_ncols=True)

    def submit(spec: TrainSpec) -> None:
        if not needs_training(spec, home):
            if spec.variant == "base":
                for variant in VARIANTS[1:]:
                    submit(spec.with_variant(variant))
            return
        if spec.env not in datasets:
            name = data.default_dataset(spec.env)
            datasets[spec.env] = executor.share(data.load(name, spec.dataset_size, home))
        paths = {v: spec.with_variant(v).path(home) for v in dict.fromkeys(("base", spec.variant))}
        start_from = {v: path.read_bytes() for v, path in paths.items() if path.is_file()}
        key = f"train {spec.env} {spec.model} {spec.variant} {spec.dataset_size} seed {spec.seed}"
        specs[key] = spec
        executor.submit(Job(key, train_job, (spec, datasets[spec.env], start_from), threads=preset.threads))
        bar.total += 1

    with bar:
        for env in preset.envs:
            submit(TrainSpec(env, preset.model, "base", preset.dataset_size, config=config))
        for job, outcome in executor.completed():
            spec = specs[job.key]
            if outcome.error is not None:
                raise RuntimeError(f"{job.key}: {outcome.error}")
            install_checkpoint(outcome.value, spec.path(home))
            bar.update()
            if spec.variant == "base":
                for variant in VARIANTS[1:]:
                    submit(spec.with_variant(variant))


def run_preset(name: str, out_dir: Path, home: Path | None = None, progress: bool = True,
               leaderboard: Path | None = None, executor: Executor | None = None,
               threads: int | None = None) -> RunOutcome:
    """Run preset ``name`` end to end into ``out_dir``; returns the leaderboard path and failed units.

    ``executor`` runs the training jobs and sweep units (default: serially here); ``threads`` overrides the
    preset's torch threads per job.
    """
    from wmbench.harness.budgets import parse_budgets
    from wmbench.harness.sweep import SweepConfig, run_sweep
    from wmbench.report import report

    preset = get_preset(name)
    preset = preset if threads is None else replace(preset, threads=threads)
    start = time.perf_counter()
    prepare_models(preset, home, progress, executor)
    trained = time.perf_counter()
    source = checkpoint_source(preset.model, preset.dataset_size, home)
    failed = []
    for mode in preset.modes:
        config = SweepConfig(entries=preset.entries, envs=preset.envs, budgets=parse_budgets(preset.budgets),
                             seeds=preset.seeds, mode=mode, split=preset.split, n_tasks=preset.n_tasks,
                             threads=preset.threads)
        failed += run_sweep(config, out_dir, source, command=f"wmbench run --preset {name}",
                            progress=progress, executor=executor).failed
    done = time.perf_counter()
    out = report(out_dir, out_dir if leaderboard is None else leaderboard.parent,
                 plots_dir=out_dir / "plots")
    print(f"preset {name}: data + training {trained - start:.0f} s, evaluation {done - trained:.0f} s, "
          f"total {time.perf_counter() - start:.0f} s; leaderboard: {out}")
    return RunOutcome(out, failed)


def checkpoint_source(model: str, dataset_size: str, home: Path | None = None, seed: int = 0):
    """A harness model source reading the trained checkpoints of ``wmbench train``."""
    from wmbench.harness.sweep import checkpoint_models
    from wmbench.models.checkpoint import checkpoint_path

    def path_for(env: str, variant: str) -> Path:
        return checkpoint_path(env, model, variant, dataset_size, seed, home)

    return checkpoint_models(path_for)
