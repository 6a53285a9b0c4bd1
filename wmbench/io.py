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


def _naming(exc: OSError, path: Path, prefix: str) -> OSError:
    """``exc``, or the same error naming ``path`` when it names no file (a full disk) or only a temporary file
    of ``path`` (``prefix...``)."""
    if exc.filename is not None and not str(exc.filename).startswith(prefix):
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


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
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        named = _naming(exc, path, prefix)
        if named is exc:
            raise
        raise named from exc
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` through ``write(binary file)`` atomically (:func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        write(fh)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write` of UTF-8 text."""
    return atomic_write(path, lambda fh: fh.write(text.encode()))
