"""Training time and model quality of the state world model: base vs OWM vs AWM on one dataset and size.

    .venv/bin/python benchmarks/bench_training.py [--envs pointmaze pusht wall] [--size small|full]
                                                  [--version 0|1] [--home DIR] [--seed 0]

Builds missing datasets (``ENV-expert-vVERSION``, default the current default), retrains every (env, variant)
from scratch (``overwrite=True``, in ``HOME/vVERSION`` since checkpoint names do not carry the dataset) on one
thread and prints the steps trained (of the budget; early stopping may end sooner), the training seconds
(OWM/AWM exclude their base), the validation one-step and open-loop H-step MSE on expert windows
(normalised-state units) and the train-test gap metric: the model's H-step MSE on simulated GBP-plan
trajectories vs on expert trajectories from the same val start states.
"""

from __future__ import annotations

import argparse
import time

import torch

from wmbench import data
from wmbench.data.specs import DEFAULT_VERSION
from wmbench.io import wmbench_home
from wmbench.models import checkpoint
from wmbench.training.trainer import train

COLUMNS = ("val_one_step_mse", "val_rollout_mse", "gap_expert_mse", "gap_plan_mse", "gap_ratio")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=["pointmaze", "pusht", "wall"])
    parser.add_argument("--variants", nargs="+", default=["base", "owm", "awm"])
    parser.add_argument("--home", default=None, help="WMBENCH_HOME to use (default: $WMBENCH_HOME)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="small", choices=("small", "full"), help="dataset size")
    parser.add_argument("--version", type=int, default=DEFAULT_VERSION, help="dataset version")
    args = parser.parse_args()
    torch.set_num_threads(1)
    home = wmbench_home(args.home) / f"v{args.version}"
    header = f"{'env':10s} {'variant':7s} {'steps':>11s} {'train_s':>8s} "
    print(header + " ".join(f"{c:>16s}" for c in COLUMNS), flush=True)
    for env in args.envs:
        name = f"{env}-expert-v{args.version}"
        data.build(name, size=args.size, home=home, progress=False)
        for variant in args.variants:
            t0 = time.perf_counter()
            path = train(env, variant=variant, dataset_size=args.size, home=home, seed=args.seed,
                         overwrite=True, progress=False, dataset_name=name)
            wall = time.perf_counter() - t0
            meta = checkpoint.load(path).metadata
            diag, stats = meta["diagnostics"], meta["training"]
            cells = " ".join(f"{diag[c]:16.4f}" for c in COLUMNS)
            steps = f"{stats['steps']}/{stats['max_steps']}"
            print(f"{env:10s} {variant:7s} {steps:>11s} {stats['seconds']:8.1f} {cells}   (wall {wall:.1f}s, "
                  "incl. diagnostics)", flush=True)


if __name__ == "__main__":
    main()
