"""Training time and model quality of the state world model: base vs OWM vs AWM on one dataset size.

    .venv/bin/python benchmarks/bench_training.py [--envs pointmaze pusht wall] [--size small|full]
                                                  [--home DIR] [--seed 0]

Builds missing datasets, retrains every (env, variant) from scratch (``overwrite=True``) on one thread and
prints the fine-tuning/training seconds (OWM/AWM exclude their base), the validation one-step and open-loop
H-step MSE on expert windows (normalised-state units) and the train-test gap metric: the model's H-step MSE on
simulated GBP-plan trajectories vs on expert trajectories from the same val start states.
"""

from __future__ import annotations

import argparse
import time

import torch

from wmbench import data
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
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'env':10s} {'variant':7s} {'train_s':>8s} " + " ".join(f"{c:>16s}" for c in COLUMNS), flush=True)
    for env in args.envs:
        data.build(f"{env}-expert-v0", size=args.size, home=args.home, progress=False)
        for variant in args.variants:
            t0 = time.perf_counter()
            path = train(env, variant=variant, dataset_size=args.size, home=args.home, seed=args.seed,
                         overwrite=True, progress=False)
            wall = time.perf_counter() - t0
            meta = checkpoint.load(path).metadata
            diag = meta["diagnostics"]
            cells = " ".join(f"{diag[c]:16.4f}" for c in COLUMNS)
            print(f"{env:10s} {variant:7s} {meta['training']['seconds']:8.1f} {cells}   (wall {wall:.1f}s, "
                  "incl. diagnostics)", flush=True)


if __name__ == "__main__":
    main()
