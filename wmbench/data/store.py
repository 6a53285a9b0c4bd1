"""On-disk format: one Parquet row per env step, optional pixels as one ``.npy`` array; deterministic bytes.

``steps.parquet`` columns: ``episode`` int32, ``step`` int32, ``state`` / ``next_state``
fixed_size_list<float32>[S], ``action`` fixed_size_list<float32>[A], ``reward`` float32, ``success`` bool,
rows ordered by (episode, step). Writer settings are fixed (zstd level 3, no dictionary, no statistics, row
groups of a whole number of episodes fixed by the spec), so the same content gives the same bytes whatever the
process count.
Pixels are a pure function of the state (``env.draw``); they are stored only when the spec asks for them, as
``pixels.npy`` uint8 ``[E, T+1, H, W, 3]``; otherwise render them from states with ``rollout.render_states``.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from wmbench.data.errors import DatasetError
from wmbench.io import wmbench_home

SCHEMA_VERSION = 1
STEPS_FILE = "steps.parquet"
PIXELS_FILE = "pixels.npy"
ROW_GROUP_ROWS = 65_536
_WRITER_OPTIONS = {"compression": "zstd", "compression_level": 3, "use_dictionary": False,
                   "write_statistics": False, "version": "2.6"}


def dataset_dir(name: str, size: str, home: Path | str | None = None) -> Path:
    """Directory of the built dataset ``name`` at ``size``: ``HOME/datasets/NAME/SIZE``."""
    return wmbench_home(home) / "datasets" / name / size


def steps_schema(state_dim: int, action_dim: int) -> pa.Schema:
    """The Parquet schema of ``steps.parquet``."""
    return pa.schema([
        ("episode", pa.int32()), ("step", pa.int32()),
        ("state", pa.list_(pa.float32(), state_dim)), ("action", pa.list_(pa.float32(), action_dim)),
        ("next_state", pa.list_(pa.float32(), state_dim)), ("reward", pa.float32()), ("success", pa.bool_()),
    ])


def _fixed_list(values: np.ndarray) -> pa.FixedSizeListArray:
    width = values.shape[-1]
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1), type=pa.float32()), width)


def episodes_table(chunk: dict[str, np.ndarray], first_episode: int) -> pa.Table:
    """Rows of the episodes in ``chunk`` (``rollout_episodes`` output), numbered from ``first_episode``."""
    states, actions = chunk["states"], chunk["actions"]
    n, horizon = actions.shape[:2]
    episode = np.repeat(np.arange(first_episode, first_episode + n, dtype=np.int32), horizon)
    step = np.tile(np.arange(horizon, dtype=np.int32), n)
    columns = [pa.array(episode), pa.array(step), _fixed_list(states[:, :-1]), _fixed_list(actions),
               _fixed_list(states[:, 1:]), pa.array(chunk["rewards"].reshape(-1)),
               pa.array(chunk["success"].reshape(-1))]
    return pa.Table.from_arrays(columns, schema=steps_schema(states.shape[-1], actions.shape[-1]))


class StepsWriter:
    """Streams episode chunks (in episode order) into ``steps.parquet`` and optionally ``pixels.npy``."""

    def __init__(self, directory: Path, n_episodes: int, episode_len: int, state_dim: int, action_dim: int,
                 pixel_shape: tuple[int, int, int] | None = None):
        self._writer = pq.ParquetWriter(directory / STEPS_FILE, steps_schema(state_dim, action_dim),
                                        **_WRITER_OPTIONS)
        self._episode_len = episode_len
        self._group_episodes = max(1, ROW_GROUP_ROWS // episode_len)
        self._pending: list[pa.Table] = []
        self._pending_episodes = 0
        self.episodes = 0
        self._pixels = None
        if pixel_shape is not None:
            self._pixels = np.lib.format.open_memmap(directory / PIXELS_FILE, mode="w+", dtype=np.uint8,
                                                     shape=(n_episodes, episode_len + 1, *pixel_shape))

    def write(self, chunk: dict[str, np.ndarray]) -> None:
        n = chunk["actions"].shape[0]
        if self._pixels is not None:
            self._pixels[self.episodes:self.episodes + n] = chunk["pixels"]
        self._pending.append(episodes_table(chunk, self.episodes))
        self._pending_episodes += n
        self.episodes += n
        while self._pending_episodes >= self._group_episodes:
            self._flush(self._group_episodes)

    def _flush(self, n_episodes: int) -> None:
        table = pa.concat_tables(self._pending)
        rows = n_episodes * self._episode_len
        self._writer.write_table(table.slice(0, rows), row_group_size=rows)
        rest = table.slice(rows)
        self._pending = [rest] if rest.num_rows else []
        self._pending_episodes -= n_episodes

    def close(self) -> None:
        if self._pending_episodes:
            self._flush(self._pending_episodes)
        self._writer.close()
        if self._pixels is not None:
            self._pixels.flush()
            self._pixels = None

    def __enter__(self) -> StepsWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self._writer.close()


def _column(table: pa.Table, name: str, width: int | None = None) -> np.ndarray:
    array = table.column(name).combine_chunks()
    if width is None:
        return array.to_numpy(zero_copy_only=False)
    return array.flatten().to_numpy().reshape(-1, width)


def read_steps(path: Path, state_dim: int, action_dim: int, hint: str) -> dict[str, np.ndarray]:
    """Read and check ``steps.parquet``: schema, then the raw per-row columns as numpy arrays."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        raise DatasetError(f"cannot read {path}: {err}; the file is corrupt, {hint}") from err
    expected = steps_schema(state_dim, action_dim)
    if not table.schema.remove_metadata().equals(expected):
        raise DatasetError(f"schema mismatch in {path}:\n  found    {table.schema.remove_metadata()}\n"
                           f"  expected {expected}\n{hint}")
    return {"episode": _column(table, "episode"), "step": _column(table, "step"),
            "state": _column(table, "state", state_dim), "action": _column(table, "action", action_dim),
            "next_state": _column(table, "next_state", state_dim), "reward": _column(table, "reward"),
            "success": _column(table, "success")}


def read_pixels(path: Path, shape: tuple[int, ...], hint: str) -> np.ndarray:
    """Read and check ``pixels.npy`` (uint8 of the given shape)."""
    try:
        pixels = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DatasetError(f"cannot read {path}: {err}; the file is corrupt, {hint}") from err
    if pixels.dtype != np.uint8 or pixels.shape != shape:
        raise DatasetError(f"{path} holds {pixels.dtype} {pixels.shape}, expected uint8 {shape}; {hint}")
    return pixels
