"""Task suites as shipped: the `TaskSuite` type, the suite files and their checks.

A suite file ``task_suites/{env}-{version}-{split}.json`` holds ``starts`` and ``goals`` (one full env state
each per task, floats written so that they read back exactly), the generating ``seeds`` and a ``sha256`` over
everything else (sorted-key JSON). From v1 on it also holds a ``levels`` list (one level per task) and
``level_steps``: per level, the step cap (the most env steps an MPC episode takes; the files' key is
``max_steps``, read as ``step_cap``) and the env steps ``open_loop_steps`` an open-loop plan covers; a v0 file
has a single ``max_steps`` and ``open_loop_steps`` and no levels. A v2 file also holds ``actions``: per task
the recorded env actions whose replay from the start reaches the goal (every v2 goal is reachable by
construction).

The hash inside a file cannot protect it (an edit can recompute it), so every file's sha256 is also listed in
``task_suites/SHA256SUMS`` (`MANIFEST`, ``sha256sum`` format, written by ``python -m wmbench.tasks``)
and checked on load, and so is the content: the env, split and version the file name gives, whole-number step
caps, and (after v0) no task solved at reset by the env's own ``success``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wmbench.io import atomic_write_text
from wmbench.registry import env_classes

SUITE_DIR = Path(__file__).parent.parent / "task_suites"
#: The file beside the suites listing each suite file's sha256 (``sha256sum -c SHA256SUMS`` checks them too).
MANIFEST = "SHA256SUMS"
#: Versions frozen as shipped with tasks solved at reset (v0: 7 of its PointMaze tasks); later ones have none.
SOLVED_AT_RESET_FROZEN = ("v0",)
#: Suite versions, oldest first.
VERSIONS = ("v0", "v1", "v2")
#: The versions shipped for each env, oldest first; the last one is the env's default. v2 changes PushT only
#: (goals replayed from held-out data-policy episodes); PointMaze and Wall already draw start and goal as the
#: paper does (``wmbench.tasks.generate``).
ENV_VERSIONS = {"pointmaze": ("v0", "v1"), "pusht": ("v0", "v1", "v2"), "wall": ("v0", "v1")}
SPLITS = ("test", "dev")


def default_version(env: str) -> str:
    """The task-suite version ``load(env)`` returns: the newest shipped for ``env``."""
    if env not in ENV_VERSIONS:
        raise ValueError(f"no task suites for env {env!r}; known envs: {sorted(ENV_VERSIONS)}")
    return ENV_VERSIONS[env][-1]


@dataclass(frozen=True)
class LevelSteps:
    """Step settings of one difficulty level: the MPC step cap (env steps per episode at most) and the env
    steps an open-loop plan covers (horizon x frameskip)."""

    step_cap: int
    open_loop_steps: int


@dataclass(frozen=True)
class TaskSuite:
    """A fixed set of evaluation tasks for one env.

    ``ids [N]`` are the tasks' indices in the full suite (kept by `subset`, `head` and
    `select_levels`, so a result row always names the same task) and ``levels [N]`` their difficulty
    levels ("" where a suite has none). ``level_steps`` maps each level to its `LevelSteps` (empty for
    a suite without levels); ``step_cap`` and ``open_loop_steps`` are then the largest among the levels of
    the tasks the suite holds, so a selection of easy levels gets their shorter caps.
    """

    env: str
    split: str
    version: str
    starts: np.ndarray
    goals: np.ndarray
    step_cap: int
    open_loop_steps: int
    sha256: str
    ids: np.ndarray | None = None
    levels: np.ndarray | None = None
    level_steps: Mapping[str, LevelSteps] = field(default_factory=dict)
    actions: np.ndarray | None = None  #: ``[N, T, A]`` env actions from start to goal (v2), else None

    def __post_init__(self) -> None:
        n = len(self.starts)
        if self.ids is None:
            object.__setattr__(self, "ids", np.arange(n))
        if self.levels is None:
            object.__setattr__(self, "levels", np.full(n, "", dtype=object))
        missing = set(self.levels) - set(self.level_steps) if self.level_steps else set()
        if missing:
            raise ValueError(f"task suite {self.env} {self.version} {self.split}: levels {sorted(missing)} "
                             "have no step settings")

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def level_names(self) -> tuple[str, ...]:
        """The suite's levels, easiest first (those of ``level_steps``; ``("",)`` for a suite without)."""
        return tuple(self.level_steps) or ("",)

    def level_counts(self) -> dict[str, int]:
        """Number of tasks per level, in `level_names` order."""
        return {name: int(np.sum(self.levels == name)) for name in self.level_names}

    def subset(self, index: np.ndarray | list[int] | range) -> TaskSuite:
        """The tasks at positions ``index`` of this suite (their ids and levels kept)."""
        index = np.asarray(index, dtype=np.int64)
        levels = self.levels[index]
        step_cap, open_loop_steps = _steps(self.level_steps, levels, (self.step_cap, self.open_loop_steps))
        return dataclasses.replace(self, starts=self.starts[index], goals=self.goals[index],
                                   ids=self.ids[index], levels=levels, step_cap=step_cap,
                                   open_loop_steps=open_loop_steps,
                                   actions=None if self.actions is None else self.actions[index])

    def head(self, n: int) -> TaskSuite:
        """The first ``n`` tasks (quick runs use a prefix of a split; v1 interleaves levels, so a prefix is
        balanced)."""
        if int(n) < 1:
            raise ValueError(f"the number of tasks must be >= 1, got {n}")
        return self.subset(range(min(int(n), len(self))))

    def select_levels(self, levels: Iterable[str]) -> TaskSuite:
        """The tasks of the given levels, in suite order; an unknown level is a ``ValueError``."""
        wanted = tuple(levels)
        unknown = [name for name in wanted if name not in self.level_names]
        if unknown or not wanted:
            raise ValueError(f"unknown task level(s) {unknown} for the {self.env} {self.split} suite "
                             f"{self.version}; its levels: {', '.join(map(repr, self.level_names))}")
        return self.subset(np.flatnonzero(np.isin(self.levels, wanted)))


def digest(body: dict) -> str:
    """The sha256 of a suite file's content without its ``sha256`` field."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def suite_path(env: str, split: str, version: str | None = None) -> Path:
    """The shipped file of a suite (``version`` default: the env's, `default_version`)."""
    return SUITE_DIR / f"{env}-{version or default_version(env)}-{split}.json"


def write_manifest() -> Path:
    """Write `MANIFEST`: the sha256 of every suite file in the suite folder, sorted by name."""
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
             for p in sorted(SUITE_DIR.glob("*.json"))]
    return atomic_write_text(SUITE_DIR / MANIFEST, "".join(lines))


def _listed_sha256(path: Path) -> str:
    """The sha256 `MANIFEST` lists for suite file ``path``; ``ValueError`` if it lists none."""
    manifest = SUITE_DIR / MANIFEST
    try:
        listed = dict(reversed(line.split(maxsplit=1)) for line in manifest.read_text().splitlines())
    except (OSError, ValueError) as exc:
        raise ValueError(f"task-suite manifest {manifest} is missing or unreadable ({exc}); reinstall "
                         "wmbench") from exc
    if path.name not in listed:
        raise ValueError(f"task suite {path} is not listed in {manifest}; reinstall wmbench")
    return listed[path.name]


def load(env: str, split: str = "test", version: str | None = None) -> TaskSuite:
    """Load a shipped task suite (``version`` default: the env's newest, `default_version`), verified
    against `MANIFEST`, its own hash and its content."""
    if split not in SPLITS:
        raise ValueError(f"unknown task split {split!r}; choose one of {list(SPLITS)}")
    if version is not None and version not in VERSIONS:
        raise ValueError(f"unknown task-suite version {version!r}; choose one of {list(VERSIONS)}")
    if env in ENV_VERSIONS and version is not None and version not in ENV_VERSIONS[env]:
        raise ValueError(f"no task-suite version {version!r} for env {env!r}; its versions: "
                         f"{list(ENV_VERSIONS[env])}")
    if version is None:
        version = default_version(env) if env in ENV_VERSIONS else VERSIONS[-1]
    path = suite_path(env, split, version)
    if not path.exists():
        raise FileNotFoundError(f"no task suite for env {env!r} at {path}; known envs: "
                                f"{sorted({p.name.split('-')[0] for p in SUITE_DIR.glob('*.json')})}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != _listed_sha256(path):
        raise ValueError(f"task suite {path} does not match its sha256 in {SUITE_DIR / MANIFEST}; it was "
                         "modified. Reinstall wmbench or regenerate with `python -m wmbench.tasks` (changes "
                         "the benchmark: bump VERSION)")
    try:
        payload = json.loads(data)
        body = {k: v for k, v in payload.items() if k != "sha256"}
        ok = digest(body) == payload["sha256"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, AttributeError) as exc:
        raise ValueError(f"task suite {path} is unreadable ({exc!r}); reinstall wmbench") from exc
    if not ok:
        raise ValueError(f"task suite {path} fails its sha256 check; it was modified. Reinstall wmbench or "
                         f"regenerate with `python -m wmbench.tasks` (changes the benchmark: bump VERSION)")
    try:
        suite = _suite(payload)
        _check_content(suite, env, split, version)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"task suite {path} is malformed ({exc}); reinstall wmbench") from exc
    return suite


def _check_content(suite: TaskSuite, env: str, split: str, version: str) -> None:
    """``ValueError`` unless ``suite`` is the ``env`` / ``split`` / ``version`` its file name says and (after
    the frozen versions) none of its tasks is solved at reset."""
    for name, wanted in (("env", env), ("split", split), ("version", version)):
        if getattr(suite, name) != wanted:
            raise ValueError(f"it holds {name} {getattr(suite, name)!r}, not {wanted!r} as its file name "
                             "says")
    if version in SOLVED_AT_RESET_FROZEN:
        return
    solved = np.flatnonzero(env_classes(env)[0].success(suite.starts, suite.goals))
    if len(solved):
        raise ValueError(f"task(s) {', '.join(map(str, solved[:5]))}{' ...' if len(solved) > 5 else ''} are "
                         "solved at reset (the start already satisfies the goal)")


def _whole(value: object, what: str) -> int:
    """A step count as stored: a whole number >= 1 (never a silently truncated float)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} is {value!r}, not a whole number >= 1")
    return value


def _steps(level_steps: Mapping[str, LevelSteps], levels: np.ndarray, default: tuple[int, int]
           ) -> tuple[int, int]:
    """The largest ``(step_cap, open_loop_steps)`` among ``levels`` (``default`` for a suite without)."""
    steps = [level_steps[name] for name in set(levels)] if level_steps else []
    return (max((s.step_cap for s in steps), default=default[0]),
            max((s.open_loop_steps for s in steps), default=default[1]))


def _suite(payload: dict) -> TaskSuite:
    starts = np.asarray(payload["starts"], dtype=np.float64)
    goals = np.asarray(payload["goals"], dtype=np.float64)
    if starts.ndim != 2 or starts.shape != goals.shape:
        raise ValueError(f"starts {starts.shape} and goals {goals.shape} must both be [N, S]")
    names = payload["env"], payload["split"], payload["version"]
    if "level_steps" not in payload:  # v0: one setting for the whole suite, no levels
        return TaskSuite(*names, starts, goals, _whole(payload["max_steps"], "max_steps"),
                         _whole(payload["open_loop_steps"], "open_loop_steps"), payload["sha256"])
    level_steps = {str(k): LevelSteps(_whole(v["max_steps"], f"max_steps of level {k!r}"),
                                      _whole(v["open_loop_steps"], f"open_loop_steps of level {k!r}"))
                   for k, v in payload["level_steps"].items()}
    levels = np.asarray(payload["levels"], dtype=object)
    if levels.shape != (len(starts),):
        raise ValueError(f"{len(levels)} levels for {len(starts)} tasks")
    step_cap, open_loop_steps = _steps(level_steps, levels, (0, 0))
    return TaskSuite(*names, starts, goals, step_cap, open_loop_steps, payload["sha256"], levels=levels,
                     level_steps=level_steps, actions=_actions(payload.get("actions"), len(starts)))


def _actions(rows: list | None, n: int) -> np.ndarray | None:
    """A v2 file's per-task action lists as ``[N, T, A]``, shorter rows padded with NaN (None without)."""
    if rows is None:
        return None
    if len(rows) != n:
        raise ValueError(f"{len(rows)} action sequences for {n} tasks")
    arrays = [np.asarray(row, dtype=np.float64) for row in rows]
    if any(a.ndim != 2 or a.shape[1] != arrays[0].shape[1] or not np.isfinite(a).all() for a in arrays):
        raise ValueError("actions must be finite [T, A] lists with one action size")
    out = np.full((n, max(len(a) for a in arrays), arrays[0].shape[1]), np.nan)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = a
    return out
