"""Name resolution shared by every layer: env short names and ``"module:attr"`` plugin strings."""

from __future__ import annotations

import importlib
from typing import Any


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
    """The ``(env class, expert class)`` entry strings of a short env name from ``wmbench.envs.ENVS``."""
    from wmbench.envs import ENVS

    if env not in ENVS:
        raise KeyError(f"unknown env {env!r}; known envs: {', '.join(sorted(ENVS))}")
    _, env_entry, expert_entry = ENVS[env]
    return env_entry, expert_entry


def env_classes(env: str) -> tuple[type, type]:
    """The ``(env class, expert class)`` of a short env name."""
    env_entry, expert_entry = env_entries(env)
    return resolve(env_entry), resolve(expert_entry)


def make_env(env: str, obs_type: str = "state", image_size: int = 64) -> Any:
    """Instantiate an env by short name (``wmbench.envs.ENVS``) or ``"package.module:EnvClass"`` path."""
    from wmbench.envs import ENVS

    if env in ENVS:
        path = ENVS[env][1]
    elif ":" in env:
        path = env
    else:
        raise ValueError(f"unknown env {env!r}; choose one of {sorted(ENVS)} or give "
                         "'package.module:EnvClass'")
    from wmbench.envs.base import GoalEnv

    cls = resolve(path)
    if not (isinstance(cls, type) and issubclass(cls, GoalEnv)):
        raise ValueError(f"env {path!r} is not a wmbench.envs.base.GoalEnv subclass")
    return cls(obs_type=obs_type, image_size=image_size)
