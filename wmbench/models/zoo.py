"""Frozen reference world models: the checkpoints behind the committed results, shipped with wmbench.

The files live in ``wmbench/models/frozen/`` (package data), named as ``wmbench train`` names them in
``$WMBENCH_HOME/models`` and listed in ``frozen/MANIFEST.json`` with each file's sha256 (checked before every
use) and the model's identity (`wmbench.models.checkpoint.identity_hash`, the ``checkpoint_hash`` of
the rows planned through it). `find_checkpoint` is the one place that picks the checkpoint a sweep plans
through: the frozen one when the zoo has it (so an empty ``$WMBENCH_HOME`` plans through the leaderboard's
models without building data or training), else the trained one under ``$WMBENCH_HOME``. Maintainers refreeze
with ``python -m wmbench.models.zoo CHECKPOINT...`` (training state is dropped; the weights are unchanged).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch

from wmbench.io import atomic_write, atomic_write_text, sha256_file
from wmbench.models import checkpoint
from wmbench.models.checkpoint import checkpoint_path

ZOO = Path(__file__).with_name("frozen")
MANIFEST = "MANIFEST.json"


def manifest(zoo: Path | None = None) -> dict[str, dict[str, Any]]:
    """``file name -> {"file", "sha256", "identity", "env", "model", "variant", "dataset", "dataset_hash",
    "seed"}`` of the zoo (default `ZOO`)."""
    path = (zoo or ZOO) / MANIFEST
    if not path.is_file():
        return {}
    try:
        models = json.loads(path.read_text())["models"]
        return {entry["file"]: entry for entry in models}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"frozen-model manifest {path} is corrupt ({exc}); reinstall wmbench or restore the "
                         "file from the repository") from exc


def frozen_checkpoint(env: str, model: str = "state", variant: str = "base", dataset_size: str = "small",
                      seed: int = 0, zoo: Path | None = None) -> Path | None:
    """The shipped checkpoint for these settings, its file hash verified; None if the zoo has none."""
    zoo = zoo or ZOO
    name = checkpoint_path(env, model, variant, dataset_size, seed, home=zoo).name
    entry = manifest(zoo).get(name)
    if entry is None:
        return None
    path = zoo / name
    if not path.is_file() or sha256_file(path) != entry["sha256"]:
        raise ValueError(f"frozen world model {path} is missing or does not match its sha256 in "
                         f"{zoo / MANIFEST}; reinstall wmbench or restore the file from the repository")
    return path


def find_checkpoint(env: str, model: str = "state", variant: str = "base", dataset_size: str = "small",
                    seed: int = 0, home: str | Path | None = None, frozen: bool = True) -> Path:
    """The checkpoint a sweep plans through: the frozen one if ``frozen`` and the zoo has it, else the
    trained one under ``home`` (which may not exist yet)."""
    shipped = frozen_checkpoint(env, model, variant, dataset_size, seed) if frozen else None
    return shipped or checkpoint_path(env, model, variant, dataset_size, seed, home)


def freeze(paths: list[Path], zoo: Path | None = None) -> list[Path]:
    """Copy trained checkpoints into the zoo without their training state and list them in its manifest."""
    zoo = zoo or ZOO
    entries = dict(manifest(zoo))
    written = []
    for path in map(Path, paths):
        payload = checkpoint.read(path)
        payload["training"] = None
        payload["content_sha256"] = checkpoint.content_hash(payload)
        target = atomic_write(zoo / path.name, lambda fh, payload=payload: torch.save(payload, fh))
        meta = payload["metadata"]
        entries[path.name] = {"file": path.name, "sha256": sha256_file(target),
                              "identity": checkpoint.identity_hash(payload), "env": meta.get("env"),
                              "model": payload["class_path"], "variant": meta.get("variant"),
                              "dataset": meta.get("dataset"), "dataset_hash": meta.get("dataset_hash"),
                              "seed": meta.get("seed")}
        written.append(target)
    body = {"models": [entries[name] for name in sorted(entries)]}
    atomic_write_text(zoo / MANIFEST, json.dumps(body, indent=1) + "\n")
    return written


if __name__ == "__main__":
    for frozen_path in freeze([Path(p) for p in sys.argv[1:]]):
        print(frozen_path)
