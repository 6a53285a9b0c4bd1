"""File helpers shared by every layer: the cache root, content hashes and atomic writes."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def errors_naming(path: str | Path, temporary: str | Path | None = None) -> Iterator[None]:
    """Re-raise an ``OSError`` of the block that names no file (a full disk; pyarrow's errors) or only a
    temporary file whose name starts with ``temporary`` as the same error naming ``path``."""
    try:
        yield
    except OSError as exc:
        named = exc.filename is not None
        if named and (temporary is None or not str(exc.filename).startswith(str(temporary))):
            raise
        raise type(exc)(exc.errno, exc.strerror or str(exc), str(path)) from exc


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A new temporary path beside ``path`` (same suffix, permissions by the umask) to write, moved into place
    with ``os.replace`` when the block succeeds and removed when it fails: readers see the old file or the
    complete new one, never a partial one. An ``OSError`` naming no file or the temporary one names
    ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = str(path.parent / f".{path.name[:100]}.")
    tmp = Path(f"{prefix}{secrets.token_hex(6)}.tmp{path.suffix[:20]}")
    try:
        with errors_naming(path, prefix):
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            yield tmp
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` through ``write(binary file)`` atomically (`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        write(fh)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """`atomic_write` of UTF-8 text."""
    return atomic_write(path, lambda fh: fh.write(text.encode()))
