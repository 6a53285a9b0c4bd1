"""Dataset errors; every message names the file at fault and the command that fixes it."""

from __future__ import annotations


class DatasetError(RuntimeError):
    """A dataset on disk is missing, stale or corrupt."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """The dataset has not been built."""


def rebuild_hint(name: str, size: str, force: bool = True) -> str:
    return f"run `wmbench data build {name} --size {size}{' --force' if force else ''}`"
