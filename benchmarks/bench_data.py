"""Dataset build benchmark: build time, throughput and on-disk size of each registered dataset.

    .venv/bin/python benchmarks/bench_data.py                  # small sizes, 1 worker, full estimated
    .venv/bin/python benchmarks/bench_data.py --size full --workers 2

Builds into a temporary ``$WMBENCH_HOME`` (never the user's cache). The full-size time and disk use are
extrapolated linearly in env steps from the measured size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from wmbench import data


def _disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=data.SIZES, default="small")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--datasets", nargs="*", default=data.list_datasets())
    args = parser.parse_args()
    torch.set_num_threads(1)
    header = (f"{'dataset':22s} {'size':5s} {'episodes':>8s} {'T':>4s} {'build s':>8s} {'steps/s':>8s} "
              f"{'disk MB':>8s} {'load s':>7s} {'win s':>6s} | full: {'steps':>7s} {'est s':>7s} "
              f"{'est MB':>7s}")
    print(f"workers={args.workers}\n{header}")
    with tempfile.TemporaryDirectory(prefix="wmbench-bench-") as home:
        for name in args.datasets:
            spec = data.get_spec(name, args.size)
            start = time.perf_counter()
            path = data.build(name, args.size, home=home, workers=args.workers, progress=False)
            build_s = time.perf_counter() - start
            start = time.perf_counter()
            dataset = data.load(name, args.size, home=home)
            load_s = time.perf_counter() - start
            start = time.perf_counter()
            dataset.train.windows(history=3, horizon=5, frameskip=5)
            windows_s = time.perf_counter() - start
            steps, disk = spec.n_episodes * spec.episode_len, _disk_bytes(path)
            full = data.get_spec(name, "full")
            full_steps = full.n_episodes * full.episode_len
            scale = full_steps / steps
            print(f"{name:22s} {args.size:5s} {spec.n_episodes:8d} {spec.episode_len:4d} {build_s:8.2f} "
                  f"{steps / build_s:8.0f} {disk / 1e6:8.2f} {load_s:7.2f} {windows_s:6.2f} | "
                  f"{full_steps:7d} {build_s * scale:7.0f} {disk * scale / 1e6:7.1f}")


if __name__ == "__main__":
    main()
