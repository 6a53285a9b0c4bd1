"""The ``wmbench`` command line. Heavy modules are imported inside each subcommand (fast start-up)."""

from __future__ import annotations

import argparse
import functools
import os
import shlex
import sys
from pathlib import Path


def _csv(text: str) -> tuple[str, ...]:
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _home(args: argparse.Namespace) -> Path | None:
    return Path(args.home) if args.home else None


def cmd_data(args: argparse.Namespace) -> None:
    from wmbench import data

    if args.action == "list":
        for name in data.list_datasets():
            for size in data.SIZES:
                spec = data.get_spec(name, size)
                built = (data.dataset_dir(name, size, _home(args)) / "manifest.json").exists()
                print(f"{name:<22} {size:<6} {spec.n_episodes:>6} x {spec.episode_len:<4} "
                      f"{'built' if built else '-'}")
        return
    if not args.name:
        raise ValueError("`wmbench data build` needs a dataset NAME; see `wmbench data list`")
    path = data.build(args.name, args.size, home=_home(args), workers=args.workers, force=args.force)
    print(path)


def cmd_train(args: argparse.Namespace) -> None:
    from wmbench import training
    from wmbench.models import checkpoint

    path = training.train(args.env, args.model, args.variant, args.size, home=_home(args), seed=args.seed,
                          overwrite=args.overwrite, device=_device(args))
    diagnostics = checkpoint.load(path).metadata.get("diagnostics", {})
    for key, value in sorted(diagnostics.items()):
        print(f"{key:<28} {value:.4g}" if isinstance(value, float) else f"{key:<28} {value}")
    print(path)


def _device(args: argparse.Namespace) -> str:
    from wmbench.models.device import resolve_device

    return resolve_device(args.device)


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="where world models train and plan: cpu (default), "
                                                        "cuda, cuda:N or auto (cuda when available)")


def _check_checkpoints(envs, entries, model: str, size: str, home: Path | None) -> None:
    from wmbench.harness.entries import ORACLE, resolve_entry
    from wmbench.models.checkpoint import checkpoint_path

    for env in envs:
        for entry in map(resolve_entry, entries):
            if entry.variant == ORACLE:
                continue
            path = checkpoint_path(env, model, entry.variant, size, 0, home)
            if not path.exists():
                raise FileNotFoundError(f"no {entry.variant} {model} world model for {env} at {path}; run "
                                        f"`wmbench train {env} --model {model} --variant {entry.variant} "
                                        f"--size {size}`")


def _failures(failed: list[str]) -> int:
    """Exit status 1 with a summary when sweep units failed (their error rows were written), else 0."""
    if failed:
        print(f"wmbench: {len(failed)} unit(s) failed; their episodes are recorded as failures with the "
              "error in the results' error column", file=sys.stderr)
    return 1 if failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from wmbench.harness.budgets import parse_budgets
    from wmbench.harness.sweep import SweepConfig, run_sweep, validate_config
    from wmbench.presets import checkpoint_source

    config = SweepConfig(entries=args.entry, envs=args.env, budgets=parse_budgets(args.budgets),
                         seeds=args.seeds, mode=args.mode, split=args.tasks, n_tasks=args.n_tasks,
                         max_steps=args.max_steps, objective=args.objective, threads=args.threads,
                         device=_device(args))
    validate_config(config)
    _check_checkpoints(args.env, args.entry, args.model, args.size, _home(args))
    command = "wmbench " + shlex.join(sys.argv[1:])
    outcome = run_sweep(config, args.results,
                        checkpoint_source(args.model, args.size, _home(args), device=config.device),
                        command=command)
    print(f"results in {args.results}; next: wmbench report {args.results}")
    return _failures(outcome.failed)


def cmd_report(args: argparse.Namespace) -> None:
    from wmbench.report import report

    if not Path(args.results).is_dir():
        raise FileNotFoundError(f"results directory {args.results} does not exist; run `wmbench eval` first")
    print(report(args.results, args.out, plots_dir=Path(args.results) / "plots"))


def cmd_run(args: argparse.Namespace) -> int:
    from wmbench.presets import run_preset

    leaderboard = Path(args.leaderboard) if args.leaderboard else None
    outcome = run_preset(args.preset, Path(args.out or f"runs/{args.preset}"), _home(args),
                         leaderboard=leaderboard, device=_device(args))
    return _failures(outcome.failed)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from wmbench.reproduce import reproduce_budget, reproduce_table1

    run = reproduce_table1 if args.what == "table1" else reproduce_budget
    outcome = run(args.preset, Path(args.out) if args.out else None, _home(args), args.model, args.seeds,
                  _device(args))
    return _failures(outcome.failed)


def cmd_tasks(args: argparse.Namespace) -> None:
    from wmbench import tasks

    suite = tasks.load(args.env, args.split)
    print(f"{suite.env} {suite.split} {suite.version}: {len(suite)} tasks, MPC budget {suite.max_steps} env "
          f"steps, open-loop {suite.open_loop_steps} env steps, sha256 {suite.sha256[:12]}")


def build_parser() -> argparse.ArgumentParser:
    from wmbench.envs import ENVS

    parser = argparse.ArgumentParser(prog="wmbench", description="planning with learned world models, "
                                     "measured as success rate vs wall-clock planning budget")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="cache dir for datasets and models (default $WMBENCH_HOME or "
                                       "~/.cache/wmbench)")
    sub = parser.add_subparsers(dest="command", required=True)
    add = functools.partial(sub.add_parser, parents=[common])

    p = add("data", help="build or list the standard expert datasets")
    p.add_argument("action", choices=("build", "list"))
    p.add_argument("name", nargs="?", help="dataset name, e.g. pusht-expert-v0")
    p.add_argument("--size", default="small", choices=("small", "full"))
    p.add_argument("--workers", type=int, help="worker processes (default: CPU count)")
    p.add_argument("--force", action="store_true", help="rebuild even if the dataset exists")
    p.set_defaults(func=cmd_data)

    p = add("train", help="train a world model (base, owm or awm)")
    p.add_argument("env", choices=sorted(ENVS))
    p.add_argument("--model", default="state", help="state, pixel, patch or a 'module:Class' world model")
    p.add_argument("--variant", default="base", choices=("base", "owm", "awm"))
    p.add_argument("--size", default="small", choices=("small", "full"), help="dataset size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="retrain even if a checkpoint exists")
    _add_device(p)
    p.set_defaults(func=cmd_train)

    p = add("eval", help="evaluate entries: success rate vs planning budget, into Parquet")
    p.add_argument("--env", type=_csv, required=True, help="env(s), comma-separated")
    p.add_argument("--entry", type=_csv, required=True,
                   help="entry name(s) (GBP, GBP+OWM, GBP+AWM, CEM, MPPI, GD, iCEM, GBP-CEM, Oracle), "
                        "'module:Class[@variant]' or a wmbench.planners entry point")
    p.add_argument("--budgets", default="0.03,0.1,0.3,1",
                   help="seconds per plan call '0.1,1', iterations 'it:10,100' or evaluations 'ev:300,3000'")
    p.add_argument("--mode", default="mpc", choices=("mpc", "open-loop"))
    p.add_argument("--tasks", default="test", choices=("test", "dev"), help="task split")
    p.add_argument("--n-tasks", type=int, help="only the first N tasks of the split")
    p.add_argument("--seeds", type=_ints, default=(0,))
    p.add_argument("--max-steps", type=int, help="MPC env-step budget (default: the task suite's)")
    p.add_argument("--objective", default="exponential", choices=("exponential", "last"))
    p.add_argument("--threads", type=int, default=1, help="torch threads (recorded in every row)")
    p.add_argument("--model", default="state", help="world model kind the checkpoints were trained with")
    p.add_argument("--size", default="small", choices=("small", "full"), help="dataset size of the models")
    p.add_argument("--results", default="runs/eval", help="results directory (resumable)")
    _add_device(p)
    p.set_defaults(func=cmd_eval)

    p = add("report", help="regenerate plots and leaderboard.md from a results directory")
    p.add_argument("results")
    p.add_argument("--out", help="where leaderboard.md goes (default: the results directory); plots go to "
                                 "RESULTS/plots")
    p.set_defaults(func=cmd_report)

    p = add("run", help="run a preset end to end (data, training, evaluation, report)")
    p.add_argument("--preset", default="quick", choices=("quick", "full"))
    p.add_argument("--out", help="results directory (default runs/PRESET)")
    p.add_argument("--leaderboard", help="write leaderboard.md here instead of into the results directory")
    _add_device(p)
    p.set_defaults(func=cmd_run)

    p = add("reproduce", help="reproduce the paper's Table 1 or its time-budget claim on this machine")
    p.add_argument("what", choices=("table1", "budget"))
    p.add_argument("--preset", default="quick", choices=("quick", "full"), help="dataset size and seeds")
    p.add_argument("--model", default="state", help="state, pixel or a 'module:Class' world model")
    p.add_argument("--seeds", type=_ints, help="override the preset's seeds")
    p.add_argument("--out", help="results directory (default runs/table1-PRESET or runs/budget-PRESET)")
    _add_device(p)
    p.set_defaults(func=cmd_reproduce)

    p = add("tasks", help="describe an evaluation task suite")
    p.add_argument("env", choices=sorted(ENVS))
    p.add_argument("--split", default="test", choices=("test", "dev"))
    p.set_defaults(func=cmd_tasks)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not sys.stderr.isatty():  # logs and CI: a progress line every 30 s rather than every 0.1 s
        os.environ.setdefault("TQDM_MININTERVAL", "30")
    try:
        status = args.func(args) or 0
    except KeyboardInterrupt:
        print("wmbench: interrupted; finished work is kept, rerun the same command to resume",
              file=sys.stderr)
        return 130
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"wmbench: error: {message}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
