"""The command line: cheap start-up, choices from the layers' constants, and one line with exit status 2 for
every user error (never a traceback)."""

import argparse
import errno
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import wmbench.report
from wmbench import cli
from wmbench.cli import SETTING_OPTIONS, build_parser, main
from wmbench.data import DATASETS
from wmbench.protocols import DEFAULT, PROTOCOLS

LONG = "x" * 300  # longer than any file-name limit (255 bytes)
ORACLE_EVAL = ["eval", "--env", "wall", "--entry", "Oracle", "--budgets", "it:1", "--n-tasks", "1", "--split",
               "dev", "--step-cap", "2"]


def test_importing_wmbench_does_not_import_torch():
    code = ("import sys, wmbench, wmbench_envs, wmbench.data, wmbench.models, wmbench.tasks, wmbench.cli, "
            "wmbench.report; assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_building_the_parser_and_parsing_do_not_import_torch():
    code = ("import sys; from wmbench.cli import build_parser; p = build_parser(); p.format_help(); "
            "p.parse_args(['data', 'list']); p.parse_args(['eval', '--env', 'wall', '--entry', 'GBP']); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def _options(parser: argparse.ArgumentParser) -> dict[tuple[str, str], argparse.Action]:
    """(command, dest) -> action of every subcommand option."""
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {(name, action.dest): action
            for name, sub in subparsers.choices.items() for action in sub._actions}


def test_choices_and_defaults_come_from_the_owning_constants():
    from wmbench.data import SIZES
    from wmbench.harness.entries import ENTRIES
    from wmbench.harness.episodes import MODES
    from wmbench.models import MODELS
    from wmbench.planning.objective import WEIGHTINGS
    from wmbench.presets import PRESETS
    from wmbench.tasks import SPLITS
    from wmbench.training.config import VARIANTS
    from wmbench_envs import ENVS

    options = _options(build_parser())
    expected = {("data", "size"): SIZES, ("train", "env"): tuple(ENVS), ("train", "variant"): VARIANTS,
                ("train", "size"): SIZES, ("eval", "mode"): MODES, ("eval", "split"): tuple(SPLITS),
                ("eval", "objective"): WEIGHTINGS, ("eval", "size"): SIZES, ("run", "preset"): tuple(PRESETS),
                ("reproduce", "preset"): tuple(PRESETS), ("tasks", "env"): tuple(ENVS),
                ("tasks", "split"): tuple(SPLITS)}
    for key, values in expected.items():
        assert tuple(options[key].choices) == tuple(values), key
    for key, action in options.items():
        if action.choices is not None and action.default is not None:
            assert action.default in action.choices, key
    assert tuple(options["eval", "protocol"].choices) == tuple(PROTOCOLS)
    for option in SETTING_OPTIONS:  # ad-hoc settings: None unless given, the default protocol's named in help
        assert options["eval", option].default is None, option
    assert PROTOCOLS[DEFAULT].budgets in options["eval", "budgets"].help
    for command in ("train", "reproduce"):
        assert options[command, "model"].default in MODELS
    for command in ("train", "eval", "reproduce"):
        assert all(name in options[command, "model"].help for name in MODELS)
    assert all(name in options["eval", "entry"].help for name in ENTRIES)
    assert "NAME[(key=value, ...)][@variant]" in options["eval", "entry"].help


def test_entry_lists_split_on_commas_outside_brackets_and_quotes():
    args = build_parser().parse_args(["eval", "--env", "wall", "--entry",
                                      "CEM(samples=1000, topk=50),GBP, GD(tag='a,(b')@awm"])
    assert args.entry == ("CEM(samples=1000, topk=50)", "GBP", "GD(tag='a,(b')@awm")


def test_eval_runs_entries_with_planner_arguments(tmp_path, capsys):
    results = tmp_path / "deep" / "results"
    argv = [*ORACLE_EVAL, "--entry", "Oracle(samples=16, topk=4),Oracle", "--results", str(results)]
    assert main([*argv, "--home", str(tmp_path)]) == 0
    assert f"results in {results}" in capsys.readouterr().out
    from wmbench.harness.schema import read_results

    rows = read_results(results)
    assert sorted(rows["entry"].unique()) == ["Oracle", "Oracle(samples=16, topk=4)"]


def _error(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("wmbench: error: ") and len(err.splitlines()) == 1, err
    return err


def _file(tmp_path: Path) -> str:
    (tmp_path / "afile").write_text("not a directory")
    return str(tmp_path / "afile")


@pytest.mark.parametrize("argv, message", [
    # unknown names, malformed values
    (["eval", "--env", "cartpole", "--entry", "GBP"], "unknown env 'cartpole'"),
    (["eval", "--env", "wall", "--entry", "NoSuchPlanner"], "unknown entry 'NoSuchPlanner'"),
    (["eval", "--env", "wall", "--entry", "GBP", "--budgets", "0.1,fast"], "malformed budget list"),
    (["eval", "--env", "wall", "--entry", "CEM(samples=)"], "must be key=value pairs"),
    (["eval", "--env", "wall", "--entry", "CEM(samples=1"], "malformed entry"),
    (["eval", "--env", "wall", "--entry", "CEM@nope"], "unknown world-model variant 'nope'"),
    ([*ORACLE_EVAL, "--entry", "Oracle(bogus=1)"], "cannot build planner"),
    (["data", "build", "nope-expert-v0"], "unknown dataset"),
    # numbers out of range
    ([*ORACLE_EVAL, "--n-tasks", "0"], "n_tasks must be >= 1"),
    ([*ORACLE_EVAL, "--n-tasks", "-1"], "n_tasks must be >= 1"),
    ([*ORACLE_EVAL, "--step-cap", "0"], "step_cap must be >= 1"),
    ([*ORACLE_EVAL, "--step-cap", "-1"], "step_cap must be >= 1"),
    ([*ORACLE_EVAL, "--seeds", "99999999999999999999"], "seeds must be in [0, 2147483647]"),
    ([*ORACLE_EVAL, "--seeds", "-1"], "seeds must be in [0, 2147483647]"),
    (["train", "wall", "--model-seed", "99999999999999999999"], "--model-seed must be in [0, 2147483647]"),
    (["train", "wall", "--model-seed", "-1"], "--model-seed must be in [0, 2147483647]"),
    (["train", "wall", "--owm-rounds", "12"], "--owm-rounds and --owm-rollouts are for --variant owm"),
    (["reproduce", "table1", "--seeds", "99999999999999999999"], "seeds must be in [0, 2147483647]"),
    (["reproduce", "budget", "--env", "wall", "--threads", "2", "--seeds", "0,-1"], "seeds must be in"),
    # files and folders: missing, a file where a folder is expected, empty, names too long for the system
    (["eval", "--env", "wall", "--entry", "GBP+AWM", "--trained"], "no awm world model for wall"),
    (["eval", "--env", "wall", "--entry", "GBP+AWM", "--trained"],
     "run `wmbench train wall --model state --variant awm --size small`"),
    (["eval", "--env", "wall", "--entry", "GBP+AWM", "--size", "full", "--trained"],
     "no awm world model for wall"),
    (["eval", "--env", "wall", "--entry", "GBP", "--levels", "medium"], "unknown task level"),
    (["train", "wall"], "wmbench data build wall-expert-v1 --size small"),
    (["train", "wall", "--dataset", "wall-expert-v0"], "wmbench data build wall-expert-v0 --size small"),
    (["data", "build", "nope-expert-v0"], "unknown dataset"),
    (["report", "no/such/dir"], "does not exist"),
    ([*ORACLE_EVAL, "--results", ""], "--results is empty"),
    ([*ORACLE_EVAL, "--results", "{file}"], "--results {file} is a file, not a directory"),
    (["report", "{tmp}", "--out", "{file}"], "--out {file} is a file, not a directory"),
    (["run", "--out", "{file}"], "--out {file} is a file, not a directory"),
    (["reproduce", "budget", "--out", "{file}"], "--out {file} is a file, not a directory"),
    (["run", "--leaderboard", "{tmp}/board.md"], "give a path ending in leaderboard.md"),
    (["data", "list", "--home", "{file}"], "--home {file} is a file, not a directory"),
    (["data", "build", "wall-expert-v0", "--home", f"{{tmp}}/{LONG}"], f"{{tmp}}/{LONG}: File name too long"),
    ([*ORACLE_EVAL, "--results", f"{{tmp}}/{LONG}"], f"{{tmp}}/{LONG}: File name too long"),
    ([*ORACLE_EVAL, "--results", "r\udcff"], "argument 'r\\udcff' is not valid UTF-8"),
    (["report", "{tmp}", "--out", f"{{tmp}}/{LONG}/x"], f"{{tmp}}/{LONG}/x: File name too long"),
    # plugins that are not what they claim
    (["train", "wall", "--model", "nope"], "unknown --model 'nope'; choose one of state, pixel, patch"),
    (["train", "wall", "--model", "nosuch.pkg:Model"], "cannot import 'nosuch.pkg:Model'"),
    (["train", "wall", "--model", "wmbench.io:sha256_file"], "is not a class"),
    (["train", "wall", "--model", "pathlib:Path"], "has no from_dataset classmethod"),
    (["reproduce", "table1", "--model", "nope"], "unknown --model 'nope'"),
    (["reproduce", "table1", "--env", "cartpole"], "unknown env 'cartpole'"),
    ([*ORACLE_EVAL, "--entry", "wmbench.io:atomic_write"], "is not a wmbench.planning.Planner subclass"),
    ([*ORACLE_EVAL, "--entry", f"wmbench.{LONG}:Planner"], "cannot import"),
])
def test_bad_input_gives_one_line_error(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    fill = {"file": _file(tmp_path), "tmp": str(tmp_path)}
    argv = [a.format(**fill) for a in argv]
    err = _error(argv if "--home" in argv else [*argv, "--home", str(home)], capsys)
    assert message.format(**fill) in err
    assert not (home / "datasets").exists() and not (home / "models").exists()  # failed before any work


#: (command, folder made read-only, where its work starts, the message). Tests run as root, whom file modes
#: do not stop: the check asks os.access, which the test answers.
READ_ONLY = [
    (["train", "wall"], "home/models", "wmbench.training:train",
     "the model directory (--home or $WMBENCH_HOME) {tmp}/home/models is not writable"),
    (["train", "wall"], "home", "wmbench.training:train",
     "the model directory (--home or $WMBENCH_HOME) {tmp}/home/models is not writable ({tmp}/home is not)"),
    (["data", "build", "wall-expert-v0"], "home/datasets", "wmbench.data:build",
     "the dataset directory (--home or $WMBENCH_HOME) {tmp}/home/datasets is not writable"),
    (["run", "--out", "{tmp}/run"], "home/models", "wmbench.presets:run_preset", "the model directory"),
    (["reproduce", "table1", "--out", "{tmp}/run"], "home/datasets", "wmbench.reproduce:reproduce_table1",
     "the dataset directory"),
    ([*ORACLE_EVAL, "--results", "{tmp}/results"], "results", "wmbench.harness.sweep:run_sweep",
     "--results {tmp}/results is not writable"),
    (["report", "{tmp}/results", "--out", "{tmp}/board"], "board", "wmbench.report:report",
     "--out {tmp}/board is not writable"),
    (["report", "{tmp}/results"], "results/plots", "wmbench.report:report",
     "the plots folder {tmp}/results/plots is not writable"),
    (["data", "export", "wall-expert-v0", "--out", "{tmp}/board/minari"], "board",
     "wmbench.data.export:export_minari", "--out {tmp}/board/minari is not writable ({tmp}/board is not)"),
    (["video", "--env", "wall", "--entry", "Oracle", "--task", "0", "--out", "{tmp}/board/x.gif"], "board",
     "wmbench.report.video:episode_video", "--out's folder {tmp}/board is not writable"),
]


@pytest.mark.parametrize("argv, locked, work, message", READ_ONLY)
def test_write_permission_is_checked_before_any_work(argv, locked, work, message, tmp_path, capsys,
                                                     monkeypatch):
    for folder in (locked, *(f for f in ("home/models", "home/datasets", "results/plots", "board")
                             if not f.startswith(f"{locked}/"))):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        Path(path).absolute() != tmp_path / locked and real(path, mode, **kw)))

    def work_ran(*args, **kwargs):
        raise AssertionError("the work started before the write check")

    module, name = work.split(":")
    monkeypatch.setattr(importlib.import_module(module), name, work_ran)
    argv = [a.format(tmp=tmp_path) for a in argv]
    err = _error([*argv, "--home", str(tmp_path / "home")], capsys)
    assert message.format(tmp=tmp_path) in err
    if "not writable" in message:
        assert err.endswith("; choose another directory or fix its permissions")


@pytest.mark.parametrize("argv, message", [
    (["train", "wall", "--home", "{file}/home"],
     "the model directory (--home or $WMBENCH_HOME) {file}/home/models: {file} is a file, not a directory"),
    ([*ORACLE_EVAL, "--results", "{file}/results"], "{file}/results: Not a directory"),
])
def test_a_folder_under_a_file_is_named(argv, message, tmp_path, capsys):
    fill = {"file": _file(tmp_path)}
    assert _error([a.format(**fill) for a in argv], capsys) == f"wmbench: error: {message.format(**fill)}"


def test_wmbench_home_that_is_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WMBENCH_HOME", _file(tmp_path))
    trained_eval = ["eval", "--env", "wall", "--entry", "GBP", "--trained"]
    for argv in (["data", "list"], trained_eval, ["train", "wall"]):
        assert f"WMBENCH_HOME {tmp_path / 'afile'} is a file" in _error(argv, capsys)


def test_corrupt_checkpoint_fails_before_the_sweep(tmp_path, capsys):
    from wmbench.models.checkpoint import checkpoint_path

    path = checkpoint_path("wall", "state", "base", "small", 0, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"junk")
    results = tmp_path / "results"
    err = _error(["eval", "--env", "wall", "--entry", "GBP", "--home", str(tmp_path), "--trained",
                  "--results", str(results)], capsys)
    assert f"{path} is corrupt" in err and "train again" in err
    assert not results.exists()


@pytest.mark.parametrize("exc, message", [
    (PermissionError(errno.EACCES, "Permission denied", "/r/board.md"), "/r/board.md: Permission denied"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/r/plots"), "/r/plots: Is a directory"),
    (OSError(errno.ENOSPC, "No space left on device", "/r/x.png"), "/r/x.png: No space left on device"),
    (OSError(errno.ENAMETOOLONG, "File name too long", "/r/" + LONG), f"/r/{LONG}: File name too long"),
    (ImportError("cannot import plugin"), "cannot import plugin"),
    (KeyError("unknown thing 'x'"), "unknown thing 'x'"),
    (ValueError("first line\n  second line"), "first line second line"),
])
def test_system_errors_name_the_path_on_one_line(exc, message, tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(wmbench.report, "report", fail)
    assert _error(["report", str(tmp_path)], capsys) == f"wmbench: error: {message}"


def test_ctrl_c_exits_130_with_a_resume_note(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(wmbench.report, "report", interrupted)
    assert main(["report", str(tmp_path)]) == 130
    assert capsys.readouterr().err == \
        "wmbench: interrupted; finished work is kept, rerun the same command to resume\n"


@pytest.mark.parametrize("argv, message", [
    (["data", "build", "wall-expert-v0", "--workers", "0"], "expected a whole number >= 1"),
    (["eval", "--env", "wall", "--entry", "GBP,GBP"], "GBP listed twice"),
    (["eval", "--env", "wall", "--entry", "GBP", "--seeds", "0,0"], "0 listed twice"),
    (["eval", "--env", "wall", "--entry", "GBP", "--seeds", "1.5"], "expected comma-separated integers"),
    (["eval", "--env", ",", "--entry", "GBP"], "expected a comma-separated list"),
    (["eval", "--env", "wall", "--entry", "GBP", "--mode", "bogus"], "invalid choice: 'bogus'"),
    (["train", "wall", "--variant", "xyz"], "invalid choice: 'xyz'"),
    (["train", "wall", "--threads", "0"], "expected a whole number >= 1"),
    (["sweep"], "invalid choice: 'sweep'"),
])
def test_usage_errors_exit_2_without_traceback(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _bad_dataset(home: Path) -> Path:
    """A wall dataset whose steps file is shorter than its manifest says."""
    from wmbench import data

    directory = data.dataset_dir("wall-expert-v0", "small", home)
    directory.mkdir(parents=True)
    (directory / "steps.parquet").write_bytes(b"x" * 10)
    manifest = {"schema_version": 1, "spec": data.get_spec("wall-expert-v0", "small").to_dict(),
                "content_hash": "0" * 64, "episodes": 200, "episode_len": 50, "state_dim": 2, "action_dim": 2,
                "files": {"steps.parquet": {"sha256": "0" * 64, "bytes": 10, "rows": 10_000}}}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def test_data_list_says_built_not_built_or_corrupt(tmp_path, capsys):
    assert main(["data", "list", "--home", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == sum(map(len, DATASETS.values())) and all(line.split()[5] == "-" for line in lines)
    assert ("pusht-expert-v1        xl      10000 x 200  -       PushTPoker 40% (noise 0.1), expert 60% "
            "(noise 0: 10%, 0.1: 20%, 0.25: 15%, 0.5: 15%)") in lines
    directory = _bad_dataset(tmp_path)
    assert main(["data", "list", "--home", str(tmp_path)]) == 0
    assert "wall-expert-v0         small     200 x 50   built" in capsys.readouterr().out
    (directory / "steps.parquet").write_bytes(b"x" * 5)
    (tmp_path / "datasets" / "pusht-expert-v0" / "small").mkdir(parents=True)
    assert main(["data", "list", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "wall-expert-v0         small     200 x 50   corrupt" in out
    assert "pusht-expert-v0        small     100 x 100  corrupt" in out
    assert "steps.parquet has 5 bytes" in out and "manifest.json is missing" in out
    assert "run `wmbench data build wall-expert-v0 --size small --force`" in out
    assert "run `wmbench data build pusht-expert-v0 --size small --force`" in out


def test_train_on_a_corrupt_dataset_names_the_file_and_the_fix(tmp_path, capsys):
    _bad_dataset(tmp_path)
    (tmp_path / "datasets" / "wall-expert-v0" / "small" / "steps.parquet").write_bytes(b"x" * 5)
    err = _error(["train", "wall", "--dataset", "wall-expert-v0", "--home", str(tmp_path)], capsys)
    assert "steps.parquet has 5 bytes" in err
    assert "wmbench data build wall-expert-v0 --size small --force" in err


@pytest.mark.parametrize("argv", [["data", "list"], ["--help"], ["tasks", "wall"]])
def test_a_closed_pipe_ends_quietly(argv):
    proc = subprocess.Popen([sys.executable, "-m", "wmbench.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before wmbench writes (as `| head -1` after one line)
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""


def test_tasks_and_data_list(tmp_path, capsys):
    assert main(["tasks", "wall", "--home", str(tmp_path)]) == 0
    assert "wall test v1: 500 tasks" in capsys.readouterr().out
    assert main(["data", "list", "--home", str(tmp_path)]) == 0
    assert "pusht-expert-v0" in capsys.readouterr().out


def test_user_facing_hints_name_commands_and_options_that_exist():
    """Every `wmbench COMMAND --option` quoted in the package's messages is a real command and option."""
    import re

    options = _options(build_parser())
    commands = {command for command, _ in options}
    flags = {command: {flag for (c, _), a in options.items() if c == command for flag in a.option_strings}
             for command in commands}
    hints = []
    for path in Path(cli.__file__).parent.rglob("*.py"):
        hints += re.findall(r"`wmbench ([a-z]+)([^`]*)`", path.read_text())
    assert len(hints) > 5
    for command, rest in hints:
        assert command in commands, (command, rest)
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest):
            assert flag in flags[command], (command, flag)


def test_train_options_override_the_training_config():
    args = build_parser().parse_args(["train", "pusht", "--variant", "owm", "--owm-rounds", "12",
                                      "--owm-rollouts", "512", "--patience", "3"])
    config = cli.train_config(args)
    assert (config.owm_rounds, config.owm_rollouts, config.patience, config.owm_steps) == (12, 512, 3, 250)


def test_an_ad_hoc_objective_applies_to_every_planner_which_keeps_its_mpc_execution(tmp_path):
    from wmbench.harness.schema import read_results

    results = tmp_path / "results"
    argv = ["eval", "--env", "wall", "--entry", "GBP,MPPI(samples=4),CEM(samples=4, topk=2)", "--budgets",
            "it:1", "--n-tasks", "1", "--split", "dev", "--step-cap", "5", "--objective", "last", "--results",
            str(results)]
    assert main(argv) == 0
    rows = read_results(results).drop_duplicates("entry").set_index("entry")
    assert set(rows["objective"]) == {"last"} and set(rows["protocol"]) == {""}
    assert rows["execute_steps"].to_dict() == {"GBP": 1, "MPPI(samples=4)": 1, "CEM(samples=4, topk=2)": 5}
