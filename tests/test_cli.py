"""The command line: cheap start-up and one-line errors for bad input."""

import subprocess
import sys

import pytest

from wmbench.cli import main


def test_importing_wmbench_does_not_import_torch():
    code = ("import sys, wmbench, wmbench.envs, wmbench.data, wmbench.models, wmbench.tasks, wmbench.cli, "
            "wmbench.report; assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("argv, message", [
    (["eval", "--env", "cartpole", "--entry", "GBP"], "unknown env 'cartpole'"),
    (["eval", "--env", "wall", "--entry", "NoSuchPlanner"], "unknown entry 'NoSuchPlanner'"),
    (["eval", "--env", "wall", "--entry", "GBP", "--budgets", "0.1,fast"], "malformed budget list"),
    (["eval", "--env", "wall", "--entry", "GBP+AWM"], "no awm state world model for wall"),
    (["train", "wall"], "wmbench data build wall-expert-v0 --size small"),
    (["data", "build", "nope-expert-v0"], "unknown dataset"),
    (["report", "no/such/dir"], "does not exist"),
])
def test_bad_input_gives_one_line_error(argv, message, tmp_path, capsys):
    assert main([*argv, "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wmbench: error:") and message in err
    assert len(err.splitlines()) == 1


def test_tasks_and_data_list(tmp_path, capsys):
    assert main(["tasks", "wall", "--home", str(tmp_path)]) == 0
    assert "wall test v1: 500 tasks" in capsys.readouterr().out
    assert main(["data", "list", "--home", str(tmp_path)]) == 0
    assert "pusht-expert-v0" in capsys.readouterr().out
