"""Sweep runner: entry x env x budget x seed over a task suite, written as resumable Parquet parts.

A *unit* is one (entry, env, budget group, seed): all tasks of the suite are planned together in each plan
call. Open-loop runs one plan call per unit whose anytime snapshots give every budget (one unit per seed); MPC
runs each budget as its own unit. Each finished unit is written atomically to
``RESULTS_DIR/parts/<unit>.parquet``; rerunning the same command skips finished units, so an interrupted sweep
resumes where it stopped. A unit's file name carries a hash of everything that defines it, so a changed
setting never reuses an old part.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from wmbench.harness.entries import ORACLE, Entry, resolve_entry
from wmbench.harness.machine import device_name, file_sha256, machine_info
from wmbench.harness.schema import PARTS, SCHEMA_VERSION, write_part
from wmbench.planning import Budget, Objective
from wmbench.planning.control import MODES, EpisodeRecord, run_episodes
from wmbench.registry import make_env

#: Budget-list prefixes: none = wall-clock seconds, ``it:`` = iterations, ``ev:`` = forward model evaluations.
BUDGET_PREFIXES = {"": "seconds", "it": "iterations", "ev": "evaluations"}

ModelSource = Callable[[str, str], Any] | Mapping[tuple[str, str], Any]
"""``(env, variant) -> world model`` as a callable or a mapping; a failing lookup gives error rows. The
``oracle`` variant is never asked for: it is the simulator (``wmbench.baselines.oracle.SimulatorModel``)."""
TaskSource = Callable[[str, str], Any]
"""``(env, split) -> TaskSuite`` (default :func:`wmbench.tasks.load`)."""


@dataclass(frozen=True)
class BudgetSpec:
    """A sweep's budgets: one kind and ascending values."""

    kind: str
    values: tuple[float, ...]

    def budget(self, value: float) -> Budget:
        return Budget(**{self.kind: value if self.kind == "seconds" else int(value)})


def parse_budgets(text: str) -> BudgetSpec:
    """Parse ``"0.01,0.03,0.1"`` (seconds), ``"it:10,30,100"`` (iterations) or ``"ev:..."`` (evaluations)."""
    prefix, sep, body = text.partition(":")
    if not sep:
        prefix, body = "", text
    usage = "use e.g. '0.01,0.03,0.1' (seconds), 'it:10,30,100' (iterations) or 'ev:300,3000' (evaluations)"
    if prefix.strip() not in BUDGET_PREFIXES:
        raise ValueError(f"malformed budget list {text!r}: unknown prefix {prefix!r}; {usage}")
    kind = BUDGET_PREFIXES[prefix.strip()]
    try:
        values = [float(v) for v in body.split(",")]
    except ValueError:
        raise ValueError(f"malformed budget list {text!r}: not comma-separated numbers; {usage}") from None
    whole = kind == "seconds" or all(v == int(v) for v in values if np.isfinite(v))
    if not all(np.isfinite(v) and v > 0 for v in values) or not whole:
        raise ValueError(f"malformed budget list {text!r}: budgets must be positive"
                         f"{'' if kind == 'seconds' else ' whole numbers'}; {usage}")
    if len(set(values)) != len(values):
        raise ValueError(f"malformed budget list {text!r}: duplicate budgets")
    return BudgetSpec(kind, tuple(sorted(values)))


@dataclass(frozen=True)
class SweepConfig:
    """What to run. ``n_tasks`` takes a prefix of the suite; ``max_steps`` overrides the suite's MPC cap;
    ``objective`` is the :class:`~wmbench.planning.Objective` weighting ("exponential" or "last")."""

    entries: tuple[str, ...]
    envs: tuple[str, ...]
    budgets: BudgetSpec
    seeds: tuple[int, ...] = (0,)
    mode: str = "mpc"
    split: str = "test"
    n_tasks: int | None = None
    horizon: int = 5
    execute_steps: int = 1
    max_steps: int | None = None
    objective: str = "exponential"
    threads: int = 1


@dataclass(frozen=True)
class _Unit:
    entry: Entry
    env: str
    values: tuple[float, ...]
    seed: int

    def path(self, results_dir: Path, config: SweepConfig, suite_sha: str) -> Path:
        settings = ("mode", "split", "n_tasks", "horizon", "execute_steps", "max_steps", "objective")
        key = {"entry": asdict(self.entry), "env": self.env, "kind": config.budgets.kind,
               "values": self.values, "seed": self.seed, "suite": suite_sha, "schema": SCHEMA_VERSION,
               **{k: getattr(config, k) for k in settings}}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]
        budget = f"{self.values[0]:g}" if len(self.values) == 1 else f"{len(self.values)}budgets"
        name = (f"{self.entry.name}__{self.env}__{config.mode}__{config.budgets.kind}-{budget}"
                f"__seed{self.seed}")
        return results_dir / PARTS / f"{re.sub(r'[^A-Za-z0-9._+-]', '_', name)}__{digest}.parquet"


def checkpoint_models(path_for: Callable[[str, str], str | Path]) -> ModelSource:
    """A :data:`ModelSource` loading ``checkpoint.load(path_for(env, variant))`` and recording its sha256."""
    from wmbench.models import checkpoint

    def load(env: str, variant: str) -> Any:
        path = path_for(env, variant)
        model = checkpoint.load(path)
        model.metadata["checkpoint_hash"] = file_sha256(path)
        return model

    return load


def _simulator(env: str) -> Any:
    from wmbench.baselines.oracle import SimulatorModel

    return SimulatorModel(env)


def _default_tasks(env: str, split: str) -> Any:
    from wmbench import tasks

    return tasks.load(env, split)


def validate_config(config: SweepConfig) -> list[Entry]:
    """Resolve the entries of ``config``; a one-line ``ValueError`` for anything unknown."""
    if config.mode not in MODES:
        raise ValueError(f"unknown control mode {config.mode!r}; choose one of {MODES}")
    if not config.entries or not config.envs or not config.seeds:
        raise ValueError("a sweep needs at least one entry, env and seed")
    Objective(config.objective)  # a clear ValueError for an unknown weighting
    if config.threads < 1:
        raise ValueError(f"threads must be >= 1, got {config.threads}")
    for env in config.envs:
        make_env(env)
    return [resolve_entry(name) for name in config.entries]


def _units(config: SweepConfig, entries: list[Entry]) -> list[_Unit]:
    groups = [config.budgets.values] if config.mode == "open-loop" else [(v,) for v in config.budgets.values]
    return [_Unit(entry, env, values, seed) for env in config.envs for entry in entries
            for seed in config.seeds for values in groups]


def run_sweep(config: SweepConfig, results_dir: str | Path, models: ModelSource, *,
              tasks: TaskSource | None = None, command: str = "", progress: bool = True) -> list[Path]:
    """Run every unfinished unit of ``config`` into ``results_dir``; returns all the sweep's part files.

    Pins ``torch.set_num_threads(config.threads)`` (recorded in every row). Bad configuration (unknown env,
    entry or mode) raises ``ValueError`` before anything runs; a failing model or planner gives error rows.
    """
    entries = validate_config(config)
    torch.set_num_threads(config.threads)
    results_dir = Path(results_dir)
    load_tasks = tasks or _default_tasks
    suites = {env: load_tasks(env, config.split) for env in config.envs}
    if config.n_tasks is not None:
        suites = {env: s.head(config.n_tasks) for env, s in suites.items()}
    machine = machine_info(config.threads)
    model_cache: dict[tuple[str, str], Any] = {}
    units = _units(config, entries)
    paths = [u.path(results_dir, config, suites[u.env].sha256) for u in units]
    todo = [(u, p) for u, p in zip(units, paths, strict=True) if not p.exists()]
    bar = tqdm(todo, desc="sweep", unit="unit", disable=not progress, initial=len(units) - len(todo),
               total=len(units), dynamic_ncols=True)
    for unit, path in bar:
        bar.set_postfix_str(f"{unit.entry.name} {unit.env} {unit.values[-1]:g} seed {unit.seed}",
                            refresh=False)
        key = (unit.env, unit.entry.variant)
        if key not in model_cache:
            try:
                model_cache[key] = (_simulator(unit.env) if unit.entry.variant == ORACLE
                                    else models[key] if isinstance(models, Mapping) else models(*key))
            except Exception as exc:  # a missing or broken model gives error rows, never a crashed sweep
                model_cache[key] = exc
        rows = _run_unit(unit, config, suites[unit.env], model_cache[key])
        write_part([{**row, **machine, "command": command} for row in rows], path)
    bar.close()
    return paths


def _run_unit(unit: _Unit, config: SweepConfig, suite: Any, model: Any) -> list[dict]:
    """The unit's result rows; any failure (model, planner construction, episode loop) becomes error rows."""
    budgets = [config.budgets.budget(v) for v in unit.values]
    if isinstance(model, Exception):
        error = f"model {unit.env}/{unit.entry.variant}: {type(model).__name__}: {model}"
    else:
        try:
            records = run_episodes(unit.env, model, unit.entry.make_planner(), budgets, suite, config.mode,
                                   horizon=config.horizon, max_steps=config.max_steps,
                                   execute_steps=config.execute_steps, seed=unit.seed,
                                   objective=Objective(config.objective))
            return _rows(records, unit, config, suite, model)
        except Exception as exc:  # a broken unit gives error rows, never a crashed sweep
            error = f"{type(exc).__name__}: {exc}"
    error = error.splitlines()[0]
    tqdm.write(f"wmbench sweep: {unit.entry.name} on {unit.env} (seed {unit.seed}) failed: {error}",
               file=sys.stderr)
    records = [EpisodeRecord(i, b, False, float("nan"), 0, 0, 0.0, 0, 0, 0, False, error)
               for b in budgets for i in range(len(suite.starts))]
    return _rows(records, unit, config, suite, model)


#: Result columns copied from :class:`EpisodeRecord` fields of the same name.
_RECORD_COLUMNS = ("success", "final_distance", "steps", "replans", "planning_seconds", "iterations",
                   "forward_evals", "backward_evals", "overrun", "error")


def _rows(records: list[EpisodeRecord], unit: _Unit, config: SweepConfig, suite: Any, model: Any
          ) -> list[dict]:
    """Result rows (without the machine columns) for a unit's episode records."""
    ok = not isinstance(model, Exception)
    metadata = getattr(model, "metadata", {}) if ok else {}
    device = next(iter(model.parameters()), torch.empty(0)).device if ok and hasattr(model, "parameters") \
        else torch.device("cpu")
    max_steps = config.max_steps or suite.max_steps
    kind = config.budgets.kind
    shared = {
        "entry": unit.entry.name, "env": unit.env, "budget_kind": kind, "seed": unit.seed,
        "mode": config.mode,
        "variant": unit.entry.variant, "planner": unit.entry.planner, "upper_bound": unit.entry.upper_bound,
        "horizon": config.horizon, "execute_steps": config.execute_steps, "objective": config.objective,
        "max_steps": config.horizon * int(getattr(model, "frameskip", 0)) if config.mode == "open-loop"
        else max_steps,
        "batch_size": len(suite.starts), "split": config.split, "task_suite": str(suite.version),
        "task_suite_sha256": str(suite.sha256), "dataset_hash": str(metadata.get("dataset_hash") or ""),
        "checkpoint_hash": str(metadata.get("checkpoint_hash") or ""), "schema_version": SCHEMA_VERSION,
        "device": device_name(device),
    }
    return [{**shared, "task": r.episode, "budget_value": float(getattr(r.budget, kind)),
             **{k: getattr(r, k) for k in _RECORD_COLUMNS}} for r in records]
