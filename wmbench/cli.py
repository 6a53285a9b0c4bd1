"""The ``wmbench`` command line. Heavy modules are imported inside each subcommand (fast start-up).

Exit status: 0 success, 1 when sweep units failed (their error rows were written), 2 for a user error (one
line ``wmbench: error: ...`` on stderr, never a traceback), 130 on Ctrl-C, 143 on SIGTERM (both stop the
workers first). Every choice and default list comes from the constant of the layer that owns it. Run as the
``wmbench`` program, it exits ``EXIT_GRACE`` seconds after its work is done even if a plugin left a
non-daemon thread running.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import select
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from wmbench.protocols import Protocol

#: Exceptions that are the user's to fix (bad input, missing or corrupt files, unimportable plugins): one
#: line and exit status 2. ``OSError`` covers permission denied, file name too long, not a directory, ...
USER_ERRORS = (ValueError, KeyError, ImportError, OSError, RuntimeError)
EXIT_FAILED_UNITS, EXIT_USER_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 130, 143
#: Seconds the program waits at exit for threads a plugin left running before it exits anyway.
EXIT_GRACE = 5.0


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that the run stops as on Ctrl-C (workers first)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _split_list(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``"CEM(samples=9, topk=3),GBP"`` -> two items."""
    items, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    return [*items, text[start:]]


def _no_duplicates(items: tuple, text: str) -> tuple:
    twice = sorted({str(s) for s in items if items.count(s) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"{', '.join(twice)} listed twice in {text!r}")
    return items


def _csv(text: str) -> tuple[str, ...]:
    items = tuple(s.strip() for s in _split_list(text) if s.strip())
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return _no_duplicates(items, text)


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(s) for s in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    return _no_duplicates(values, text)


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


class _LazyChoices(Sequence[str]):
    """The values of a ``"module:CONSTANT"`` whose module imports torch, imported on first use (checking a
    given value, or the command's help) so that start-up stays fast. Give the option a ``metavar``:
    argparse reads the choices of options without one when they are added."""

    def __init__(self, path: str):
        self._path = path

    @functools.cached_property
    def _values(self) -> tuple[str, ...]:
        from wmbench.registry import resolve

        return tuple(resolve(self._path))

    def __getitem__(self, index: int) -> str:
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)


def _home(args: argparse.Namespace) -> Path | None:
    return Path(args.home) if args.home else None


def _output_dir(path: str | Path, option: str) -> Path:
    """Create the output directory ``path`` now and check that it is writable, so that a bad path fails
    before any work is done."""
    if not str(path).strip():
        raise ValueError(f"{option} is empty; give a directory")
    if Path(path).exists() and not Path(path).is_dir():
        raise NotADirectoryError(f"{option} {path} is a file, not a directory; choose a directory")
    Path(path).mkdir(parents=True, exist_ok=True)
    _check_writable(Path(path), option)
    return Path(path)


def _check_writable(path: Path, option: str) -> None:
    """A one-line ``PermissionError`` naming ``path`` unless it, or where it would be created (the nearest
    existing folder above it), is writable; ``NotADirectoryError`` if a file stands in its way."""
    target = path.absolute()
    existing = next(p for p in (target, *target.parents) if p.exists())
    blocker = "" if existing == target else f" ({existing} is not)"
    if not existing.is_dir():
        raise NotADirectoryError(f"{option} {path}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{option} {path} is not writable{blocker}; choose another directory or fix "
                              "its permissions")


def _check_home(args: argparse.Namespace, *names: str) -> None:
    """Before any work: the cache folders ``names`` (``datasets``, ``models``) a command writes into are
    writable (or can be created)."""
    from wmbench.io import wmbench_home

    for name in names:
        _check_writable(wmbench_home(_home(args)) / name,
                        f"the {name[:-1]} directory (--home or $WMBENCH_HOME)")


def _check_seeds(seeds: Iterable[int], option: str) -> None:
    from wmbench.harness.sweep import MAX_SEED

    bad = [s for s in seeds if not 0 <= s <= MAX_SEED]
    if bad:
        raise ValueError(f"{option} must be in [0, {MAX_SEED}], got {bad[0]}")


def _check_model(model: str) -> None:
    """A built-in world-model kind or an importable class with ``from_dataset`` (checked before training)."""
    from wmbench.models import MODELS
    from wmbench.models.protocol import resolve_class

    if model not in MODELS and ":" not in model:
        raise ValueError(f"unknown --model {model!r}; choose one of {', '.join(MODELS)} or give "
                         "'package.module:Class'")
    try:
        cls = resolve_class(MODELS.get(model, model))
    except TypeError as exc:
        raise ValueError(f"--model {model!r}: {exc}") from None
    if not callable(getattr(cls, "from_dataset", None)):
        raise ValueError(f"--model {model!r} has no from_dataset classmethod, so it cannot be trained; see "
                         "wmbench/models/protocol.py")


def cmd_data(args: argparse.Namespace) -> None:
    from wmbench import data

    if args.action == "list":
        problems = []
        for name in data.list_datasets():
            for size, spec in data.DATASETS[name].items():
                try:
                    data.check_built(name, size, _home(args))
                    status = "built"
                except data.DatasetNotFoundError:
                    status = "-"
                except data.DatasetError as exc:
                    status = "corrupt"
                    problems.append(f"{name} {size}: {exc}")
                shape = f"{spec.n_episodes:>6} x {spec.episode_len:<4}"
                print(f"{name:<22} {size:<6} {shape} {status:<7} {spec.mix}")
        for line in problems:
            print(line)
        return
    if not args.name:
        raise ValueError(f"`wmbench data {args.action}` needs a dataset NAME; see `wmbench data list`")
    if args.action == "export":
        from wmbench.data.export import export_minari

        if not args.out:
            raise ValueError("`wmbench data export` needs --out DIR (the Minari datasets root to write into)")
        _check_writable(Path(args.out), "--out")
        print(export_minari(args.name, args.out, args.size, home=_home(args), force=args.force))
        return
    _check_home(args, "datasets")
    path = data.build(args.name, args.size, home=_home(args), workers=args.workers, force=args.force)
    print(path)


def train_config(args: argparse.Namespace):
    """The ``TrainConfig`` of ``wmbench train``: the defaults, overridden by the options given."""
    from wmbench.training import TrainConfig

    owm = {"owm_rounds": args.owm_rounds, "owm_rollouts": args.owm_rollouts}
    if args.variant != "owm" and any(value is not None for value in owm.values()):
        raise ValueError("--owm-rounds and --owm-rollouts are for --variant owm")
    options = {"steps": args.steps, "lr": args.lr, "batch_size": args.batch_size, "patience": args.patience,
               **owm}
    return TrainConfig(**{key: value for key, value in options.items() if value is not None})


def cmd_train(args: argparse.Namespace) -> None:
    import torch

    from wmbench import training
    from wmbench.models import checkpoint

    _check_seeds([args.model_seed], "--model-seed")
    _check_model(args.model)
    _check_home(args, "models")
    torch.set_num_threads(args.threads)
    path = training.train(args.env, args.model, args.variant, args.size, home=_home(args),
                          seed=args.model_seed, config=train_config(args), overwrite=args.overwrite,
                          dataset_name=args.dataset, device=_device(args))
    metadata = checkpoint.load(path).metadata
    stats = metadata.get("training", {})
    summary = {key: stats[key] for key in ("steps", "max_steps", "stopped_early", "seconds", "best_val",
                                           "best_step") if key in stats}
    for key, value in [*summary.items(), *sorted(metadata.get("diagnostics", {}).items())]:
        print(f"{key:<28} {value:.4g}" if isinstance(value, float) else f"{key:<28} {value}")
    print(path)


def _device(args: argparse.Namespace) -> str:
    from wmbench.models.device import resolve_device

    return resolve_device(args.device)


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="where world models train and plan: cpu (default), "
                                                        "cuda, cuda:N or auto (cuda when available)")


def _failures(failed: list[str]) -> int:
    """Exit status 1 with a summary when sweep units failed (their error rows were written), else 0."""
    if failed:
        print(f"wmbench: {len(failed)} unit(s) failed; their episodes are recorded as failures with the "
              "error in the results' error column", file=sys.stderr)
    return EXIT_FAILED_UNITS if failed else 0


def _executor(args: argparse.Namespace):
    """The executor of the --executor, --workers and --ray-address options (a context manager)."""
    from wmbench.harness.executors import make_executor

    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    return make_executor(args.executor, args.workers, args.ray_address)


#: ``wmbench eval`` options that set what a protocol fixes: giving one makes the sweep ad hoc.
SETTING_OPTIONS = ("budgets", "mode", "split", "levels", "n_tasks", "seeds", "step_cap", "objective", "model",
                   "size")


def cmd_eval(args: argparse.Namespace) -> int:
    """Under a named protocol (``--protocol``, or the default one when no setting option is given), or ad
    hoc with the given settings on top of the default protocol's."""
    from wmbench.protocols import DEFAULT, get_protocol

    given = [f"--{name.replace('_', '-')}" for name in SETTING_OPTIONS if getattr(args, name) is not None]
    if args.protocol and given:
        raise ValueError(f"--protocol {args.protocol} fixes {', '.join(given)}: drop them, or drop "
                         "--protocol for an ad-hoc sweep")
    command = _command_line()
    if not given:
        from wmbench.presets import evaluate, protocol_preset

        preset = protocol_preset(args.protocol or DEFAULT, args.entry, args.env, _home(args), _device(args),
                                 args.trained)
        results = _output_dir(args.results, "--results")
        with _executor(args) as executor:
            failed = evaluate(preset, results, _home(args), command, executor=executor, device=_device(args),
                              oracle=False)
    else:
        results, failed = _eval_ad_hoc(args, get_protocol(DEFAULT), command)
    print(f"results in {results}; next: wmbench report {shlex.quote(str(results))}")
    return _failures(failed)


def _command_line() -> str:
    """This command as rows record it, with the ``PYTHONPATH`` that plugins were imported from."""
    path = os.environ.get("PYTHONPATH")
    return (f"PYTHONPATH={shlex.quote(path)} " if path else "") + "wmbench " + shlex.join(sys.argv[1:])


def _eval_ad_hoc(args: argparse.Namespace, default: Protocol, command: str) -> tuple[Path, list[str]]:
    """An ad-hoc sweep: the given settings, the ``default`` protocol's for the others."""
    from wmbench.harness.sweep import SweepConfig, prepare, run_sweep
    from wmbench.planning import parse_budgets
    from wmbench.presets import checkpoint_source

    mode = args.mode or "mpc"
    budgets = parse_budgets(args.budgets or default.budgets)
    if args.objective:  # one objective for every planner; each keeps its MPC execution
        default = dataclasses.replace(default, objective=args.objective, planner_settings=tuple(
            (name, args.objective, execute) for name, _, execute in default.planner_settings))
    device, groups = _device(args), default.groups(tuple(args.entry))
    source = checkpoint_source(args.model or default.model, args.size or default.dataset_size, _home(args),
                               device=device, frozen=not args.trained)
    sweeps = [prepare(SweepConfig(entries=names, envs=args.env, budgets=budgets,
                                  seeds=args.seeds or default.seeds, mode=mode,
                                  split=args.split or default.split,
                                  levels=args.levels, n_tasks=args.n_tasks, step_cap=args.step_cap,
                                  objective=objective, horizon=default.horizon,
                                  execute_steps=execute_steps if mode == "mpc" else 1,
                                  threads=1 if args.threads is None else args.threads, device=device),
                      source) for (objective, execute_steps), names in groups.items()]
    results = _output_dir(args.results, "--results")
    failed = []
    with _executor(args) as executor:
        for sweep in sweeps:
            failed += run_sweep(sweep, results, source, command=command, executor=executor).failed
    return results, failed


def cmd_report(args: argparse.Namespace) -> None:
    from wmbench.report import report

    folders = [Path(path) for path in args.results]
    for results in folders:
        if not results.is_dir():
            raise FileNotFoundError(f"results directory {results} does not exist or is not a directory; run "
                                    "`wmbench eval ... --results DIR` first")
    if len(folders) > 1 and args.out is None:
        raise ValueError("a report of several results folders needs --out DIR (where leaderboard.md and its "
                         "plots go)")
    out = _output_dir(args.out, "--out") if args.out is not None else folders[0]
    plots = Path(args.plots) if args.plots else folders[0] / "plots" if len(folders) == 1 else out / "plots"
    _check_writable(plots, "the plots folder")
    given = [(name, getattr(args, name)) for name in ("out", "plots", "reference")]
    command = "wmbench report " + " ".join([*args.results, *(f"--{k} {v}" for k, v in given if v),
                                            *(["--no-summaries"] if args.no_summaries else [])])
    print(report(folders, out, command=command, plots_dir=plots, reference=args.reference,
                 summaries=not args.no_summaries))


def cmd_validate(args: argparse.Namespace) -> None:
    from wmbench.report.submissions import validate

    for folder in args.folders:
        found = validate(folder)
        print(f"{folder}: valid submission {found.name!r}: {found.rows} rows of {', '.join(found.entries)} "
              f"under protocol {found.protocol}, through the frozen models, from its source")


def _leaderboard(path: str | None) -> Path | None:
    if path is None:
        return None
    if Path(path).name != "leaderboard.md":
        raise ValueError(f"--leaderboard {path}: give a path ending in leaderboard.md, e.g. ./leaderboard.md")
    return _output_dir(str(Path(path).parent), "--leaderboard's folder") / "leaderboard.md"


def cmd_run(args: argparse.Namespace) -> int:
    from wmbench.presets import run_preset

    leaderboard = _leaderboard(args.leaderboard)
    out = _output_dir(args.out or f"runs/{args.preset}", "--out")
    _check_home(args, "datasets", "models")
    with _executor(args) as executor:
        outcome = run_preset(args.preset, out, _home(args), leaderboard=leaderboard, executor=executor,
                             threads=args.threads, device=_device(args), trained=args.trained)
    return _failures(outcome.failed)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from wmbench.reproduce import (
        SCALING_SIZES,
        SCALING_TASKS,
        default_out_dir,
        reproduce_budget,
        reproduce_scaling,
        reproduce_table1,
    )

    _check_model(args.model)
    if args.what != "scaling" and args.sizes is not None:
        raise ValueError(f"--sizes is for `wmbench reproduce scaling`, not {args.what}")
    out = _output_dir(args.out, "--out") if args.out is not None else None
    if out is None:
        _check_writable(default_out_dir(args.what, args.preset), "the results directory (--out)")
    _check_home(args, "datasets", "models")
    if args.what == "scaling":
        from wmbench.data import SIZES

        unknown = [size for size in args.sizes or () if size not in SIZES]
        if unknown:
            raise ValueError(f"unknown size {unknown[0]!r} in --sizes; choose from {', '.join(SIZES)}")
        run = reproduce_scaling
        options = {"sizes": args.sizes or SCALING_SIZES, "n_tasks": args.n_tasks or SCALING_TASKS}
    else:
        run = reproduce_table1 if args.what == "table1" else reproduce_budget
        options = {"n_tasks": args.n_tasks}
    with _executor(args) as executor:
        outcome = run(args.preset, out, _home(args), args.model, args.seeds, executor=executor,
                      threads=args.threads, device=_device(args), envs=args.env, split=args.split,
                      trained=args.trained, **options)
    return _failures(outcome.failed)


def cmd_video(args: argparse.Namespace) -> None:
    from wmbench.harness.sweep import SweepConfig, prepare
    from wmbench.planning import parse_budgets
    from wmbench.presets import checkpoint_source
    from wmbench.report.video import episode_video

    prepare(SweepConfig(entries=(args.entry,), envs=(args.env,), budgets=parse_budgets(args.budget),
                        seeds=(args.seed,), mode=args.mode, split=args.split),
            checkpoint_source(args.model, args.size, _home(args), frozen=not args.trained))
    _check_writable(Path(args.out).parent, "--out's folder")
    info = episode_video(args.env, args.entry, args.task, args.out, budget=args.budget, mode=args.mode,
                         model_kind=args.model, dataset_size=args.size, split=args.split, seed=args.seed,
                         home=_home(args), frozen=not args.trained)
    print(f"{info.path}: {info.frames} frames, {info.seconds:.1f} s, {info.bytes / 1024:.0f} KiB; episode "
          f"{'succeeded' if info.success else 'failed'}")


def cmd_tasks(args: argparse.Namespace) -> None:
    from wmbench import tasks

    suite = tasks.load(args.env, args.split, args.version)
    print(f"{suite.env} {suite.split} {suite.version}: {len(suite)} tasks, sha256 {suite.sha256[:12]}")
    for level, count in suite.level_counts().items():
        steps = suite.select_levels([level]) if level else suite
        print(f"  {level or '(no levels)':<12} {count:>4} tasks, MPC step cap {steps.step_cap} env steps, "
              f"open-loop {steps.open_loop_steps} env steps")


def build_parser() -> argparse.ArgumentParser:
    from wmbench.data import SIZES
    from wmbench.data.export import FORMATS
    from wmbench.harness.entries import ENTRIES, ENTRY_POINT_GROUP
    from wmbench.harness.executors import EXECUTORS
    from wmbench.models import MODELS
    from wmbench.presets import PRESETS
    from wmbench.protocols import DEFAULT as DEFAULT_PROTOCOL
    from wmbench.protocols import PROTOCOLS
    from wmbench.tasks import SPLITS, VERSIONS
    from wmbench.training.config import VARIANTS
    from wmbench_envs import ENVS

    modes = _LazyChoices("wmbench.harness.episodes:MODES")
    objectives = _LazyChoices("wmbench.planning.objective:WEIGHTINGS")
    default = PROTOCOLS[DEFAULT_PROTOCOL]
    envs, models = ", ".join(ENVS), ", ".join(MODELS)
    parser = argparse.ArgumentParser(prog="wmbench", description="planning with learned world models, "
                                     "measured as success rate vs wall-clock planning budget")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="cache dir for datasets and models (default $WMBENCH_HOME or "
                                       "~/.cache/wmbench)")
    execution = argparse.ArgumentParser(add_help=False)
    execution.add_argument("--workers", type=_positive_int,
                           help="units (and training jobs) at a time: local worker "
                           "processes (default 1: serial), or at most this many Ray tasks in flight "
                           "(default: what the cluster's CPUs and GPUs allow)")
    execution.add_argument("--threads", type=_positive_int,
                           help="torch threads per unit, recorded in every row (default 1, or the preset's)")
    execution.add_argument("--executor", default="local", choices=EXECUTORS,
                           help="local processes, or Ray tasks on a cluster (needs pip install wmbench[ray])")
    execution.add_argument("--ray-address", help="Ray cluster to join, e.g. auto (the one on this node) or "
                                                 "HEAD_IP:6379 (default: start a local Ray instance)")
    execution.add_argument("--trained", action="store_true",
                           help="plan through the world models trained under $WMBENCH_HOME (run/reproduce: "
                                "train them if missing) instead of the frozen reference models wmbench ships")
    sub = parser.add_subparsers(dest="command", required=True)
    add = functools.partial(sub.add_parser, parents=[common])

    p = add("data", help="build, list or export the standard expert datasets")
    p.add_argument("action", choices=("build", "list", "export"))
    p.add_argument("name", nargs="?", help="dataset name, e.g. pusht-expert-v1")
    p.add_argument("--size", default="small", choices=SIZES)
    p.add_argument("--workers", type=_positive_int, help="worker processes (default: CPU count)")
    p.add_argument("--force", action="store_true", help="rebuild (export: overwrite) even if it exists")
    p.add_argument("--format", default=FORMATS[0], choices=FORMATS, help="export format")
    p.add_argument("--out", help="export: the Minari datasets root to write into (MINARI_DATASETS_PATH)")
    p.set_defaults(func=cmd_data)

    p = add("train", help="train a world model (base, owm or awm)")
    p.add_argument("env", choices=tuple(ENVS))
    p.add_argument("--model", default="state", help=f"{models} or a 'package.module:Class' world model")
    p.add_argument("--variant", default="base", choices=VARIANTS)
    p.add_argument("--size", default="small", choices=SIZES, help="dataset size")
    p.add_argument("--model-seed", type=int, default=0,
                   help="the world model's training seed (default 0)")
    p.add_argument("--dataset", help="dataset name (default ENV-expert-v1, wmbench.data.default_dataset)")
    p.add_argument("--steps", type=_positive_int, help="most base training steps (default: by data size)")
    p.add_argument("--lr", type=float, help="base learning rate (default 1e-3, cosine-decayed)")
    p.add_argument("--batch-size", type=_positive_int, help="windows per batch (default 256)")
    p.add_argument("--patience", type=int, help="validations without improvement before stopping "
                                                "(default 8; 0 = never stop early)")
    p.add_argument("--owm-rounds", type=_positive_int,
                   help="OWM: rounds of plan, simulate, fine-tune (default 4)")
    p.add_argument("--owm-rollouts", type=_positive_int,
                   help="OWM: simulated GBP plans per round (default 128; the paper's code used about 6,000 "
                        "in all)")
    p.add_argument("--overwrite", action="store_true", help="retrain even if a checkpoint exists")
    p.add_argument("--threads", type=_positive_int, default=1,
                   help="torch threads (default 1: small models train fastest on one thread, and 2+ "
                        "threads slow down badly when other processes share the cores)")
    _add_device(p)
    p.set_defaults(func=cmd_train)

    p = add("eval", parents=[common, execution],
            help="evaluate entries: success rate vs planning budget, into Parquet")
    p.add_argument("--env", type=_csv, required=True, help=f"env(s), comma-separated: {envs}")
    p.add_argument("--entry", type=_csv, required=True,
                   help=f"entries, comma-separated, each NAME[(key=value, ...)][@variant]: NAME is one of "
                        f"{', '.join(ENTRIES)}, a 'package.module:PlannerClass' or a '{ENTRY_POINT_GROUP}' "
                        "entry point; the arguments (Python literals) go to the planner; @variant plans "
                        f"through another world model ({', '.join(VARIANTS)}). "
                        "E.g. --entry 'CEM(samples=1000, topk=50),GBP+AWM,CEM@awm'")
    p.add_argument("--protocol", choices=tuple(PROTOCOLS),
                   help="run the entries exactly as protocol NAME runs the leaderboard's (every mode, level, "
                        "budget and seed, through its frozen models), paired with its published rows; the "
                        f"default when no setting option below is given: {DEFAULT_PROTOCOL}")
    ad_hoc = p.add_argument_group(
        f"settings of an ad-hoc sweep (each replaces the {DEFAULT_PROTOCOL} protocol's; the rows then pair "
        "only with rows of the same settings)").add_argument
    ad_hoc("--budgets", help="seconds per plan call '0.1,1', iterations 'it:10,100' or evaluations "
                             f"'ev:300,3000' (default: {default.budgets})")
    ad_hoc("--mode", choices=modes, metavar="MODE", help="control mode: %(choices)s (default: mpc)")
    ad_hoc("--split", choices=tuple(SPLITS), help=f"task split (default: {default.split})")
    ad_hoc("--levels", type=_csv, help="only tasks of these difficulty levels, e.g. 'far' (see `wmbench "
                                       "tasks ENV`; default: all)")
    ad_hoc("--n-tasks", type=int, help="only the first N tasks of the split (after --levels)")
    ad_hoc("--seeds", type=_ints, help=f"planner seeds, comma-separated (default: "
                                       f"{','.join(map(str, default.seeds))})")
    ad_hoc("--step-cap", type=int, help="MPC step cap: env steps per episode at most (default: the largest "
                                        "of the levels run, see `wmbench tasks ENV`)")
    ad_hoc("--objective", choices=objectives, metavar="WEIGHTING",
           help="planning objective's frame weighting for every entry: %(choices)s (default: each planner's "
                "paper setting, wmbench.protocols.PAPER_PLANNER_SETTINGS)")
    ad_hoc("--model", help=f"world model kind the checkpoints were trained with ({models} or "
                           f"'package.module:Class'; default: {default.model})")
    ad_hoc("--size", choices=SIZES, help=f"dataset size of the models (default: {default.dataset_size})")
    p.add_argument("--results", default="runs/eval", help="results directory (resumable)")
    _add_device(p)
    p.set_defaults(func=cmd_eval)

    p = add("report", help="regenerate plots and leaderboard.md from one or several results directories")
    p.add_argument("results", nargs="+", help="results directories; with several (e.g. results/quick and "
                                              "yours) their rows share the tables where they may be paired")
    p.add_argument("--out", help="where leaderboard.md goes (default, one folder: the results directory, "
                                 "plots in RESULTS/plots; required with several: plots in OUT/plots)")
    p.add_argument("--plots", help="where the figures go (default: RESULTS/plots for one folder, OUT/plots "
                                   "for several)")
    p.add_argument("--reference", help="entry the others are compared with episode by episode (default: CEM)")
    p.add_argument("--no-summaries", action="store_true",
                   help="write leaderboard.md and the figures only, not a run's TABLE1.md / BUDGET.md / "
                        "CLAIMS.md (e.g. a front page whose run keeps its own beside its results)")
    p.set_defaults(func=cmd_report)

    p = add("validate", help="check submission folders against their protocol, the frozen models and their "
                             "source (see docs/guides/submit-a-planner.md)")
    p.add_argument("folders", nargs="+", help="submission folders, e.g. submissions/NAME")
    p.set_defaults(func=cmd_validate)

    p = add("run", parents=[common, execution],
            help="run a preset end to end (data, training, evaluation, report)")
    p.add_argument("--preset", default="quick", choices=tuple(PRESETS))
    p.add_argument("--out", help="results directory (default runs/PRESET)")
    p.add_argument("--leaderboard", help="write leaderboard.md at this path (ending in leaderboard.md) "
                                         "instead of into the results directory")
    _add_device(p)
    p.set_defaults(func=cmd_run)

    p = add("reproduce", parents=[common, execution],
            help="reproduce the paper's Table 1, its time-budget claim or the data-scaling study on this "
                 "machine")
    p.add_argument("what", choices=("table1", "budget", "scaling"))
    p.add_argument("--preset", default="quick", choices=tuple(PRESETS), help="dataset size and seeds")
    p.add_argument("--model", default="state", help=f"{models} or a 'package.module:Class' world model")
    p.add_argument("--seeds", type=_ints, help="planner seeds, comma-separated (default: the preset's)")
    p.add_argument("--env", type=_csv, help=f"only these env(s), comma-separated: {envs} (default: all)")
    p.add_argument("--split", default="test", choices=tuple(SPLITS),
                   help="task split (default test: 500 tasks per env; dev: 60, for models too slow on a CPU)")
    p.add_argument("--n-tasks", type=int, help="only the first N tasks of each level (default: all; scaling: "
                                               "100)")
    p.add_argument("--sizes", type=_csv, help=f"scaling: dataset sizes, comma-separated: {', '.join(SIZES)} "
                                              "(default: small,full,xl)")
    p.add_argument("--out", help="results directory (default runs/WHAT-PRESET)")
    _add_device(p)
    p.set_defaults(func=cmd_reproduce)

    p = add("video", help="render one episode of a task suite as an mp4 or GIF (goal overlaid; open-loop: "
                          "the world model's prediction beside the real episode)")
    p.add_argument("--env", required=True, choices=tuple(ENVS))
    p.add_argument("--entry", required=True, help="one entry, as for `wmbench eval --entry`")
    p.add_argument("--task", type=int, required=True, help="task index in the split")
    p.add_argument("--budget", default="1", help="one budget per plan call: '1' (s), 'it:30' or 'ev:3000'")
    p.add_argument("--mode", default="mpc", choices=modes, metavar="MODE",
                   help="control mode: %(choices)s (default: %(default)s)")
    p.add_argument("--split", default="test", choices=tuple(SPLITS), help="task split")
    p.add_argument("--seed", type=int, default=0, help="planner seed")
    p.add_argument("--model", default="state", help=f"world model kind the checkpoints were trained with "
                                                    f"({models} or 'package.module:Class')")
    p.add_argument("--size", default="small", choices=SIZES, help="dataset size of the models")
    p.add_argument("--out", required=True, help="FILE.mp4 (needs the 'video' extra) or FILE.gif")
    p.add_argument("--trained", action="store_true", help="plan through the world model trained under "
                                                          "$WMBENCH_HOME instead of the frozen reference one")
    p.set_defaults(func=cmd_video)

    p = add("tasks", help="describe an evaluation task suite")
    p.add_argument("env", choices=tuple(ENVS))
    p.add_argument("--split", default="test", choices=tuple(SPLITS))
    p.add_argument("--version", choices=VERSIONS,
                   help="task-suite version (default: the env's newest: v2 for pusht, v1 otherwise)")
    p.set_defaults(func=cmd_tasks)
    return parser


def _one_line(exc: BaseException) -> str:
    """The user-facing message of ``exc`` on one line; an ``OSError`` from the system names its path."""
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
        text = f"{paths}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (``wmbench data list | head -1``)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


def _silence_stdout() -> None:
    """Send the rest of stdout to /dev/null, so that the final flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _check_utf8(argv: list[str]) -> None:
    """Results record the command line as UTF-8 text: refuse undecodable bytes before any work."""
    for arg in argv:
        try:
            arg.encode()
        except UnicodeEncodeError:
            raise ValueError(f"argument {arg!r} is not valid UTF-8; rename the file or folder it "
                             "names") from None


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); the exit status. Without ``argv`` (as the
    ``wmbench`` program) the process also exits, after ``EXIT_GRACE`` seconds at most, even if plugin
    threads are still running then."""
    here = threading.current_thread() is threading.main_thread()  # signal handlers live in the main thread
    previous = signal.signal(signal.SIGTERM, _terminate) if here else None
    try:
        status = _main(argv)
    finally:
        if here:
            signal.signal(signal.SIGTERM, previous)
    if argv is None:
        _exit_anyway(status)
    return status


def _exit_anyway(status: int) -> None:
    """Make sure this process exits with ``status`` at most ``EXIT_GRACE`` seconds from now, naming the
    non-daemon threads that would keep it alive."""

    def leave() -> None:
        time.sleep(EXIT_GRACE)
        names = [t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
        if names:
            print(f"wmbench: exiting without waiting for threads a plugin left running: {', '.join(names)}",
                  file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(status)

    threading.Thread(target=leave, daemon=True, name="wmbench-exit").start()


def _main(argv: list[str] | None) -> int:
    try:
        _check_utf8(sys.argv[1:] if argv is None else argv)
        try:
            args = build_parser().parse_args(argv)
        finally:
            sys.stdout.flush()  # `wmbench --help | head -1` fails here, not in the flush at exit
        if not sys.stderr.isatty():  # logs and CI: a progress line every 30 s rather than every 0.1 s
            os.environ.setdefault("TQDM_MININTERVAL", "30")
        status = args.func(args) or 0
        sys.stdout.flush()
        return status
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"wmbench: {how}; finished work is kept, rerun the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except USER_ERRORS as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_reader_gone():
            _silence_stdout()  # the reader took what it wanted: not an error
            return 0
        print(f"wmbench: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
