"""Training as a self-contained job, for executors whose workers share no filesystem with the driver.

The driver builds and loads the dataset (``wmbench.data.load`` verifies its content hash) and sends the
loaded `Dataset` itself with the job, plus the bytes of the checkpoints the job
starts from (an interrupted run of this variant to resume, and the base model for OWM / AWM). The worker
trains in a private temporary ``WMBENCH_HOME`` (`train_job`) and returns the finished checkpoint's
bytes; the driver verifies their content hash and moves them into its own ``$WMBENCH_HOME/models``
(`install_checkpoint`). Nothing is left on the worker.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wmbench.io import atomic_path
from wmbench.models import checkpoint
from wmbench.models.checkpoint import checkpoint_path
from wmbench.training.config import TrainConfig


@dataclass(frozen=True)
class TrainSpec:
    """Which checkpoint a training job produces (the arguments of `wmbench.training.train`)."""

    env: str
    model: str
    variant: str
    dataset_size: str
    seed: int = 0
    config: TrainConfig = field(default_factory=TrainConfig)
    device: str = "cpu"

    def path(self, home: str | Path | None = None) -> Path:
        """Where this checkpoint lives under ``home``."""
        return checkpoint_path(self.env, self.model, self.variant, self.dataset_size, self.seed, home)

    def with_variant(self, variant: str) -> TrainSpec:
        return replace(self, variant=variant)


def needs_training(spec: TrainSpec, home: str | Path | None = None) -> bool:
    """False when ``spec``'s checkpoint under ``home`` is complete; ``ValueError`` (as ``train``) when it
    exists with other settings than ``spec.config``."""
    path = spec.path(home)
    if not path.is_file():
        return True
    training = checkpoint.read(path)["training"]
    if training is None or training.get("config") != spec.config.for_variant(spec.variant):
        raise ValueError(f"{path} exists but was trained with other settings; retrain it with "
                         "`wmbench train ... --overwrite` or delete the file")
    return not training["complete"]


def train_job(spec: TrainSpec, dataset: Any, start_from: dict[str, bytes]) -> bytes:
    """Train ``spec`` on ``dataset`` in a temporary home seeded with ``start_from`` (variant -> checkpoint
    bytes); returns the finished checkpoint's bytes."""
    from wmbench.training.trainer import train

    with tempfile.TemporaryDirectory(prefix="wmbench-train-") as home:
        for variant, data in start_from.items():
            path = spec.with_variant(variant).path(home)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        path = train(spec.env, spec.model, spec.variant, spec.dataset_size, home=home, seed=spec.seed,
                     config=spec.config, progress=False, dataset=dataset, device=spec.device)
        return path.read_bytes()


def install_checkpoint(data: bytes, path: Path) -> Path:
    """Verify checkpoint bytes from a worker (format and content hash) and move them into ``path``
    atomically; ``ValueError`` naming ``path`` if they fail."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        try:
            checkpoint.read(tmp)
        except ValueError as exc:
            raise ValueError(f"the checkpoint trained for {path} arrived corrupt ({exc}); rerun") from None
    return path
