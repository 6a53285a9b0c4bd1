"""Named end-to-end runs: build datasets, train world models, evaluate entries, write the report.

A preset is a named protocol (`wmbench.protocols`: ``quick``, ``full``) plus what runs under it: entries
on every env (``quick``: the five headline entries; ``full``: the four the paper reports, and Table 1's other
cells into the same folder). Every protocol evaluates on the default task suites (PushT v2, PointMaze and
Wall v1) level by level (``near`` and ``far``, each with its own MPC step cap), each planner with the paper's
objective and MPC execution (`wmbench.protocols.PAPER_PLANNER_SETTINGS`); open-loop plans cover the level's
open-loop length (5 planning steps for ``near``, 10 for ``far``). Budgets are iterations from 1 to CEM's
convergence, so every curve can rise and the results are bit-reproducible; the time axis of the report is the
measured seconds per plan call. The Oracle (CEM at 300 samples through the simulator) runs on the same tasks
as the ceiling. ``quick`` is the README's main job (about 11 minutes on 2 CPU cores with ``--workers 2``).

Table 1's cells (`table1_sweeps`): GD and Adam GBP through every variant at the paper's budgets (300 steps
open-loop, 100 per MPC replan), CEM through every variant and the Oracle at 30 iterations. In ``full`` the
Adam cells continue the GBP curves, and CEM's base cell and the Oracle's are units the curves already ran.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from wmbench.harness.entries import HEADLINE_ENTRIES, PAPER_ENTRIES
from wmbench.harness.executors import Executor, Job
from wmbench.protocols import PROTOCOLS, Protocol
from wmbench.training.config import VARIANTS, TrainConfig
from wmbench_envs import ENVS


@dataclass(frozen=True)
class Preset(Protocol):
    """An end-to-end run: a `Protocol` (its fields first) and what to run under it,
    the ``entries`` on the ``envs``, and with ``table1`` Table 1's cells (`table1_sweeps`); ``frozen``: plan
    through the frozen reference models where wmbench ships them ([`wmbench.models.zoo`][wmbench.models.zoo])
    instead of training."""

    entries: tuple[str, ...] = HEADLINE_ENTRIES
    envs: tuple[str, ...] = tuple(ENVS)
    frozen: bool = True
    table1: bool = False


#: One preset per named protocol: ``quick`` runs the headline entries, ``full`` the paper's and Table 1.
PRESETS = {"quick": Preset(**PROTOCOLS["quick"].settings),
           "full": Preset(**PROTOCOLS["full"].settings, entries=PAPER_ENTRIES, table1=True)}
#: Table 1's budgets per mode and planner family (the paper's: GBP steps, CEM iterations).
TABLE1_BUDGETS = {"open-loop": {"gbp": "it:300", "cem": "it:30"}, "mpc": {"gbp": "it:100", "cem": "it:30"}}


@dataclass
class RunOutcome:
    """Where a run's report went, one line per sweep unit that failed (error rows were written), and the
    wall seconds of each stage in the order run (`run`)."""

    report: Path
    failed: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]


def prepare_models(preset: Preset, home: Path | None = None, progress: bool = True,
                   executor: Executor | None = None, config: TrainConfig | None = None,
                   device: str = "cpu") -> dict[str, float]:
    """Build the preset's datasets and train its world models (every variant, every model seed) on
    ``device`` with ``config`` (default ``TrainConfig()``), reusing what already exists; returns the wall
    seconds of the two stages (``datasets``, ``training``).

    Models the zoo ships (``preset.frozen``) are neither trained nor need their dataset. Datasets are built
    here. Without an executor (or with an in-process one) the models train here, one after the other, on
    ``preset.threads`` torch threads; otherwise they train as parallel jobs on ``executor``
    (`_train_jobs`).
    """
    import torch

    from wmbench import data, training

    config = config or TrainConfig()
    start = time.perf_counter()
    todo = [(seed, env) for seed in preset.model_seeds for env in preset.envs
            if not _frozen(preset, env, seed)]
    for env in dict.fromkeys(env for _, env in todo):
        data.build(data.default_dataset(env), preset.dataset_size, home=home, progress=progress)
    built = time.perf_counter()
    if executor is not None and not executor.in_process:
        _train_jobs(preset, todo, home, progress, executor, config, device)
    else:
        torch.set_num_threads(preset.threads)
        for seed, env in todo:
            for variant in VARIANTS:
                training.train(env, preset.model, variant, preset.dataset_size, home=home, seed=seed,
                               config=config, progress=progress, device=device)
    return {"datasets": built - start, "training": time.perf_counter() - built}


def _frozen(preset: Preset, env: str, seed: int) -> bool:
    """Whether the preset plans through frozen models for ``env`` and training seed ``seed``, all variants."""
    from wmbench.models.zoo import frozen_checkpoint

    return preset.frozen and all(frozen_checkpoint(env, preset.model, variant, preset.dataset_size, seed)
                                 for variant in VARIANTS)


def _train_jobs(preset: Preset, todo: list[tuple[int, str]], home: Path | None, progress: bool,
                executor: Executor, config: TrainConfig, device: str) -> None:
    """One job per env x variant x seed of ``todo`` still to train, OWM and AWM submitted when their base is
    done.

    Each job receives the loaded dataset and the checkpoints it starts from, and returns checkpoint bytes,
    which are verified and written under ``home`` here (`wmbench.training.jobs`): workers need no
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
        executor.submit(Job(key, train_job, (spec, datasets[spec.env], start_from), threads=preset.threads,
                            gpus=int(device.startswith("cuda"))))
        bar.total += 1

    with bar:
        for seed, env in todo:
            submit(TrainSpec(env, preset.model, "base", preset.dataset_size, seed=seed, config=config,
                             device=device))
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
               threads: int | None = None, device: str = "cpu", trained: bool = False) -> RunOutcome:
    """Run preset ``name`` end to end into ``out_dir`` (`run`); ``threads`` overrides the preset's torch
    threads per job; ``trained`` plans through models trained under ``home`` (trained first if missing)
    instead of the frozen reference models."""
    preset = replace(get_preset(name), frozen=not trained)
    preset = preset if threads is None else replace(preset, threads=threads)
    command = f"wmbench run --preset {name}" + ("" if device == "cpu" else f" --device {device}") \
        + (" --trained" if trained else "")
    return run(preset, out_dir, command, home, progress, leaderboard, executor, device)


def run(preset: Preset, out_dir: Path, command: str, home: Path | None = None, progress: bool = True,
        leaderboard: Path | None = None, executor: Executor | None = None, device: str = "cpu",
        config: TrainConfig | None = None) -> RunOutcome:
    """Build, train (with ``config``, default ``TrainConfig()``), evaluate and report ``preset`` into
    ``out_dir``, training and planning on ``device``; ``command`` is recorded in the rows. ``executor`` runs
    the training jobs and the sweep units (default: serially here). Prints and returns the wall seconds of
    each stage: datasets, training, evaluation (every sweep of `evaluate` in one queue), the report."""
    from wmbench.models.device import resolve_device
    from wmbench.report import report

    device = resolve_device(device)
    stages = prepare_models(preset, home, progress, executor, config, device)
    failed = evaluate(preset, out_dir, home, command, progress, executor, device, stages=stages)
    start = time.perf_counter()
    out = report(out_dir, out_dir if leaderboard is None else leaderboard.parent,
                 plots_dir=out_dir / "plots")
    stages["report"] = time.perf_counter() - start
    print(f"{preset.name}: " + ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in stages.items())
          + f"; total {sum(stages.values()):.0f} s; leaderboard: {out}")
    return RunOutcome(out, failed, stages)


def evaluate(preset: Preset, out_dir: Path, home: Path | None, command: str, progress: bool = True,
             executor: Executor | None = None, device: str = "cpu", oracle: bool = True,
             stages: dict[str, float] | None = None) -> list[str]:
    """Sweep the preset's entries (through the world models of every model seed), with ``oracle`` the
    Oracle, and with ``preset.table1`` Table 1's other cells, over its modes and levels into ``out_dir``,
    every unit in one queue (`sweep_levels`); returns one line per failed unit and adds the wall seconds to
    ``stages["evaluation"]``."""
    families = []
    for mode in preset.modes:
        families.append((preset.entries, preset.budgets, mode))
        if oracle and preset.oracle_budgets is not None:
            families.append((("Oracle",), preset.oracle_budgets, mode))
        if preset.table1:
            families += _table1_to_run(preset, mode, oracle)
    start = time.perf_counter()
    failed = sweep_levels(preset, families, out_dir, home, command, progress, executor, device)
    if stages is not None:
        stages["evaluation"] = stages.get("evaluation", 0.0) + time.perf_counter() - start
    return failed


def _table1_to_run(preset: Preset, mode: str, oracle: bool) -> list[tuple[tuple[str, ...], str, str]]:
    """`table1_sweeps` of ``mode`` as ``(entries, budgets, mode)``, less the cells the preset's curves (and
    with ``oracle`` its Oracle) already ran."""
    from wmbench.planning import parse_budgets

    ran = {entry: set(parse_budgets(preset.budgets)) for entry in preset.entries}
    if oracle and preset.oracle_budgets is not None:
        ran["Oracle"] = set(parse_budgets(preset.oracle_budgets))
    sweeps = []
    for entries, budgets in table1_sweeps(mode):
        todo = tuple(e for e in entries if not set(parse_budgets(budgets)) <= ran.get(e, set()))
        if todo and (oracle or todo != ("Oracle",)):
            sweeps.append((todo, budgets, mode))
    return sweeps


def table1_sweeps(mode: str) -> list[tuple[tuple[str, ...], str]]:
    """Table 1's cells in ``mode`` as ``(entries, budgets)``: GD and Adam GBP through every variant, CEM
    through every variant, and the Oracle, at `TABLE1_BUDGETS`."""
    from wmbench.report.table1 import table1_entries

    entries = [table1_entries(variant) for variant in VARIANTS]
    budgets = TABLE1_BUDGETS[mode]
    return [(tuple(name for gd, adam, _ in entries for name in (gd, adam)), budgets["gbp"]),
            (tuple(cem for *_, cem in entries), budgets["cem"]), (("Oracle",), budgets["cem"])]


def protocol_preset(name: str, entries: tuple[str, ...], envs: tuple[str, ...], home: Path | None = None,
                    device: str = "cpu", trained: bool = False) -> Preset:
    """The preset that sweeps ``entries`` on ``envs`` exactly as protocol ``name`` sweeps the leaderboard's
    entries (every mode, level, budget, planner seed and model seed; through the frozen reference models
    unless ``trained``); run it with `evaluate` (``oracle=False``). Everything is checked first
    (`wmbench.harness.sweep.prepare`), every model seed's checkpoints included."""
    from wmbench.harness.sweep import SweepConfig, prepare
    from wmbench.planning import parse_budgets

    preset = replace(get_preset(name), entries=tuple(entries), envs=tuple(envs), frozen=not trained)
    for seed in preset.model_seeds:
        prepare(SweepConfig(entries=preset.entries, envs=preset.envs, budgets=parse_budgets(preset.budgets),
                            seeds=preset.seeds, split=preset.split, levels=preset.levels, device=device),
                checkpoint_source(preset.model, preset.dataset_size, home, seed, device, preset.frozen))
    return preset


def sweep_levels(preset: Preset, families: list[tuple[tuple[str, ...], str, str]], out_dir: Path,
                 home: Path | None, command: str, progress: bool = True, executor: Executor | None = None,
                 device: str = "cpu", **overrides: Any) -> list[str]:
    """Run the `level_sweeps` of every ``(entries, budgets, mode)`` of ``families`` into ``out_dir`` as one
    queue of units (`wmbench.harness.sweep.run_sweeps`: a parallel executor gets the longest first);
    returns one line per failed unit.

    Wall-clock (seconds) budgets always run one unit at a time, whatever ``executor``
    ([`wmbench.harness.sweep.PreparedSweep.serial`][wmbench.harness.sweep.PreparedSweep.serial]).
    """
    from wmbench.harness.sweep import run_sweeps

    sweeps = [sweep for entries, budgets, mode in families
              for sweep in level_sweeps(preset, entries, budgets, mode, home, device, **overrides)]
    outcomes = run_sweeps(sweeps, out_dir, command=command, progress=progress, executor=executor)
    return [line for outcome in outcomes for line in outcome.failed]


def level_sweeps(preset: Preset, entries: tuple[str, ...], budgets: str, mode: str, home: Path | None = None,
                 device: str = "cpu", **overrides: Any) -> list[tuple[Any, Any]]:
    """``(SweepConfig, model source)`` sweeping ``entries`` at ``budgets`` in ``mode``, level by level
    (``preset.sweeps``, with ``overrides``), through the world models of every model seed (the Oracle
    once). The rows record the preset's protocol ([`label`][wmbench.protocols.Protocol.label]: unnamed
    when ``overrides`` change it)."""
    from wmbench.harness.sweep import SweepConfig
    from wmbench.planning import parse_budgets

    parsed, sweeps = parse_budgets(budgets), []
    oracle = entries == ("Oracle",)
    protocol, protocol_sha256 = preset.label(**overrides)
    for names, settings in preset.sweeps(mode, entries):
        config = SweepConfig(entries=names, envs=preset.envs, budgets=parsed, device=device,
                             protocol=protocol, protocol_sha256=protocol_sha256, **{**settings, **overrides})
        for seed in (0,) if oracle else preset.model_seeds:
            source = {} if oracle else checkpoint_source(preset.model, preset.dataset_size, home, seed,
                                                         device, preset.frozen)
            sweeps.append((config, source))
    return sweeps


def checkpoint_source(model: str, dataset_size: str, home: Path | None = None, seed: int = 0,
                      device: str = "cpu", frozen: bool = True):
    """A harness model source reading, onto ``device``, the frozen reference checkpoints where the zoo has
    them (``frozen``) and otherwise those of ``wmbench train`` (training seed ``seed``); a missing one names
    the command that trains it."""
    from wmbench.harness.sweep import checkpoint_models
    from wmbench.models.zoo import find_checkpoint

    def path_for(env: str, variant: str) -> Path:
        return find_checkpoint(env, model, variant, dataset_size, seed, home, frozen)

    def train_hint(env: str, variant: str) -> str:
        return f"wmbench train {env} --model {model} --variant {variant} --size {dataset_size}" + \
            (f" --model-seed {seed}" if seed else "")

    return checkpoint_models(path_for, device, train_hint)
