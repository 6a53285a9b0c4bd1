import json

import numpy as np
import pytest

from wmbench import tasks
from wmbench.cli import main
from wmbench.registry import env_classes
from wmbench.tasks import generate
from wmbench_envs import ENVS
from wmbench_envs.pointmaze_expert import maze_hops
from wmbench_envs.wall import door_crossing, door_offset

SHIPPED = sorted(tasks.SUITE_DIR.glob("*.json"))
MANIFEST = tasks.SUITE_DIR / tasks.suite.MANIFEST


@pytest.mark.parametrize("env", sorted(ENVS))
def test_default_suites_are_large_balanced_and_levelled(env):
    suite = tasks.load(env, "test")
    assert suite.version == tasks.default_version(env) == ("v2" if env == "pusht" else "v1")
    assert len(suite) >= 500
    assert suite.starts.shape == suite.goals.shape == (len(suite), env_classes(env)[0]().state_dim)
    assert suite.level_names == ("near", "far") and set(suite.levels) == {"near", "far"}
    assert suite.level_counts() == {"near": len(suite) // 2, "far": len(suite) // 2}
    assert list(suite.head(4).levels) == ["near", "far", "near", "far"]  # interleaved: prefixes are balanced
    dev = tasks.load(env, "dev")
    assert 30 <= len(dev) <= 60 and dev.level_counts() == {"near": len(dev) // 2, "far": len(dev) // 2}
    assert suite.step_cap == max(s.step_cap for s in suite.level_steps.values())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_no_task_of_a_levelled_suite_is_solved_at_reset(path):
    env, version, split = path.stem.split("-")
    suite = tasks.load(env, split, version)
    assert suite.sha256 == json.loads(path.read_text())["sha256"]
    if version != "v0":  # v0 is frozen as shipped (5% of its PointMaze tasks are solved at reset)
        assert not env_classes(env)[0].success(suite.starts, suite.goals).any()


def test_every_suite_version_and_split_is_shipped_for_every_env():
    names = {p.name for p in SHIPPED}
    assert names == {f"{env}-{version}-{split}.json"
                     for env in ENVS for version in tasks.ENV_VERSIONS[env] for split in tasks.SPLITS}
    assert set(tasks.ENV_VERSIONS) == set(ENVS)


def test_every_pusht_v2_task_replays_its_recorded_actions_to_its_goal():
    """v2 goals are reachable by construction: the shipped actions lead from each start to its goal, bit for
    bit, within the level's open-loop length."""
    sim = env_classes("pusht")[0]()
    for split in tasks.SPLITS:
        suite = tasks.load("pusht", split)
        for level in suite.level_names:
            part = suite.select_levels([level])
            actions = part.actions[:, :part.open_loop_steps]
            assert np.isfinite(actions).all() and np.isnan(part.actions[:, part.open_loop_steps:]).all()
            reached = sim.replay(part.starts, actions[:, :, None])[:, -1]
            assert np.array_equal(reached, part.goals) and sim.success(reached, part.goals).all()
            assert not sim.success(part.starts, part.goals).any()


def test_pusht_v2_draws_from_held_out_data_policy_episodes():
    """Every v2 task is a segment of an episode of the dataset's policy mix under a seed no dataset uses."""
    from wmbench.data import DATASETS

    assert all(spec.seed != generate.HELDOUT_SEED for sizes in DATASETS.values() for spec in sizes.values())
    suite = tasks.load("pusht", "dev")
    for i in (0, 1, 59):
        seed, level, start, goal, actions = generate.task("pusht", "dev", i)
        assert (seed, level) == (99 * (1000 + i) + 1, suite.levels[i])
        assert np.array_equal(start, suite.starts[i]) and np.array_equal(goal, suite.goals[i])
        assert np.array_equal(actions, suite.actions[i, :len(actions)])
    assert tasks.load("pusht", "dev", "v1").actions is None and suite.subset([3, 4]).actions.shape[0] == 2


@pytest.mark.parametrize("env", sorted(ENVS))
def test_v0_still_loads_and_regenerates(env):
    suite = tasks.load(env, "test", version="v0")
    assert len(suite) == 100 and suite.version == "v0" and set(suite.levels) == {""}
    assert (suite.step_cap, suite.open_loop_steps) == (50, 25) and suite.level_counts() == {"": 100}
    assert len(tasks.load(env, "dev", "v0")) == 30
    assert generate.generate(env, "dev", "v0") == json.loads(tasks.suite_path(env, "dev", "v0").read_text())


@pytest.mark.parametrize("env", sorted(ENVS))
def test_v1_regenerates_deterministically(env):
    """A slice of each v1 file regenerates bit for bit (whole suites take minutes)."""
    for split, indices in (("dev", (0, 1, 59)), ("test", (2, 3, 499))):
        shipped = json.loads(tasks.suite_path(env, split, "v1").read_text())
        for i in indices:
            seed, level, start, goal, actions = generate.task(env, split, i, "v1")
            assert actions is None
            assert (seed, level) == (shipped["seeds"][i], shipped["levels"][i])
            assert start.tolist() == shipped["starts"][i] and goal.tolist() == shipped["goals"][i]
        levels = generate.RECIPES["v1"].levels[env]
        assert shipped["level_steps"] == {lv.name: {"max_steps": lv.steps.step_cap,
                                                    "open_loop_steps": lv.steps.open_loop_steps}
                                          for lv in levels}


def test_level_measures_on_hand_made_tasks():
    bottom_left, top_left, bottom_right = np.array([0.8, 0.8]), np.array([0.8, 2.8]), np.array([2.8, 0.8])
    assert maze_hops(bottom_left, bottom_left + 0.3) == 0 and maze_hops(bottom_left, top_left) == 2
    assert maze_hops(bottom_left, bottom_right) == maze_hops(bottom_right, bottom_left) == 6
    assert door_crossing(np.array([20.0, 30.0]), np.array([44.0, 30.0])) == 24.0
    assert door_crossing(np.array([20.0, 26.0]), np.array([44.0, 36.0])) == 26.0  # through (32, 31)
    assert np.isnan(door_crossing(np.array([20.0, 10.0]), np.array([44.0, 10.0])))  # the wall is in the way


def test_levels_follow_their_definitions():
    maze = tasks.load("pointmaze", "test")
    hops = np.array([maze_hops(s, g) for s, g in zip(maze.starts, maze.goals, strict=True)])
    assert (hops[maze.levels == "near"] <= 1).all() and (hops[maze.levels == "far"] >= 4).all()
    wall = tasks.load("wall", "test")
    assert all(door_offset(s, g) <= 3.5 for s, g in zip(wall.starts, wall.goals, strict=True))
    span = np.linalg.norm(wall.goals - wall.starts, axis=1)
    assert (span[wall.levels == "near"] <= 30).all() and (span[wall.levels == "far"] >= 45).all()
    assert np.all((wall.starts[:, 0] < 32) != (wall.goals[:, 0] < 32))  # opposite sides, as in v0
    for version in ("v1", "v2"):
        pusht = tasks.load("pusht", "test", version)
        moved = np.linalg.norm(pusht.goals[:, 2:4] - pusht.starts[:, 2:4], axis=1)
        assert np.median(moved[pusht.levels == "far"]) > np.median(moved[pusht.levels == "near"])


def test_select_levels_keeps_ids_and_takes_the_levels_step_caps():
    suite = tasks.load("pusht", "dev")
    far = suite.select_levels(["far"])
    assert set(far.levels) == {"far"} and list(far.ids) == list(range(1, len(suite), 2))
    assert np.array_equal(far.starts, suite.starts[1::2])
    assert (far.step_cap, far.open_loop_steps) == (100, 50) and suite.step_cap == 100
    near = suite.select_levels(["near"])
    assert (near.step_cap, near.open_loop_steps) == (50, 25) and near.head(3).step_cap == 50
    assert suite.head(1).step_cap == 50 and suite.head(2).step_cap == 100
    assert len(suite.select_levels(["far", "near"])) == len(suite)
    with pytest.raises(ValueError, match="unknown task level.*'medium'.*'near', 'far'"):
        suite.select_levels(["medium"])
    with pytest.raises(ValueError, match="unknown task level"):
        suite.select_levels([])
    with pytest.raises(ValueError, match=r"levels \['far'\] have no step settings"):
        tasks.TaskSuite("pusht", "dev", "x", suite.starts, suite.goals, 50, 25, "sha", levels=suite.levels,
                        level_steps={"near": tasks.LevelSteps(50, 25)})


@pytest.fixture
def suites(tmp_path, monkeypatch):
    """A copy of the shipped suite folder (suite files and manifest) that the tests may edit."""
    for path in [*SHIPPED, MANIFEST]:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(tasks.suite, "SUITE_DIR", tmp_path)
    return tmp_path


def _edit(folder, edit, rehash: bool = True, manifest: bool = False) -> None:
    """Edit the Wall v1 dev suite in ``folder``; recompute the hash inside it and, with ``manifest``, the
    manifest too (an editor who rewrites everything)."""
    path = folder / "wall-v1-dev.json"
    payload = json.loads(path.read_text())
    edit(payload)
    body = {k: v for k, v in payload.items() if k != "sha256"}
    path.write_text(json.dumps({**body, "sha256": tasks.suite.digest(body) if rehash else payload["sha256"]}))
    if manifest:
        tasks.suite.write_manifest()


def test_the_manifest_lists_every_shipped_suite_file_and_regenerates(suites):
    assert [line.split()[1] for line in MANIFEST.read_text().splitlines()] == [p.name for p in SHIPPED]
    (suites / MANIFEST.name).unlink()
    with pytest.raises(ValueError, match="SHA256SUMS is missing or unreadable"):
        tasks.load("wall", "dev")
    tasks.suite.write_manifest()
    assert (suites / MANIFEST.name).read_bytes() == MANIFEST.read_bytes()


def test_the_generator_writes_the_manifest(suites, monkeypatch, capsys):
    monkeypatch.setattr(generate, "write", lambda env, split, version: None)  # the suites take minutes
    (suites / MANIFEST.name).unlink()
    generate.main(["v0"])
    assert (suites / MANIFEST.name).read_bytes() == MANIFEST.read_bytes()
    assert capsys.readouterr().out == f"wrote {suites / MANIFEST.name}\n"


@pytest.mark.parametrize("rehash", [False, True], ids=["edited", "edited and re-hashed"])
def test_an_edited_suite_fails_the_manifest(suites, rehash):
    _edit(suites, lambda payload: payload["levels"].__setitem__(0, "far"), rehash)
    with pytest.raises(ValueError, match=f"task suite {suites}/wall-v1-dev.json does not match its sha256 in "
                                         f"{suites}/SHA256SUMS; it was modified"):
        tasks.load("wall", "dev")


def test_a_suite_missing_from_the_manifest_is_refused(suites):
    manifest = suites / MANIFEST.name
    manifest.write_text("".join(line for line in manifest.read_text().splitlines(keepends=True)
                                if "wall-v1-dev" not in line))
    with pytest.raises(ValueError, match="wall-v1-dev.json is not listed in .*SHA256SUMS"):
        tasks.load("wall", "dev")


def _solve_task_3(payload):
    payload["goals"][3] = payload["starts"][3]


@pytest.mark.parametrize("edit, message", [
    (lambda p: p.update(env="pusht"), "it holds env 'pusht', not 'wall' as its file name says"),
    (lambda p: p.update(split="test"), "it holds split 'test', not 'dev' as its file name says"),
    (lambda p: p["level_steps"]["near"].update(max_steps=50.5),
     "max_steps of level 'near' is 50.5, not a whole number >= 1"),
    (lambda p: p["level_steps"]["far"].update(open_loop_steps=0),
     "open_loop_steps of level 'far' is 0, not a whole number >= 1"),
    (_solve_task_3, r"task\(s\) 3 are solved at reset"),
    (lambda p: p.update(levels=p["levels"][:-1]), "59 levels for 60 tasks"),
], ids=["env", "split", "fractional max_steps", "zero open_loop_steps", "solved at reset", "levels"])
def test_an_edited_suite_with_a_rewritten_manifest_fails_its_content_check(suites, edit, message):
    _edit(suites, edit, manifest=True)
    with pytest.raises(ValueError, match=f"task suite {suites}/wall-v1-dev.json is malformed \\(.*{message}"):
        tasks.load("wall", "dev")


def test_unknown_env_split_and_version():
    with pytest.raises(FileNotFoundError, match="no task suite"):
        tasks.load("cartpole")
    with pytest.raises(ValueError, match="unknown task split"):
        tasks.load("wall", "train")
    with pytest.raises(ValueError, match="unknown task-suite version 'v9'"):
        tasks.load("wall", "dev", "v9")
    with pytest.raises(ValueError, match=r"no task-suite version 'v2' for env 'wall'; its versions: \['v0'"):
        tasks.load("wall", "dev", "v2")


def test_tasks_command_prints_the_count_per_level(capsys):
    assert main(["tasks", "pusht", "--split", "dev"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pusht dev v2: 60 tasks")
    assert out[1].split()[:6] == ["near", "30", "tasks,", "MPC", "step", "cap"] and "50 env steps" in out[1]
    assert out[2].split()[:2] == ["far", "30"] and "100 env steps" in out[2]
    assert main(["tasks", "wall", "--version", "v0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["(no", "levels)", "100", "tasks,", "MPC", "step", "cap", "50", "env", "steps,",
                              "open-loop", "25", "env", "steps"]


# Clean expert success on the first 100 test tasks within each level's MPC cap (measured on all 500 test
# tasks: PointMaze and Wall 1.00 at both levels, PushT near 0.78, far 0.97).
EXPERT_THRESHOLDS = {"pointmaze": 0.95, "pusht": 0.7, "wall": 0.95}


@pytest.mark.parametrize("env", sorted(ENVS))
def test_clean_expert_solves_task_suite(env):
    suite = tasks.load(env, "test").head(100)
    env_cls, expert_cls = env_classes(env)
    expert = expert_cls(env_cls(), noise=0.0, seed=0)
    for level in suite.level_names:
        part = suite.select_levels([level])
        solved = sum(expert.solves(start, goal, part.step_cap)
                     for start, goal in zip(part.starts, part.goals, strict=True))
        assert solved / len(part) >= EXPERT_THRESHOLDS[env]
