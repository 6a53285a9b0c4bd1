"""A disk that fills up: files opened for writing take some more bytes in all, then fail with ENOSPC."""

from __future__ import annotations

import builtins
import errno
import io

import pytest


class _Filling:
    """A file opened for writing on the filling disk (no ``fileno``: every byte goes through ``write``)."""

    def __init__(self, fh: io.IOBase, room: list[int]) -> None:
        self._fh, self._room = fh, room

    def write(self, data: str | bytes) -> int:
        size = len(data) if isinstance(data, str) else memoryview(data).nbytes
        if size > self._room[0]:
            self._fh.write(data[:self._room[0]])
            self._fh.flush()
            self._room[0] = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room[0] -= size
        return self._fh.write(data)

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> object:
        return getattr(self._fh, name)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    """From now on every file opened for writing shares ``room`` more bytes, then ``write`` fails with ENOSPC
    (after writing what fits, as a real full disk does)."""
    left, real = [room], io.open

    def open_(file, mode="r", *args, **kwargs):
        fh = real(file, mode, *args, **kwargs)
        return _Filling(fh, left) if any(c in mode for c in "wax+") else fh

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
