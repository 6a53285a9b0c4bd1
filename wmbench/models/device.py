"""The ``--device`` option: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` resolved to a concrete torch device."""

from __future__ import annotations

import re

import torch

DEVICE_HELP = "cpu, cuda, cuda:N or auto (cuda when available, else cpu)"


def resolve_device(name: str) -> str:
    """``"auto"`` -> ``"cuda:0"`` when CUDA is available, else ``"cpu"``; ``"cuda"`` -> ``"cuda:<current>"``.

    Returns ``"cpu"`` or ``"cuda:N"``, so equal devices have equal names (a sweep unit's identity holds its
    device). An unknown name or a CUDA device that this machine lacks is a ``ValueError`` naming it.
    """
    text = str(name).strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return "cpu"
    match = re.fullmatch(r"cuda(?::(\d+))?", text)
    if match is None:
        raise ValueError(f"unknown device {name!r}; choose {DEVICE_HELP}")
    if not torch.cuda.is_available():
        raise ValueError(f"device {name!r} needs CUDA, which this machine (torch {torch.__version__}) does "
                         "not have; use --device cpu or auto")
    index = torch.cuda.current_device() if match[1] is None else int(match[1])
    if index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                         f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return f"cuda:{index}"
