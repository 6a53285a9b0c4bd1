import json

import numpy as np
import pytest

from wmbench import tasks
from wmbench.envs import ENVS
from wmbench.registry import env_classes


@pytest.mark.parametrize("env", sorted(ENVS))
def test_suites_load_with_hash_and_size(env):
    suite = tasks.load(env, "test")
    assert len(suite) == 100 and suite.starts.shape == suite.goals.shape
    assert suite.max_steps == tasks.MAX_STEPS and suite.open_loop_steps == 25
    assert len(tasks.load(env, "dev")) == 30
    assert suite.head(7).starts.shape[0] == 7


@pytest.mark.parametrize("env", sorted(ENVS))
def test_shipped_suite_matches_generator(env):
    regenerated = tasks.generate(env, "dev")
    shipped = json.loads(tasks.suite_path(env, "dev").read_text())
    assert regenerated == shipped


def test_wall_tasks_on_opposite_sides():
    suite = tasks.load("wall", "test")
    assert np.all((suite.starts[:, 0] < 32) != (suite.goals[:, 0] < 32))


def test_pusht_goal_is_simulated_replay_and_not_already_solved():
    suite = tasks.load("pusht", "test")
    env_cls = env_classes("pusht")[0]
    solved = env_cls.success(suite.starts, suite.goals)
    assert solved.mean() < 0.5


def test_tampered_suite_is_rejected(tmp_path, monkeypatch):
    payload = json.loads(tasks.suite_path("wall", "dev").read_text())
    payload["goals"][0][0] += 1.0
    (tmp_path / "wall-v0-dev.json").write_text(json.dumps(payload))
    monkeypatch.setattr(tasks, "SUITE_DIR", tmp_path)
    with pytest.raises(ValueError, match="sha256"):
        tasks.load("wall", "dev")


def test_unknown_env_and_split():
    with pytest.raises(FileNotFoundError, match="no task suite"):
        tasks.load("cartpole")
    with pytest.raises(ValueError, match="unknown task split"):
        tasks.load("wall", "train")


# Documented expert success on the shipped test suites within the MPC step budget
# (measured: pointmaze 1.00, pusht 0.79, wall 1.00).
EXPERT_THRESHOLDS = {"pointmaze": 0.95, "pusht": 0.7, "wall": 0.95}


@pytest.mark.parametrize("env", sorted(ENVS))
def test_clean_expert_solves_task_suite(env):
    suite = tasks.load(env, "test")
    env_cls, expert_cls = env_classes(env)
    expert = expert_cls(env_cls(), noise=0.0, seed=0)
    solved = sum(expert.solves(start, goal, suite.max_steps) for start, goal in zip(suite.starts, suite.goals,
                                                                                  strict=True))
    assert solved / len(suite) >= EXPERT_THRESHOLDS[env]
