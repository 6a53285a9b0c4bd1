"""Sweep manifests: the units a sweep set out to run, written before any runs, so that no report omits units
silently.

`write` puts ``RESULTS/sweeps/<id>.json`` in place atomically before a sweep runs its first unit: the
command and, per unit, its id, label, part file name and row count. ``<id>`` hashes the unit ids, so a rerun
of a sweep rewrites its own manifest and several sweeps into one folder keep one each. `check` holds
every manifest of a folder against its parts: a unit is *missing* without a complete part of its own (never
run, or its process died, even by ``os._exit`` in a serial sweep) and *failed* when its part holds error rows.
``wmbench report`` prints `Completeness.summary` and puts it at the top of ``leaderboard.md``;
rerunning the sweep's command runs the missing units and retries the failed ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.compute as pc

from wmbench.harness.schema import PARTS, read_part
from wmbench.io import atomic_write_text

if TYPE_CHECKING:  # units import torch; reading manifests (wmbench report) does not need it
    from wmbench.harness.units import Unit

#: Folder of a results folder that holds the sweep manifests.
SWEEPS = "sweeps"
FORMAT = 1


def write(results_dir: str | Path, units: Sequence[Unit], command: str) -> Path:
    """Write the manifest of a sweep of ``units`` into ``results_dir`` (see the module docstring)."""
    ids = list(dict.fromkeys(u.id for u in units))
    name = hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16]
    listed = {u.id: {"id": u.id, "label": u.label, "file": u.file_name, "rows": u.n_rows} for u in units}
    text = json.dumps({"format": FORMAT, "command": command, "units": list(listed.values())}, indent=1)
    return atomic_write_text(Path(results_dir) / SWEEPS / f"{name}.json", text + "\n")


def part_state(path: Path, unit_id: str, rows: int) -> tuple[str, str]:
    """``(state, why)`` of the part at ``path`` for unit ``unit_id`` of ``rows`` rows: ``"done"``,
    ``"failed"`` (it holds error rows) or ``"missing"`` (absent, corrupt, incomplete or another unit's)."""
    if not path.exists():
        return "missing", "missing"
    try:
        table = read_part(path)
    except ValueError as exc:
        return "missing", str(exc)
    if table.num_rows != rows:
        return "missing", f"{table.num_rows} rows, expected {rows}"
    if not pc.all(pc.equal(table.column("unit_id"), unit_id)).as_py():
        return "missing", "rows of another unit"
    errors = table.num_rows - table.column("error").null_count
    return ("failed", f"{errors} of {rows} episodes failed") if errors else ("done", "")


@dataclass(frozen=True)
class Completeness:
    """The units of a results folder's manifests (each counted once) and those ``missing`` or ``failed``
    (labels); ``commands``: the commands of the sweeps with missing or failed units."""

    units: int
    missing: tuple[str, ...]
    failed: tuple[str, ...]
    commands: tuple[str, ...]

    def summary(self, results_dir: str | Path) -> str | None:
        """One line saying what is missing or failed and how to complete it (None when nothing is)."""
        if not self.missing and not self.failed:
            return None
        rerun = f"`{self.commands[0]}`" if len(self.commands) == 1 and self.commands[0] else \
            f"the commands in {Path(results_dir) / SWEEPS}"
        return (f"{len(self.missing)} of the {self.units} units of the sweeps in {results_dir} have no "
                f"results and {len(self.failed)} failed (first: "
                f"{(self.missing or self.failed)[0]}); rerun {rerun} to run the missing units and retry the "
                "failed ones")


def check(results_dir: str | Path) -> Completeness:
    """The `Completeness` of ``results_dir`` against every manifest in it (all done without any)."""
    results_dir = Path(results_dir)
    seen: set[str] = set()
    missing, failed, commands = [], [], []
    manifests = sorted((results_dir / SWEEPS).glob("*.json"))
    for path in manifests:
        try:
            manifest = json.loads(path.read_text())
            units = [(u["id"], u["label"], u["file"], int(u["rows"])) for u in manifest["units"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"sweep manifest {path} is corrupt ({type(exc).__name__}: {exc}); delete it and "
                             "rerun its sweep command") from None
        incomplete = False
        for unit_id, label, file, rows in units:
            if unit_id in seen:
                continue
            seen.add(unit_id)
            state, _ = part_state(results_dir / PARTS / file, unit_id, rows)
            if state != "done":
                (missing if state == "missing" else failed).append(label)
                incomplete = True
        if incomplete and manifest.get("command") not in commands:
            commands.append(manifest.get("command", ""))
    return Completeness(len(seen), tuple(missing), tuple(failed), tuple(commands))
