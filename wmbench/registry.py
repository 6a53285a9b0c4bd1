"""Name resolution shared by every layer: env short names and ``"module:attr"`` plugin strings."""

from __future__ import annotations

import importlib
from typing import Any


def resolve(entry: str) -> Any:
    """Import a ``"module:attr"`` string, with a one-line error naming what failed."""
    module, _, attr = entry.partition(":")
    if not module or not attr:
        raise ValueError(f"expected 'module:attr', got {entry!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import {entry!r}: {exc}") from exc


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
