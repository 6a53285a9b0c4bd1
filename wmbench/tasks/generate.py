"""Task-suite generation: the recipes of every version (maintainers: ``python -m wmbench.tasks [VERSION]``).

Task ``i`` of a split is drawn from its own generator ``np.random.default_rng(99 n + 1)`` with ``n`` its task
number (test: n = i, dev: n = 1000 + i), so every task regenerates alone and the files are deterministic.

**v0** (100 test, 30 dev tasks, no levels; frozen): one draw of the env's recipe per task.

* PointMaze, Wall: ``start, goal = env.sample_start_goal(rng)`` (Wall: opposite sides of the wall).
* PushT: from a sampled start, the noisy expert (noise 0.3, seeded with the task seed, heading for the sampled
  goal) runs a seeded number of warm-up steps (0-49) to reach a dataset-like state, the task's start; the
  goal is the state reached by the next 25 expert steps in the simulator (``goal_source: 'dset'``).

**v1** (500 test, 60 dev tasks; the default): task ``i`` has level ``levels[i % 2]`` (levels interleave, so
every prefix of a split is balanced). Draws of the v0 recipe repeat, from the task's generator, until the
task belongs to its level and does not satisfy the env's ``success`` at reset. The levels:

* PointMaze, by maze cells between start and goal along the U (BFS hops): ``near`` at most 1 hop (the same
  arm), ``far`` at least 4 hops (across the U: the straight line crosses the inner wall, a greedy path stalls
  against it).
* Wall, tasks whose straight start-goal segment passes the door (meets the wall's centre line x = 32 within
  3.5 px of the door centre), by the segment's length: ``near`` at most 30 px (start and goal close to the
  door), ``far`` at least 45 px (the door threaded from afar). Tasks whose straight path the wall blocks are
  left out: with a distance objective every planner, the Oracle included, stalls against the wall at any
  budget (measured on such tasks: 0-10% success).
* PushT, by the expert steps from start to goal: ``near`` 25 (v0's recipe), ``far`` 50.

Each level has its own MPC step cap and open-loop length (`RECIPES`). Clean-expert env steps to
success on the v1 test suites (median / max): PointMaze near 5 / 15, far 19 / 29; Wall near 12 / 16, far
21 / 27; PushT near 26 / 109, far 50 / over 200 (within the caps the PushT expert solves 78% of the near and
97% of the far tasks, the others 100%).

Where more planning helps (dev split, MPC, success at iteration budgets 1 -> 32, base state world models
of the small datasets; Oracle: CEM with 64 samples through the simulator): with horizon 5, ``execute_steps``
5 (the whole plan runs before the next replan) and the ``last`` objective, PointMaze far rises for CEM
(63 -> 83%) and GBP (2 -> 71%), Wall far for CEM (0 -> 100%), GBP (0 -> 83%) and the Oracle (0 -> 100%),
PushT near and far for the Oracle (5 -> 60% each; the world models stay at or below 20%). The near levels
of PointMaze and Wall saturate within 1-4 iterations. With v0's MPC settings (replan after every planning
step, ``exponential`` objective) the PointMaze and Wall curves are flat after 1-2 iterations.

**v2** (PushT only; the default there; 500 test, 60 dev tasks, levels as in v1): the paper's code draws PushT
tasks from held-out trajectories of its dataset, the goal being the state its recorded actions reach, so v2
does too. Draw ``k`` of task number ``n`` rolls out episode ``1000 n + k`` of `HELDOUT_DATASET`'s data
policy mix (200 steps) under `HELDOUT_SEED`, which no dataset uses; an offset is drawn from the task's
generator, the start is the state there and the goal is the state reached by replaying the next 25 (``near``)
or 50 (``far``) recorded actions from it in the simulator. Draws repeat until the start does not satisfy the
goal. The file ships the actions, so every goal is reachable by construction (a test replays them all). v1's
PushT goals came from a noisy scripted expert after a random warm-up, which the clean expert itself solved
in only 78% of the near tasks within the step cap; on v2's dev split the Oracle (CEM, 300 samples, 16
iterations, through the simulator) solves 30 of 30 near tasks. PointMaze and Wall keep v1: the paper draws
their start and goal independently in free space, as v1 does, and there the simulator Oracle is near its
ceiling already (MPC, dev split, 64 samples and 8 iterations: PointMaze near 100%, far 87%; Wall 100%).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from wmbench.data.rollout import rollout_episodes
from wmbench.data.specs import get_spec
from wmbench.registry import env_classes, env_entries
from wmbench.tasks.suite import (
    ENV_VERSIONS,
    VERSIONS,
    LevelSteps,
    default_version,
    digest,
    suite_path,
    write_manifest,
)
from wmbench_envs import ENVS
from wmbench_envs.base import GoalEnv
from wmbench_envs.pointmaze_expert import maze_hops
from wmbench_envs.wall import door_crossing

PUSHT_WARMUP_MAX = 50
PUSHT_EXPERT_NOISE = 0.3
#: v2: the dataset whose data policy plays the held-out episodes, and the seed of those episodes (datasets
#: use seed 0, so no held-out episode is in any training set).
HELDOUT_DATASET = "pusht-expert-v1"
HELDOUT_SEED = 20261205
#: Draws per task before giving up (the rarest v1 level, Wall near, accepts about one draw in 26).
MAX_DRAWS = 1000


@dataclass(frozen=True)
class Level:
    """A difficulty level: its name, step settings, which (start, goal) pairs belong to it and, for PushT,
    how many noisy-expert steps separate start and goal."""

    name: str
    steps: LevelSteps
    accepts: Callable[[np.ndarray, np.ndarray], bool] = lambda start, goal: True
    ahead: int = 25


@dataclass(frozen=True)
class Recipe:
    """One suite version: task numbers per split, levels per env (easiest first), rejection of tasks
    solved at reset."""

    numbers: Mapping[str, range]
    levels: Mapping[str, tuple[Level, ...]]
    reject_solved: bool
    segments: bool = False  #: v2: tasks are segments of held-out data-policy episodes (`_segment`)


RECIPES = {
    "v0": Recipe({"test": range(0, 100), "dev": range(1000, 1030)},
                 {env: (Level("", LevelSteps(50, 25)),) for env in ENVS}, reject_solved=False),
    "v1": Recipe({"test": range(0, 500), "dev": range(1000, 1060)}, {
        "pointmaze": (Level("near", LevelSteps(50, 25), lambda s, g: maze_hops(s, g) <= 1),
                      Level("far", LevelSteps(50, 50), lambda s, g: maze_hops(s, g) >= 4)),
        "wall": (Level("near", LevelSteps(50, 25), lambda s, g: door_crossing(s, g) <= 30.0),
                 Level("far", LevelSteps(50, 50), lambda s, g: door_crossing(s, g) >= 45.0)),
        "pusht": (Level("near", LevelSteps(50, 25), ahead=25), Level("far", LevelSteps(100, 50), ahead=50)),
    }, reject_solved=True),
    "v2": Recipe({"test": range(0, 500), "dev": range(1000, 1060)}, {
        "pusht": (Level("near", LevelSteps(50, 25), ahead=25), Level("far", LevelSteps(100, 50), ahead=50)),
    }, reject_solved=True, segments=True),
}


def _draw(env: str, sim: GoalEnv, rng: np.random.Generator, seed: int, ahead: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """One draw of the env's recipe (module docstring)."""
    start, goal = sim.sample_start_goal(rng)
    if env != "pusht":
        return start, goal
    sim.reset(seed=seed, options={"state": start, "goal": goal})
    expert = env_classes(env)[1](sim, noise=PUSHT_EXPERT_NOISE, seed=seed)
    expert.reset(goal)
    for _ in range(int(rng.integers(0, PUSHT_WARMUP_MAX))):
        sim.step(expert.act(sim.get_state()))
    start = sim.get_state()
    for _ in range(ahead):
        sim.step(expert.act(sim.get_state()))
    return start, sim.get_state()


def _segment(env: str, sim: GoalEnv, rng: np.random.Generator, draw: int, ahead: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One v2 draw: episode ``draw`` of the held-out data-policy episodes (`HELDOUT_DATASET`'s policy mix
    under `HELDOUT_SEED`), an offset drawn from ``rng``, and the goal reached by replaying the ``ahead``
    recorded actions from the start: ``(start, goal, actions [ahead, A])``."""
    spec = dataclasses.replace(get_spec(HELDOUT_DATASET, "full"), seed=HELDOUT_SEED)
    episode = rollout_episodes(spec, env_entries(env), draw, draw + 1)
    offset = int(rng.integers(0, spec.episode_len - ahead + 1))
    start = episode["states"][0, offset].astype(np.float64)
    actions = episode["actions"][0, offset:offset + ahead].astype(np.float64)
    goal = sim.replay(start[None], actions[None, :, None])[0, -1]
    return start, goal, actions


def task(env: str, split: str, index: int, version: str | None = None
         ) -> tuple[int, str, np.ndarray, np.ndarray, np.ndarray | None]:
    """Task ``index`` of a split: ``(seed, level, start, goal, actions)``, ``actions`` (v2: the recorded
    actions that lead from start to goal) else None."""
    recipe = RECIPES[version or default_version(env)]
    number = recipe.numbers[split][index]
    seed = 99 * number + 1
    levels = recipe.levels[env]
    level = levels[index % len(levels)]
    sim = env_classes(env)[0]()
    rng = np.random.default_rng(seed)
    for attempt in range(MAX_DRAWS):
        actions = None
        if recipe.segments:
            start, goal, actions = _segment(env, sim, rng, MAX_DRAWS * number + attempt, level.ahead)
        else:
            start, goal = _draw(env, sim, rng, seed, level.ahead)
        if level.accepts(start, goal) and not (recipe.reject_solved and sim.success(start, goal)):
            return seed, level.name, start, goal, actions
    raise RuntimeError(f"no {env} task of level {level.name!r} in {MAX_DRAWS} draws from seed {seed}")


def generate(env: str, split: str, version: str | None = None) -> dict:
    """One suite file's JSON payload (deterministic)."""
    version = version or default_version(env)
    recipe = RECIPES[version]
    tasks = [task(env, split, i, version) for i in range(len(recipe.numbers[split]))]
    body = {"env": env, "split": split, "version": version, "seeds": [t[0] for t in tasks]}
    levels = recipe.levels[env]
    if levels[0].name:
        body["levels"] = [t[1] for t in tasks]
        body["level_steps"] = {lv.name: {"max_steps": lv.steps.step_cap,
                                         "open_loop_steps": lv.steps.open_loop_steps} for lv in levels}
    else:
        body["max_steps"] = levels[0].steps.step_cap
        body["open_loop_steps"] = levels[0].steps.open_loop_steps
    body["starts"] = [[float(x) for x in t[2]] for t in tasks]
    body["goals"] = [[float(x) for x in t[3]] for t in tasks]
    if recipe.segments:
        body["actions"] = [t[4].tolist() for t in tasks]
    return {**body, "sha256": digest(body)}


def write(env: str, split: str, version: str | None = None) -> None:
    """Regenerate one suite file."""
    path = suite_path(env, split, version)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(generate(env, split, version), indent=1) + "\n")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    """Regenerate every suite file of the given versions (default: each env's default one) and the manifest
    of their hashes."""
    versions = sys.argv[1:] if argv is None else argv
    unknown = sorted(set(versions) - set(VERSIONS))
    if unknown:
        raise SystemExit(f"unknown task-suite version(s) {unknown}; choose from {list(VERSIONS)}")
    for env in ENVS:
        for version in versions or [default_version(env)]:
            if version in ENV_VERSIONS[env]:
                for split in RECIPES[version].numbers:
                    write(env, split, version)
    print(f"wrote {write_manifest()}")
