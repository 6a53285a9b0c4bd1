"""Sweeps: entry x env x budget x seed over a task suite, written as resumable Parquet parts.

Open-loop runs one unit per (entry, env, seed) whose anytime milestones give every budget; MPC runs each
budget as its own unit (`wmbench.harness.units`). Units run on an executor (serial, local processes or
Ray, `wmbench.harness.executors`): each travels with its task suite and world model
(`wmbench.harness.transport`) and comes back as rows carrying the machine that ran it. Each finished
unit is written atomically to ``RESULTS_DIR/parts/<unit>.parquet`` by the driver process only. Before any unit
runs, the sweep's manifest lists them all (`wmbench.harness.manifest`), so that a sweep whose process
dies leaves a folder whose report names the missing units. Rerunning the same command skips a unit only when
its part is readable, complete, carries the unit's identity hash and holds no error rows: a corrupt or
incomplete part is recomputed, a failed unit is retried, and a changed setting or retrained checkpoint is a
new unit. A unit that fails (model, planner, episode loop, watchdog, tampering, or a worker that died twice)
gives error rows, one line on stderr, and counts in `SweepOutcome.failed`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from wmbench.harness import manifest
from wmbench.harness.entries import ORACLE, Entry, resolve_entry
from wmbench.harness.episodes import MODES, EpisodeRecord, episode_records, run_episodes
from wmbench.harness.executors import Executor, Job, Outcome, SerialExecutor
from wmbench.harness.machine import device_name, machine_info
from wmbench.harness.schedule import longest_first
from wmbench.harness.schema import PARTS, SCHEMA_VERSION, write_part
from wmbench.harness.transport import ModelPayload, pack, simulator, unpack, weights_hash
from wmbench.harness.units import Unit
from wmbench.harness.watchdog import PLAN_TIMEOUT
from wmbench.models.device import resolve_device
from wmbench.planning import Budget, Objective, planner_class
from wmbench.planning.budget import check_budget_list
from wmbench.planning.objective import WEIGHTINGS
from wmbench.registry import code_identity, make_env
from wmbench.training.config import VARIANTS

ModelSource = Callable[[str, str], Any] | Mapping[tuple[str, str], Any]
"""``(env, variant) -> world model`` as a callable or a mapping; a failing lookup gives error rows. The
``oracle`` variant is never asked for: it is the simulator (``wmbench.models.simulator.SimulatorModel``)."""
TaskSource = Callable[[str, str], Any]
"""``(env, split) -> TaskSuite`` (default [`wmbench.tasks.load`][wmbench.tasks.load])."""
#: Largest accepted seed (seeds feed numpy's and torch's generators).
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class SweepConfig:
    """What to run. ``levels`` keeps only the suite's tasks of those difficulty levels (None: all) and
    ``n_tasks`` then takes a prefix; ``step_cap`` overrides the suite's MPC step cap (by default the largest
    of the levels run); ``objective`` is the `Objective` weighting ("exponential"
    or "last"); ``device`` is where the world models plan (``cpu``, ``cuda``, ``cuda:N`` or ``auto``,
    resolved by `wmbench.models.device.resolve_device`); ``plan_timeout`` is the watchdog's limit in
    seconds for one plan call of up to 100 problems under an iteration or evaluation budget
    (`wmbench.harness.watchdog`; it is not part of a unit's identity); ``protocol`` / ``protocol_sha256``
    name the protocol the sweep runs under (``wmbench.protocols``; "" for an ad-hoc sweep), recorded in
    every row."""

    entries: tuple[str, ...]
    envs: tuple[str, ...]
    budgets: tuple[Budget, ...]
    seeds: tuple[int, ...] = (0,)
    mode: str = "mpc"
    split: str = "test"
    levels: tuple[str, ...] | None = None
    n_tasks: int | None = None
    horizon: int = 5
    execute_steps: int = 1
    step_cap: int | None = None
    objective: str = "exponential"
    threads: int = 1
    device: str = "cpu"
    plan_timeout: float = PLAN_TIMEOUT
    protocol: str = ""
    protocol_sha256: str = ""


@dataclass
class SweepOutcome:
    """What a sweep did: every part file of the sweep, and one line per failed unit."""

    parts: list[Path]
    ran: int = 0
    recomputed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PreparedSweep:
    """A sweep checked by `prepare`: its configuration (device resolved), its entries and its task
    suites (levels and ``n_tasks`` applied)."""

    config: SweepConfig
    entries: tuple[Entry, ...]
    suites: Mapping[str, Any]

    @property
    def serial(self) -> bool:
        """Whether its units run one at a time whatever the executor: wall-clock (seconds) budgets are never
        measured under contention from the sweep itself."""
        return self.config.budgets[0].kind == "seconds"


def prepare(config: SweepConfig, checkpoints: CheckpointModels | None = None, tasks: TaskSource | None = None
            ) -> PreparedSweep:
    """Everything a sweep checks before it runs, done once: the configuration, its entries (resolved, their
    planners built), its task suites (from ``tasks``, default `wmbench.tasks.load`) and, given
    ``checkpoints``, every world model it plans through (a trained variant, its checkpoint intact). A
    one-line ``ValueError`` (``FileNotFoundError`` for a missing checkpoint) for anything wrong.
    `run_sweep` runs the result and applies `PreparedSweep.serial`."""
    _validate(config)
    entries = tuple(resolve_entry(name) for name in config.entries)
    for entry in entries:
        if checkpoints is not None and entry.variant not in (*VARIANTS, ORACLE):
            raise ValueError(f"entry {entry.name!r}: unknown world-model variant {entry.variant!r}; "
                             f"choose one of {', '.join(VARIANTS)}")
        entry.make_planner()
    load_tasks = tasks or _default_tasks
    suites = {env: load_tasks(env, config.split) for env in config.envs}
    if config.levels is not None:
        suites = {env: s.select_levels(config.levels) for env, s in suites.items()}
    if config.n_tasks is not None:
        suites = {env: s.head(config.n_tasks) for env, s in suites.items()}
    if checkpoints is not None:
        for env in config.envs:
            for variant in dict.fromkeys(e.variant for e in entries if e.variant != ORACLE):
                checkpoints.check(env, variant)
    return PreparedSweep(replace(config, device=resolve_device(config.device)), entries, suites)


def _validate(config: SweepConfig) -> None:
    """A one-line ``ValueError`` for anything in ``config`` unknown or out of range."""
    if config.mode not in MODES:
        raise ValueError(f"unknown control mode {config.mode!r}; choose one of {MODES}")
    if config.objective not in WEIGHTINGS:
        raise ValueError(f"unknown objective {config.objective!r}; choose one of {WEIGHTINGS}")
    if not config.entries or not config.envs or not config.seeds:
        raise ValueError("a sweep needs at least one entry, env and seed")
    if not config.plan_timeout > 0:
        raise ValueError(f"plan_timeout must be > 0 seconds, got {config.plan_timeout}")
    for name, value, low in (("n_tasks", config.n_tasks, 1), ("step_cap", config.step_cap, 1),
                             ("horizon", config.horizon, 1), ("execute_steps", config.execute_steps, 1),
                             ("threads", config.threads, 1)):
        if value is not None and value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    if config.execute_steps > config.horizon:
        raise ValueError(f"execute_steps ({config.execute_steps}) must be <= horizon ({config.horizon})")
    check_budget_list(config.budgets)
    resolve_device(config.device)
    bad_seeds = [s for s in config.seeds if not 0 <= s <= MAX_SEED]
    if bad_seeds:
        raise ValueError(f"seeds must be in [0, {MAX_SEED}], got {bad_seeds[0]}")
    for env in config.envs:
        make_env(env)


def model_hash(model: Any) -> str:
    """The model's identity: ``metadata["checkpoint_hash"]`` when loaded from a checkpoint, else a sha256 of
    its class, ``metadata`` and ``state_dict``."""
    metadata = getattr(model, "metadata", {})
    if metadata.get("checkpoint_hash"):
        return str(metadata["checkpoint_hash"])
    digest = hashlib.sha256(f"{type(model).__module__}:{type(model).__qualname__}".encode())
    digest.update(json.dumps(metadata, sort_keys=True, default=str).encode())
    if isinstance(model, torch.nn.Module):
        for key, value in sorted(model.state_dict().items()):
            digest.update(key.encode())
            digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class CheckpointModels:
    """A `ModelSource` of trained checkpoints: ``checkpoint.load(path_for(env, variant), device)``
    (hash-verified); ``train_hint(env, variant)`` is the command that trains a missing one."""

    path_for: Callable[[str, str], str | Path]
    device: str = "cpu"
    train_hint: Callable[[str, str], str] | None = None

    def __call__(self, env: str, variant: str) -> Any:
        from wmbench.models import checkpoint

        return checkpoint.load(self.path_for(env, variant), self.device)

    def check(self, env: str, variant: str) -> None:
        """The checkpoint of (env, variant) exists and is intact (``checkpoint.read``); else a one-line
        error."""
        from wmbench.models import checkpoint

        path = Path(self.path_for(env, variant))
        if not path.exists():
            hint = f"; run `{self.train_hint(env, variant)}`" if self.train_hint else ""
            raise FileNotFoundError(f"no {variant} world model for {env} at {path}{hint}")
        checkpoint.read(path)


def checkpoint_models(path_for: Callable[[str, str], str | Path], device: str = "cpu",
                      train_hint: Callable[[str, str], str] | None = None) -> CheckpointModels:
    """A `ModelSource` reading trained checkpoints (see `CheckpointModels`)."""
    return CheckpointModels(path_for, device, train_hint)


def _simulator(env: str) -> Any:
    from wmbench.models.simulator import SimulatorModel

    return SimulatorModel(env)


def _default_tasks(env: str, split: str) -> Any:
    from wmbench import tasks

    return tasks.load(env, split)


def _load_models(config: SweepConfig, entries: list[Entry], models: ModelSource
                 ) -> dict[tuple[str, str], Any]:
    """Every (env, variant) model the sweep needs, or the exception that loading it raised."""
    loaded: dict[tuple[str, str], Any] = {}
    for env in config.envs:
        for variant in dict.fromkeys(e.variant for e in entries):
            try:
                if variant == ORACLE:
                    model = _simulator(env)
                else:
                    model = models[env, variant] if isinstance(models, Mapping) else models(env, variant)
                loaded[env, variant] = model
            except Exception as exc:  # a missing or broken model gives error rows, never a crashed sweep
                loaded[env, variant] = exc
    return loaded


def plan_units(config: SweepConfig, entries: list[Entry], suites: Mapping[str, Any],
               models: Mapping[tuple[str, str], Any]) -> list[Unit]:
    """The sweep's units in run order (env, entry, seed, budgets)."""
    groups = [config.budgets] if config.mode == "open-loop" else [(b,) for b in config.budgets]
    units = []
    for env in config.envs:
        suite = suites[env]
        for entry in entries:
            model = models[env, entry.variant]
            digest = f"missing: {type(model).__name__}" if isinstance(model, Exception) else model_hash(model)
            if entry.variant == ORACLE:
                digest = f"simulator-{digest[:16]}"
            step_cap = None if config.mode == "open-loop" else int(config.step_cap or suite.step_cap)
            planner_code = _code(planner_class(entry.planner))
            model_code = _code(None if isinstance(model, Exception) else type(model))
            for seed in config.seeds:
                for budgets in groups:
                    units.append(Unit(
                        entry=entry, env=env, mode=config.mode, budgets=tuple(budgets), seed=int(seed),
                        split=config.split,
                        suite_version=str(suite.version), suite_sha256=str(suite.sha256),
                        task_ids=tuple(int(i) for i in suite.ids), horizon=config.horizon,
                        execute_steps=config.execute_steps, step_cap=step_cap, objective=config.objective,
                        checkpoint_hash=digest, threads=config.threads, device=config.device,
                        protocol=config.protocol, protocol_sha256=config.protocol_sha256,
                        planner_code=planner_code, model_code=model_code))
    return units


def _code(cls: type | None) -> tuple[str, str]:
    """``(source sha256, version)`` of a plugin class (`wmbench.registry.code_identity`)."""
    if cls is None:
        return ("", "")
    code = code_identity(cls)
    return (code["source_sha256"], code["version"])


def run_sweep(sweep: SweepConfig | PreparedSweep, results_dir: str | Path, models: ModelSource, *,
              tasks: TaskSource | None = None, command: str = "", progress: bool = True,
              executor: Executor | None = None) -> SweepOutcome:
    """Run every unfinished unit of ``sweep`` into ``results_dir`` on ``executor`` (default: serially here;
    always serially for seconds budgets, `PreparedSweep.serial`).

    A `SweepConfig` is checked by `prepare` first (with ``tasks``); a `PreparedSweep` is
    not checked again. Each unit runs on ``config.threads`` torch threads (recorded in every row, with the
    host and the units running concurrently on it). Bad configuration (unknown env, entry or mode,
    out-of-range numbers, a results path that is a file) raises ``ValueError`` before anything runs; a
    failing model or planner gives error rows and a line in ``SweepOutcome.failed``.
    """
    return run_sweeps([(sweep, models)], results_dir, tasks=tasks, command=command, progress=progress,
                      executor=executor)[0]


def run_sweeps(sweeps: list[tuple[SweepConfig | PreparedSweep, ModelSource]], results_dir: str | Path, *,
               tasks: TaskSource | None = None, command: str = "", progress: bool = True,
               executor: Executor | None = None) -> list[SweepOutcome]:
    """`run_sweep` of several ``(sweep, models)`` into one results folder, their units in one queue: a
    parallel executor gets every unit of every sweep longest first (`longest_first`), so no sweep waits
    for the last unit of the one before. Sweeps of seconds budgets run after, one unit at a time; with a
    serial executor every sweep runs in turn, in its run order. Returns one `SweepOutcome` per sweep."""
    executor = executor or SerialExecutor()
    staged = [_Staged.plan(sweep, Path(results_dir), models, tasks, command) for sweep, models in sweeps]
    total = sum(len(one.units) for one in staged)
    bar = tqdm(total=total, initial=total - sum(len(one.todo) for one in staged), desc="sweep", unit="unit",
               disable=not progress, dynamic_ncols=True)
    try:
        shared = [s for s in staged if not s.sweep.serial and not executor.in_process]
        if shared:
            _run_staged(shared, executor, bar, longest_first)
        for one in staged:
            if one not in shared:
                if one.sweep.serial and not executor.in_process:
                    tqdm.write("wmbench sweep: seconds budgets run one unit at a time (never timed under "
                               "contention)", file=sys.stderr)
                _run_staged([one], SerialExecutor() if one.sweep.serial else executor, bar, list)
    finally:
        bar.close()
        for one in staged:
            one.outcome.failed = [one.failed[u] for u in one.todo if u in one.failed]  # in run order
    return [one.outcome for one in staged]


@dataclass(eq=False)
class _Staged:
    """One sweep of `run_sweeps`: its units, the unfinished ones (``todo``: id -> unit and part path), its
    loaded models and its outcome so far."""

    sweep: PreparedSweep
    units: list[Unit]
    todo: dict[str, tuple[Unit, Path]]
    loaded: dict[tuple[str, str], Any]
    command: str
    outcome: SweepOutcome
    failed: dict[str, str] = field(default_factory=dict)

    @classmethod
    def plan(cls, sweep: SweepConfig | PreparedSweep, results_dir: Path, models: ModelSource,
             tasks: TaskSource | None, command: str) -> _Staged:
        """Check ``sweep``, load its models, list its units in the manifest and find those to (re)run."""
        sweep = sweep if isinstance(sweep, PreparedSweep) else prepare(sweep, tasks=tasks)
        for path in (results_dir, results_dir / PARTS):
            if path.exists() and not path.is_dir():
                raise NotADirectoryError(f"results path {path} is a file, not a directory; choose another "
                                         "--results directory")
        loaded = _load_models(sweep.config, list(sweep.entries), models)
        units = plan_units(sweep.config, list(sweep.entries), sweep.suites, loaded)
        manifest.write(results_dir, units, command)
        outcome = SweepOutcome(parts=[results_dir / PARTS / u.file_name for u in units])
        todo: dict[str, tuple[Unit, Path]] = {}
        retried = 0
        for unit, path in zip(units, outcome.parts, strict=True):
            state, why = manifest.part_state(path, unit.id, unit.n_rows)
            if state == "done" or unit.id in todo:
                continue
            if why != "missing":
                retried += state == "failed"
                outcome.recomputed.append(f"{path.name}: {why}")
                action = f"retrying {unit.label}" if state == "failed" else f"recomputing {path.name}"
                tqdm.write(f"wmbench sweep: {action} ({why})", file=sys.stderr)
            todo[unit.id] = (unit, path)
        total = len({u.id for u in units})
        if len(todo) < total or retried:
            tqdm.write(f"wmbench sweep: {total - len(todo)} of {total} units already done; running "
                       f"{len(todo) - retried} missing and retrying {retried} failed", file=sys.stderr)
        return cls(sweep, units, todo, loaded, command, outcome)

    def finish(self, unit: Unit, path: Path, rows: list[dict], bar: tqdm) -> None:
        """Write a finished unit's rows (with the command) and count it."""
        write_part([{**row, "command": self.command} for row in rows], path)
        self.outcome.ran += 1
        errors = [r["error"] for r in rows if r["error"] is not None]
        if errors:
            self.failed[unit.id] = f"{unit.label}: {len(errors)} of {len(rows)} episodes failed: {errors[0]}"
            tqdm.write(f"wmbench sweep: {self.failed[unit.id]}", file=sys.stderr)
        bar.set_postfix_str(unit.label, refresh=False)
        bar.update()


def _run_staged(staged: list[_Staged], executor: Executor, bar: tqdm,
                order: Callable[[list[Unit]], list[Unit]]) -> None:
    """Run the unfinished units of ``staged`` on ``executor``, handed out in ``order``."""
    by_key: dict[str, tuple[_Staged, Unit, Path]] = {}
    jobs: dict[str, Job] = {}
    for one in staged:
        for unit, path in one.todo.values():  # a model that failed to load needs no worker
            model = one.loaded[unit.env, unit.entry.variant]
            if isinstance(model, Exception):
                one.finish(unit, path, [{**row, **_machine(unit.threads)}
                                        for row in run_unit(unit, one.sweep.suites[unit.env], model)], bar)
        pending = [unit for unit, _ in one.todo.values()]
        jobs.update((job.key, job) for job in _jobs(one.sweep.config, pending, one.sweep.suites, one.loaded,
                                                    executor))
        by_key.update((job_key(unit), (one, unit, path)) for unit, path in one.todo.values())
    units = [unit for key, (_, unit, _) in by_key.items() if key in jobs]
    for job, done in executor.map([jobs[job_key(unit)] for unit in order(units)]):
        one, unit, path = by_key[job.key]
        one.finish(unit, path, _outcome_rows(unit, one.sweep.suites[unit.env],
                                             one.loaded[unit.env, unit.entry.variant], done), bar)


@functools.cache
def _machine(threads: int) -> dict[str, object]:
    """This process's machine columns (computed once per process)."""
    return machine_info(threads)


def _payload(env: str, variant: str, model: Any) -> ModelPayload:
    return simulator(env) if variant == ORACLE else pack(model)


def _jobs(config: SweepConfig, units: list[Unit], suites: Mapping[str, Any],
          loaded: Mapping[tuple[str, str], Any], executor: Executor) -> list[Job]:
    """One job per unit whose model loaded; suites and models are shared once per worker host."""
    needed = {(unit.env, unit.entry.variant) for unit in units}
    shared_suites = {env: executor.share(suites[env]) for env in {env for env, _ in needed}}
    payloads = {key: executor.share(_payload(*key, loaded[key])) for key in needed
                if not isinstance(loaded[key], Exception)}
    unit_fields = [f.name for f in fields(Unit) if f.name != "entry"]
    gpus = 1.0 if config.device.startswith("cuda") else 0.0
    return [Job(job_key(unit), run_unit_job,
                (unit.entry.name, {name: getattr(unit, name) for name in unit_fields}, unit.id,
                 shared_suites[unit.env], payloads[unit.env, unit.entry.variant], config.plan_timeout),
                threads=unit.threads, gpus=gpus)
            for unit in units if (unit.env, unit.entry.variant) in payloads]


def job_key(unit: Unit) -> str:
    """A unit's executor job key: its label and id (readable in error lines, and unique)."""
    return f"{unit.label} [unit {unit.id}]"


def run_unit_job(entry: str, unit_fields: dict[str, Any], unit_id: str, suite: Any, model: ModelPayload,
                 plan_timeout: float = PLAN_TIMEOUT) -> list[dict]:
    """A unit where it runs: rebuild the unit (by entry name) and its model, run it, and return its rows
    with this machine's columns (``concurrent_units`` is filled in by the driver)."""
    unit = Unit(entry=resolve_entry(entry), **unit_fields)
    if unit.id != unit_id:
        host = _machine(unit.threads)["host"]
        raise RuntimeError(f"unit {unit_id} ({entry}) resolves to unit {unit.id} on {host}: its wmbench or "
                           "planner plugins differ from the driver's; install the same versions everywhere")
    try:
        world_model = unpack(model, unit.device)
    except Exception as exc:  # a model that cannot be rebuilt here gives error rows
        world_model = exc
    return [{**row, **_machine(unit.threads)} for row in run_unit(unit, suite, world_model, plan_timeout)]


def _outcome_rows(unit: Unit, suite: Any, model: Any, done: Outcome) -> list[dict]:
    """The rows of a finished job (with its concurrency), or error rows when its worker died twice."""
    if done.error is None:
        return [{**row, "concurrent_units": done.concurrent_units} for row in done.value]
    machine = {**_machine(unit.threads), "host": done.host, "concurrent_units": done.concurrent_units}
    return [{**row, **machine, "device": unit.device}
            for row in error_rows(unit, suite, model, f"worker: {done.error}")]


def run_unit(unit: Unit, suite: Any, model: Any, plan_timeout: float = PLAN_TIMEOUT) -> list[dict]:
    """The unit's result rows (without the machine and command columns); any failure of the model, the
    planner's construction or the episode loop becomes error rows, and so does a unit after which the
    model's [`weights_hash`][wmbench.harness.transport.weights_hash] differs from before it."""
    if isinstance(model, Exception):
        return error_rows(unit, suite, model, f"model {unit.env}/{unit.entry.variant}: "
                                              f"{type(model).__name__}: {model}")
    before = weights_hash(model)
    try:
        records = run_episodes(unit.env, model, unit.entry.make_planner(), unit.budgets, suite, unit.mode,
                               horizon=unit.horizon, step_cap=unit.step_cap,
                               execute_steps=unit.execute_steps, seed=unit.seed,
                               objective=Objective(unit.objective), plan_timeout=plan_timeout)
    except Exception as exc:  # a broken unit gives error rows, never a crashed sweep
        return error_rows(unit, suite, model, f"{type(exc).__name__}: {exc}")
    if weights_hash(model) != before:
        return error_rows(unit, suite, model, f"planner {unit.entry.planner} changed the world model's "
                                              "weights; its rows are void")
    return _rows(records, unit, suite, model)


def error_rows(unit: Unit, suite: Any, model: Any, error: str) -> list[dict]:
    """Failed rows for every episode and budget of ``unit``, with (the first line of) ``error``."""
    error = error.splitlines()[0][:500]
    records = [record for b in unit.budgets
               for record in episode_records(b, len(suite.starts), success=False, final_distance=float("nan"),
                                             coverage=float("nan"), steps=0, replans=0, planning_seconds=0.0,
                                             iterations=0, forward_evals=0, backward_evals=0, overrun=False,
                                             error=error)]
    return _rows(records, unit, suite, model)


#: Result columns copied from `EpisodeRecord` fields of the same name.
_RECORD_COLUMNS = ("success", "final_distance", "coverage", "steps", "replans", "planning_seconds",
                   "iterations", "forward_evals", "backward_evals", "overrun", "error")


def _dataset_columns(metadata: dict) -> dict[str, Any]:
    """The ``dataset``, ``dataset_size`` and ``dataset_episodes`` columns from a model's metadata (episodes
    from the registered spec; 0 for an unregistered dataset or none)."""
    from wmbench.data.specs import DATASETS

    name, size = str(metadata.get("dataset") or ""), str(metadata.get("dataset_size") or "")
    spec = DATASETS.get(name, {}).get(size)
    return {"dataset": name, "dataset_size": size, "dataset_episodes": spec.n_episodes if spec else 0}


def _rows(records: list[EpisodeRecord], unit: Unit, suite: Any, model: Any) -> list[dict]:
    """Result rows (without the machine columns) for a unit's episode records."""
    ok = not isinstance(model, Exception)
    metadata = getattr(model, "metadata", {}) if ok else {}
    device = next(iter(model.parameters()), torch.empty(0)).device if ok and hasattr(model, "parameters") \
        else torch.device(unit.device)
    frameskip = int(getattr(model, "frameskip", 0)) if ok else 0
    shared = {
        "entry": unit.entry.name, "env": unit.env, "seed": unit.seed,
        "mode": unit.mode, "unit_id": unit.id, "variant": unit.entry.variant, "planner": unit.entry.planner,
        "planner_args": unit.entry.planner_args, "upper_bound": unit.entry.upper_bound,
        "horizon": unit.horizon, "execute_steps": unit.execute_steps, "objective": unit.objective,
        "max_steps": unit.horizon * frameskip if unit.step_cap is None else unit.step_cap,
        "batch_size": len(suite.starts), "split": unit.split, "task_suite": unit.suite_version,
        "task_suite_sha256": unit.suite_sha256, "dataset_hash": str(metadata.get("dataset_hash") or ""),
        **_dataset_columns(metadata),
        "checkpoint_hash": unit.checkpoint_hash, "model_seed": int(metadata.get("seed", -1)),
        "protocol": unit.protocol, "protocol_sha256": unit.protocol_sha256,
        "planner_source_sha256": unit.planner_code[0], "planner_version": unit.planner_code[1],
        "model_source_sha256": unit.model_code[0], "model_version": unit.model_code[1],
        "schema_version": SCHEMA_VERSION,
        "device": device_name(device),
    }
    return [{**shared, "task": int(suite.ids[r.episode]), "level": str(suite.levels[r.episode]),
             "budget_kind": r.budget.kind, "budget_value": float(r.budget.value),
             **{k: getattr(r, k) for k in _RECORD_COLUMNS}} for r in records]
