"""Wall-contact probe of the base Wall state world model, per dataset (v0 before, v1 after).

    .venv/bin/python benchmarks/bench_probe.py [--datasets wall-expert-v0 wall-expert-v1] [--size small]
                                               [--home DIR] [--seed 0]

For each dataset: builds it if missing and trains the base Wall state model if missing (in ``HOME/DATASET``,
one cache per dataset, since checkpoint names do not carry the dataset), then prints the probe
(``wmbench.training.probes``): mean and largest |predicted - true| of the pushed coordinate, in grid px,
after one model step (5 env steps at full speed) for pushes into both wall faces (the headline; the target
is below 1 px on the small v1 data), into the door jambs, and in free space (a control), plus the training
steps, seconds and best validation error.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from wmbench import data
from wmbench.io import wmbench_home
from wmbench.models import checkpoint
from wmbench.training.probes import wall_contact_probe
from wmbench.training.trainer import train

KINDS = ("face", "jamb", "free")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["wall-expert-v0", data.default_dataset("wall")])
    parser.add_argument("--size", default="small", choices=data.SIZES)
    parser.add_argument("--home", default=None, help="cache root (default: $WMBENCH_HOME)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'dataset':16s} {'steps':>6s} {'train_s':>8s} {'best_val':>9s} "
          + " ".join(f"{kind + '_mean':>10s} {kind + '_max':>9s}" for kind in KINDS) + "   (px)", flush=True)
    for name in args.datasets:
        home = wmbench_home(args.home) / name
        data.build(name, args.size, home=home, progress=False)
        t0 = time.perf_counter()
        path = train("wall", dataset_size=args.size, home=home, seed=args.seed, progress=False,
                     dataset_name=name, diagnose=False)
        model = checkpoint.load(path)
        stats = model.metadata["training"]
        probe = wall_contact_probe(model)
        cells = " ".join(f"{probe[kind + '_mean_px']:10.3f} {probe[kind + '_max_px']:9.3f}" for kind in KINDS)
        print(f"{name:16s} {stats['steps']:6d} {stats['seconds']:8.1f} {stats['best_val']:9.4f} {cells}"
              f"   ({Path(path).name}, {time.perf_counter() - t0:.0f} s incl. loading)", flush=True)


if __name__ == "__main__":
    main()
