"""File helpers shared by every layer: the cache root, content hashes and atomic writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def wmbench_home(home: Path | str | None = None) -> Path:
    """The cache root: ``home`` if given, else ``$WMBENCH_HOME``, else ``~/.cache/wmbench``.

    A root that exists but is not a directory is a ``NotADirectoryError`` naming it.
    """
    if home is not None:
        root, source = Path(home).expanduser(), "--home"
    elif os.environ.get("WMBENCH_HOME"):
        root, source = Path(os.environ["WMBENCH_HOME"]).expanduser(), "WMBENCH_HOME"
    else:
        root, source = Path.home() / ".cache" / "wmbench", "the default cache root"
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"{source} {root} is a file, not a directory; point it at a directory")
    return root


def sha256_file(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` through ``write(binary file)`` into a temp file beside it, then ``os.replace`` it into
    place: readers see the old file or the complete new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write` of UTF-8 text."""
    return atomic_write(path, lambda fh: fh.write(text.encode()))
