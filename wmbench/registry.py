"""Name resolution shared by every layer: env short names, registered planner names and ``"module:attr"``
plugin strings."""

from __future__ import annotations

import functools
import hashlib
import importlib
import sys
from importlib.metadata import PackageNotFoundError, entry_points, packages_distributions, version
from pathlib import Path
from typing import Any

#: The entry-point group where planners register (the reference planners too, as a submission does).
ENTRY_POINT_GROUP = "wmbench.planners"


def resolve(entry: str) -> Any:
    """Import a ``"module:attr"`` string (``attr`` may be dotted); a one-line ``ValueError`` names what
    failed."""
    module, _, attr = entry.partition(":")
    if not module or not attr:
        raise ValueError(f"expected 'package.module:Name', got {entry!r}")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import {entry!r}: {exc}") from exc
    return obj


def env_entries(env: str) -> tuple[str, str]:
    """The ``(env class, expert class)`` entry strings of a short env name from ``wmbench_envs.ENVS``."""
    from wmbench_envs import ENVS

    if env not in ENVS:
        raise KeyError(f"unknown env {env!r}; known envs: {', '.join(sorted(ENVS))}")
    _, env_entry, expert_entry = ENVS[env]
    return env_entry, expert_entry


def env_classes(env: str) -> tuple[type, type]:
    """The ``(env class, expert class)`` of a short env name."""
    env_entry, expert_entry = env_entries(env)
    return resolve(env_entry), resolve(expert_entry)


def make_env(env: str, obs_type: str = "state", image_size: int = 64) -> Any:
    """Instantiate an env by short name (``wmbench_envs.ENVS``) or ``"package.module:EnvClass"`` path."""
    from wmbench_envs import ENVS

    if env in ENVS:
        path = ENVS[env][1]
    elif ":" in env:
        path = env
    else:
        raise ValueError(f"unknown env {env!r}; choose one of {sorted(ENVS)} or give "
                         "'package.module:EnvClass'")
    from wmbench_envs.base import GoalEnv

    cls = resolve(path)
    if not (isinstance(cls, type) and issubclass(cls, GoalEnv)):
        raise ValueError(f"env {path!r} is not a wmbench_envs.base.GoalEnv subclass")
    return cls(obs_type=obs_type, image_size=image_size)


def registered_planners() -> dict[str, str]:
    """``name -> "module:Class"`` of every installed ``wmbench.planners`` entry point."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def planner_path(name: str) -> str:
    """The ``"module:Class"`` path of a registered planner name, or ``name`` itself if it is a path;
    ``KeyError`` naming the registered planners otherwise."""
    if ":" in name:
        return name
    registered = registered_planners()
    if name not in registered:
        raise KeyError(f"no planner {name!r} in the '{ENTRY_POINT_GROUP}' entry points {sorted(registered)}; "
                       "install the package that registers it (the reference planners: pip install "
                       "./baselines) or give 'package.module:PlannerClass'")
    return registered[name]


def code_identity(cls: type) -> dict[str, str]:
    """What identifies the code of a plugin class (a planner or a world model): ``source_sha256``, the hash of
    every ``.py`` file of its top-level package (or of its module, for a single-file module), and
    ``version``, its installed distribution's version ("" when it is not installed, e.g. on
    ``PYTHONPATH``). Classes of wmbench itself get ``{"source_sha256": "", "version": wmbench version}``:
    its commit is recorded in every row, and its own edits do not invalidate results."""
    top = cls.__module__.split(".")[0]
    if top == "wmbench":
        from wmbench import __version__

        return {"source_sha256": "", "version": __version__}
    return {"source_sha256": _source_sha256(top), "version": _distribution_version(top)}


@functools.cache
def _source_sha256(top: str) -> str:
    module = sys.modules.get(top) or importlib.import_module(top)
    origin = Path(module.__file__ or "")
    return source_sha256(origin.parent if origin.name == "__init__.py" else origin)


def source_sha256(path: Path) -> str:
    """Hash of the code at ``path``: a module file, or a package directory with every ``.py`` file under it
    (names relative to it, in order)."""
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    base = path if path.is_dir() else path.parent
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(base)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def _distribution_version(top: str) -> str:
    for name in packages_distributions().get(top, []):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return ""
