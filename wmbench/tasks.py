"""Evaluation task suites: fixed, versioned (start, goal) pairs per env, shipped as JSON with a sha256.

Generation follows the reference protocol (``paper.md`` section 4, seeds ``99 n + 1``):

* PointMaze, Wall: ``start, goal = env.sample_start_goal(default_rng(99 n + 1))`` (Wall: opposite sides).
* PushT: from a sampled start, the noisy expert (noise 0.3) runs a seeded number of warm-up steps (0-49) to
  reach a dataset-like state, which becomes the start; the goal is the state reached by replaying the next 25
  expert steps in the simulator (``goal_source: 'dset'``).

Splits: ``test`` (100 tasks, seeds n = 0..99) and ``dev`` (30 tasks, n = 1000..1029) for quick runs and
tuning.
The files are generated once by ``python -m wmbench.tasks`` and committed; ``load`` verifies their hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wmbench.registry import env_classes

SUITE_DIR = Path(__file__).parent / "task_suites"
VERSION = "v0"
SPLITS = {"test": range(0, 100), "dev": range(1000, 1030)}
#: Open-loop plans cover horizon 5 planning steps x frameskip 5 env steps.
OPEN_LOOP_STEPS = 25
#: MPC episode budget in env steps (SWM's protocol; the reference MPC had no cap).
MAX_STEPS = 50
PUSHT_WARMUP_MAX = 50
PUSHT_EXPERT_NOISE = 0.3


@dataclass(frozen=True)
class TaskSuite:
    """A fixed set of evaluation tasks for one env.

    ``ids [N]`` are the tasks' indices in the full suite (kept by :meth:`head` and :meth:`subset`, so a result
    row always names the same task) and ``levels [N]`` their difficulty levels ("" where a suite has none).
    """

    env: str
    split: str
    version: str
    starts: np.ndarray
    goals: np.ndarray
    max_steps: int
    open_loop_steps: int
    sha256: str
    ids: np.ndarray | None = None
    levels: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.starts)
        if self.ids is None:
            object.__setattr__(self, "ids", np.arange(n))
        if self.levels is None:
            object.__setattr__(self, "levels", np.full(n, "", dtype=object))

    def __len__(self) -> int:
        return len(self.starts)

    def subset(self, index: np.ndarray | list[int] | range) -> TaskSuite:
        """The tasks at positions ``index`` of this suite (their ids and levels kept)."""
        index = np.asarray(index, dtype=np.int64)
        return dataclasses.replace(self, starts=self.starts[index], goals=self.goals[index],
                                   ids=self.ids[index], levels=self.levels[index])

    def head(self, n: int) -> TaskSuite:
        """The first ``n`` tasks (quick runs use a prefix of a split)."""
        if int(n) < 1:
            raise ValueError(f"the number of tasks must be >= 1, got {n}")
        return self.subset(range(min(int(n), len(self))))


def _task(env: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    env_cls, expert_cls = env_classes(env)
    sim = env_cls()
    seed = 99 * n + 1
    rng = np.random.default_rng(seed)
    start, goal = sim.sample_start_goal(rng)
    if env != "pusht":
        return start, goal
    sim.reset(seed=seed, options={"state": start, "goal": goal})
    expert = expert_cls(sim, noise=PUSHT_EXPERT_NOISE, seed=seed)
    expert.reset(goal)
    for _ in range(int(rng.integers(0, PUSHT_WARMUP_MAX))):
        sim.step(expert.act(sim.get_state()))
    start = sim.get_state()
    for _ in range(OPEN_LOOP_STEPS):
        sim.step(expert.act(sim.get_state()))
    return start, sim.get_state()


def _digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def generate(env: str, split: str) -> dict:
    """Regenerate one suite's JSON payload (deterministic)."""
    pairs = [_task(env, n) for n in SPLITS[split]]
    body = {
        "env": env, "split": split, "version": VERSION, "seeds": [99 * n + 1 for n in SPLITS[split]],
        "max_steps": MAX_STEPS, "open_loop_steps": OPEN_LOOP_STEPS,
        "starts": [[float(x) for x in s] for s, _ in pairs],
        "goals": [[float(x) for x in g] for _, g in pairs],
    }
    return {**body, "sha256": _digest(body)}


def suite_path(env: str, split: str) -> Path:
    return SUITE_DIR / f"{env}-{VERSION}-{split}.json"


def load(env: str, split: str = "test") -> TaskSuite:
    """Load a shipped task suite and verify its hash."""
    if split not in SPLITS:
        raise ValueError(f"unknown task split {split!r}; choose one of {sorted(SPLITS)}")
    path = suite_path(env, split)
    if not path.exists():
        raise FileNotFoundError(f"no task suite for env {env!r} at {path}; known envs: "
                                f"{sorted(p.name.split('-')[0] for p in SUITE_DIR.glob('*.json'))}")
    try:
        payload = json.loads(path.read_text())
        body = {k: v for k, v in payload.items() if k != "sha256"}
        ok = _digest(body) == payload["sha256"]
    except (json.JSONDecodeError, KeyError) as exc:
        raise ValueError(f"task suite {path} is unreadable ({exc}); reinstall wmbench") from exc
    if not ok:
        raise ValueError(f"task suite {path} fails its sha256 check; it was modified. Reinstall wmbench or "
                         f"regenerate with `python -m wmbench.tasks` (changes the benchmark: bump VERSION)")
    return TaskSuite(env, split, payload["version"], np.asarray(payload["starts"], dtype=np.float64),
                     np.asarray(payload["goals"], dtype=np.float64), int(payload["max_steps"]),
                     int(payload["open_loop_steps"]), payload["sha256"])


def main() -> None:
    """Regenerate every suite file (maintainers only; the files are committed)."""
    from wmbench.envs import ENVS

    SUITE_DIR.mkdir(exist_ok=True)
    for env in ENVS:
        for split in SPLITS:
            path = suite_path(env, split)
            path.write_text(json.dumps(generate(env, split), indent=1) + "\n")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
