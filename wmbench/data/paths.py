"""Where wmbench keeps its datasets: ``$WMBENCH_HOME`` (default ``~/.cache/wmbench``)/datasets/NAME/SIZE/."""

from __future__ import annotations

import os
from pathlib import Path


def wmbench_home(home: Path | str | None = None) -> Path:
    """The cache root: ``home`` if given, else ``$WMBENCH_HOME``, else ``~/.cache/wmbench``."""
    if home is not None:
        return Path(home).expanduser()
    env = os.environ.get("WMBENCH_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "wmbench"


def dataset_dir(name: str, size: str, home: Path | str | None = None) -> Path:
    """Directory of the built dataset ``name`` at ``size``."""
    return wmbench_home(home) / "datasets" / name / size
