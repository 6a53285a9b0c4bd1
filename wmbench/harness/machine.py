"""Run metadata recorded with every result row: software versions, git commit, threads, CPU and device, and
the machine fingerprint that decides whether wall-clock results of two machines may be compared."""

from __future__ import annotations

import functools
import os
import platform
import re
import socket
import subprocess
from pathlib import Path

import torch

import wmbench


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_commit() -> str:
    """The commit of the wmbench source checkout (``-dirty`` if modified), or ``unknown`` outside git."""
    here = Path(wmbench.__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


@functools.cache
def machine_fingerprint() -> str:
    """What decides this machine's planning speed, never its name: CPU model, usable cores, torch version,
    its BLAS and CPU-capability build, and each GPU's name and memory; e.g. ``"Intel Xeon ... | 2 cores |
    torch 2.13.0 | BLAS mkl, AVX512 | no GPU"``. Seconds budgets pair only between equal fingerprints."""
    build = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", build)
    capability = re.search(r"CPU capability usage: (\w+)", build)
    gpus = [f"{torch.cuda.get_device_name(i)} {torch.cuda.get_device_properties(i).total_memory >> 30} GiB"
            for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    build = f"BLAS {blas.group(1) if blas else 'unknown'}, {capability.group(1) if capability else 'unknown'}"
    return " | ".join([cpu_model(), f"{cores} cores", f"torch {torch.__version__}", build,
                       ", ".join(gpus) or "no GPU"])


def device_name(device: torch.device) -> str:
    """A readable device name (the GPU model for CUDA devices)."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return device.type


def machine_info(threads: int, concurrent_units: int = 1) -> dict[str, object]:
    """Metadata columns shared by every row that this process writes for one unit."""
    return {
        "wmbench_version": wmbench.__version__,
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "threads": int(threads),
        "cpu_model": cpu_model(),
        "machine": machine_fingerprint(),
        "host": socket.gethostname(),
        "concurrent_units": int(concurrent_units),
    }
