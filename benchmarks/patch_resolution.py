"""Does the patch world model's frozen encoder resolve the PushT T's pose? (issue 19, item 6)

The patch model (`wmbench.models.patch_model`) plans on the MSE between the predicted frame's normalised patch
tokens and the goal frame's. Training a full world model per configuration is too expensive on a shared CPU,
so this separates the representation from the dynamics, per encoder configuration (image size, patch size,
blur, encoder width / layers):

1. Pre-train the encoder by masked autoencoding on PushT small (`PatchWorldModel.from_dataset`, 1,500 steps
   by default) and record its CPU seconds; time the token predictor's forward rollout (CEM's 300 candidates
   x 5 steps, history 3, untrained weights: the cost does not depend on them) as microseconds per model step.
2. Pose probe: around each goal of the PushT dev suite (v2, ``near`` and ``far``: 60 goals) draw perturbed
   states (`perturb`): the block rotated by 0-90 degrees in place (``rot``), shifted by 0-60 units
   (``shift``),
   and joint perturbations of agent, block position and angle, small (``mixed-small``: angle 0-25 degrees,
   block 0-20 units, agent 0-12 units, about half pass the success test) and large (``mixed-large``: 0-90
   degrees, 0-60 and 0-40 units). Each state's cost to its goal is the planner's cost (`Objective` "last" with
   the model's ``goal_weights``) under three latents: the frozen encoder's normalised tokens (``tokens``), the
   standardised blurred pixels the encoder sees (``pixels``) and the simulator's state latent
   (`SimulatorModel`, ``state``). Metrics: the ROC AUC of the cost for separating ``mixed`` states that pass
   the env's success test from those that fail, over both ``mixed`` families and over ``mixed-small`` alone
   (near the threshold: the discrimination the last stage of planning needs; 1 = every passing state is
   cheaper than every failing one, 0.5 = chance; Hanley-McNeil 95% interval), and the Spearman correlation
   of the cost with the angle error (``rot``) and with the position error (``shift``).
3. Planning ceiling (``--ceiling``): MPC with CEM through the true simulator dynamics, each candidate scored
   by the cost of its rendered final frame (`RenderedCost`: perfect dynamics, the encoder's cost), on the
   30 ``near`` dev tasks, the paper's MPC (whole 5-step plan executed, step cap 50), at a reduced population
   (``--samples`` 100 / ``--topk`` 10, ``--iterations`` 10); the same CEM with the state cost (the Oracle's
   cost) and with the blurred-pixel cost for anchors. This is the best a patch world model with that
   encoder could plan. Success rates with n and 95% Wilson intervals.

4. Full world model (``--train NAME``): a patch world model with that encoder configuration trained on
   PushT small by `wmbench.training.trainer.train` (``TrainConfig(model_options=..., steps=--train-steps)``,
   checkpoint under ``$WMBENCH_HOME/patch-resolution/NAME``; diagnostics skipped), then CEM MPC through it
   on the 30 ``near`` dev tasks at the paper's settings (300 samples / top 30, 30 iterations, last frame,
   the whole 5-step plan executed; what ``wmbench eval --trained --model patch --entry CEM --budgets it:30
   --levels near --split dev`` runs). Writes ``trained/NAME.json``.

Each configuration writes ``results/pusht-patch-resolution/configs/<name>.json``; ``--report`` (run after
each configuration) collects them into ``resolution.csv`` and ``RESOLUTION.md``. One torch thread throughout;
all randomness seeded (``--seed``).

    .venv/bin/python benchmarks/patch_resolution.py --config g4-64-b8 --ceiling
    .venv/bin/python benchmarks/patch_resolution.py --train g8-64-b8 --train-steps 1500 --report
    .venv/bin/python benchmarks/patch_resolution.py --report

CPU cost (one core of a shared 2-core machine): MAE pre-training about 0.1-0.2 s per step (150-300 s at
1,500 steps), the probe seconds, the ceiling about 1-2 minutes per cost at 100 x 10.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import stats

from wmbench.data.dataset import load as load_dataset
from wmbench.harness.episodes import run_episodes
from wmbench.models.patch_model import PatchWorldModel
from wmbench.models.simulator import SimulatorModel
from wmbench.planning import Budget, Objective
from wmbench.report.stats import Z95, wilson_interval
from wmbench.tasks import load as load_tasks
from wmbench_baselines.cem import CEM
from wmbench_envs.pusht import success, wrap_angle

OUT = Path(__file__).resolve().parent.parent / "results" / "pusht-patch-resolution"
#: name -> PatchWorldModel options (blur in pixels of the model's image; one pixel = 512 / image_size units).
CONFIGS: dict[str, dict[str, Any]] = {
    "g4-64-b8": {"image_size": 64, "patch_size": 16, "blur": 8.0},  # today's default
    "g8-64-b8": {"image_size": 64, "patch_size": 8, "blur": 8.0},
    "g8-128-b8": {"image_size": 128, "patch_size": 16, "blur": 8.0},
    "g8-128-b16": {"image_size": 128, "patch_size": 16, "blur": 16.0},
    "g8-64-b4": {"image_size": 64, "patch_size": 8, "blur": 4.0},
    "g8-64-b0": {"image_size": 64, "patch_size": 8, "blur": 0.0},
    "g8-128-b4": {"image_size": 128, "patch_size": 16, "blur": 4.0},
    "g8-128-b0": {"image_size": 128, "patch_size": 16, "blur": 0.0},
    "g16-128-b4": {"image_size": 128, "patch_size": 8, "blur": 4.0},
    "g8-64-b4-w128l4": {"image_size": 64, "patch_size": 8, "blur": 4.0, "encoder_width": 128,
                        "encoder_layers": 4},
}
#: The pixel ceiling's largest frame: its rollouts are ``[episodes x samples, 6, dims]`` float64, twice
#: (128 px: 49,152 dims, 30 x 100 candidates -> about 7 GB each; the run was killed for memory).
MAX_PIXEL_DIMS = 3 * 64 * 64
FAMILIES = ("rot", "shift", "mixed-small", "mixed-large")


# ----------------------------------------------------------------------------------------------- metrics
def auc(cost: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of a cost for the positives: P(cost of a positive < cost of a negative), ties counting 1/2
    (NaN without both classes)."""
    cost, positive = np.asarray(cost, dtype=np.float64), np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(-cost)  # the cheapest gets the highest rank
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_interval(a: float, n_pos: int, n_neg: int, z: float = Z95) -> tuple[float, float]:
    """Hanley-McNeil (1982) normal interval of an AUC from ``n_pos`` positives and ``n_neg`` negatives."""
    if not n_pos or not n_neg or math.isnan(a):
        return float("nan"), float("nan")
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)
    half = z * math.sqrt(max(var, 0.0))
    return max(0.0, a - half), min(1.0, a + half)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of ``x`` and ``y`` (NaN if either is constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def perturb(goals: np.ndarray, per_family: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """States around each goal ``[G, 7]``: ``per_family`` per family and goal (see the module docstring).

    Returns ``goal`` (index), ``family`` (index into `FAMILIES`) and ``state`` ``[G * 3 * per_family, 7]``.
    """
    goal_idx, family, out = [], [], []
    for g, goal in enumerate(goals):
        for f, name in enumerate(FAMILIES):
            for _ in range(per_family):
                s = np.array(goal, dtype=np.float64)
                s[5:] = 0.0
                small = name == "mixed-small"
                if name != "shift":
                    s[4] = (s[4] + rng.choice([-1, 1]) * np.deg2rad(rng.uniform(0, 25 if small else 90))) % (
                        2 * np.pi)
                if name != "rot":
                    phi = rng.uniform(0, 2 * np.pi)
                    s[2:4] += rng.uniform(0, 20 if small else 60) * np.array([np.cos(phi), np.sin(phi)])
                if name.startswith("mixed"):
                    phi = rng.uniform(0, 2 * np.pi)
                    s[0:2] += rng.uniform(0, 12 if small else 40) * np.array([np.cos(phi), np.sin(phi)])
                goal_idx.append(g)
                family.append(f)
                out.append(s)
    return {"goal": np.array(goal_idx), "family": np.array(family), "state": np.stack(out)}


def probe_metrics(cost: np.ndarray, states: np.ndarray, goals: np.ndarray, family: np.ndarray
                  ) -> dict[str, float]:
    """AUC (success vs not: both ``mixed`` families, and ``mixed-small`` alone) and Spearman (``rot``: angle
    error; ``shift``: block position error) of ``cost`` over perturbed ``states`` and their ``goals``
    (row-aligned)."""
    rot, shift, small, large = (family == FAMILIES.index(n) for n in FAMILIES)
    passes = success(states, goals)
    out: dict[str, float] = {}
    for key, rows in (("auc", small | large), ("auc_small", small)):
        n_pos, n_neg = int(passes[rows].sum()), int((~passes[rows]).sum())
        a = auc(cost[rows], passes[rows])
        low, high = auc_interval(a, n_pos, n_neg)
        out.update({key: a, f"{key}_low": low, f"{key}_high": high, f"{key}_n_pass": n_pos,
                    f"{key}_n_fail": n_neg})
    angle_err = wrap_angle(states[:, 4] - goals[:, 4])
    pos_err = np.linalg.norm(states[:, 2:4] - goals[:, 2:4], axis=1)
    return {**out, "rho_angle": spearman(cost[rot], angle_err[rot]), "n_rot": int(rot.sum()),
            "rho_position": spearman(cost[shift], pos_err[shift]), "n_shift": int(shift.sum())}


# ----------------------------------------------------------------------------------------------- models
def planner_cost(latents: torch.Tensor, goal_latents: torch.Tensor, weights: torch.Tensor | None
                 ) -> np.ndarray:
    """The planner's cost (`Objective` "last", the model's ``goal_weights``) of each latent ``[N, D]`` to its
    goal latent ``[N, D]``."""
    return Objective("last").cost(latents[:, None], goal_latents, weights).double().numpy()


def pixel_features(model: PatchWorldModel, frames: torch.Tensor) -> torch.Tensor:
    """The standardised, blurred pixels the encoder sees, flattened ``[N, 3 S S]``."""
    return model._float(frames).flatten(1)


class RenderedCost(torch.nn.Module):
    """The true PushT dynamics (`SimulatorModel`) scored on a frame embedding of the rendered final state.

    Latent: the simulator latent, then ``embed(frame)``; ``goal_weights`` select the embedding only, so with
    `Objective` "last" the planning cost is the embedding's MSE between the final frame and the goal frame
    (only the final frame is rendered: the other frames' embedding part is zero, use "last" only).
    """

    obs_type = "state"

    def __init__(self, sim: SimulatorModel, patch: PatchWorldModel,
                 embed: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.sim, self.patch, self.embed = sim, patch, embed
        self.frameskip, self.action_dim, self.n_sim = sim.frameskip, sim.action_dim, sim.latent_dim
        self.frame_dim = int(self._embed(torch.zeros(1, sim.state_dim)).shape[-1])
        self.latent_dim = self.n_sim + self.frame_dim
        self.register_buffer("goal_weights", torch.cat([torch.zeros(self.n_sim, dtype=torch.float64),
                                                        torch.ones(self.frame_dim, dtype=torch.float64)]))

    @torch.no_grad()
    def _embed(self, states: torch.Tensor) -> torch.Tensor:
        return self.embed(self.patch.render(states)).double()

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        states = torch.as_tensor(obs).double()
        return torch.cat([self.sim.encode(states), self._embed(states)], -1)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        traj = self.sim.rollout(z0[:, :self.n_sim], actions)  # [N, H + 1, n_sim]
        out = torch.zeros(*traj.shape[:2], self.latent_dim, dtype=z0.dtype, device=z0.device)
        out[..., :self.n_sim] = traj
        out[:, -1, self.n_sim:] = self._embed(traj[:, -1, :self.sim.state_dim]).to(z0.dtype)
        return out


def step_cost_us(model: PatchWorldModel, candidates: int = 300, horizon: int = 5, repeats: int = 5) -> float:
    """CPU microseconds per model step of the token predictor's no-grad forward rollout (``candidates`` x
    ``horizon`` steps per call, best of ``repeats``)."""
    gen = torch.Generator().manual_seed(0)
    z0 = torch.randn(candidates, model.latent_dim, generator=gen)
    actions = torch.rand(candidates, horizon, model.action_dim, generator=gen) * 2 - 1
    best = math.inf
    with torch.no_grad():
        model.rollout(z0, actions)  # warm-up
        for _ in range(repeats):
            t0 = time.process_time()
            model.rollout(z0, actions)
            best = min(best, time.process_time() - t0)
    return best / (candidates * horizon) * 1e6


def ceiling(model: torch.nn.Module, tasks: Any, samples: int, topk: int, iterations: int, seed: int
            ) -> dict[str, float]:
    """MPC success of CEM through ``model`` on ``tasks`` (the paper's CEM MPC: last-frame objective, the whole
    5-step plan executed before replanning)."""
    t0 = time.process_time()
    records = run_episodes("pusht", model, CEM(samples, topk), Budget(iterations=iterations), tasks, "mpc",
                           horizon=5, execute_steps=5, seed=seed, objective=Objective("last"))
    wins, n = sum(bool(r.success) for r in records), len(records)
    low, high = wilson_interval(wins, n)
    return {"successes": wins, "n": n, "rate": wins / n, "low": low, "high": high,
            "cpu_seconds": time.process_time() - t0}


def trained_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train a full patch world model with configuration ``name`` and run CEM MPC through it (step 4)."""
    from wmbench.models import checkpoint
    from wmbench.training.config import TrainConfig
    from wmbench.training.trainer import train

    home = Path(os.environ.get("WMBENCH_HOME", Path.home() / ".cache" / "wmbench"))
    home = home / "patch-resolution" / name
    config = TrainConfig(model_options={**CONFIGS[name], "mae_steps": args.mae_steps}, steps=args.train_steps)
    t0 = time.process_time()
    path = train("pusht", "patch", home=home, seed=args.seed, config=config, progress=False, diagnose=False,
                 dataset=load_dataset("pusht-expert-v1", "small"))
    train_s = time.process_time() - t0
    model = checkpoint.load(path)
    stats = model.metadata["training"]
    print(f"{name}: trained {stats['steps']} steps in {train_s:.0f} CPU s ({path})", flush=True)
    near = load_tasks("pusht", "dev").select_levels(["near"])
    res = ceiling(model, near.head(args.eval_tasks) if args.eval_tasks else near, 300, 30, 30, args.seed)
    print(f"  CEM MPC near: {res['successes']}/{res['n']} ({res['low']:.2f}-{res['high']:.2f}) in "
          f"{res['cpu_seconds']:.0f} s", flush=True)
    return {"config": name, **CONFIGS[name], "train_steps": stats["steps"], "train_cpu_s": train_s,
            "train_seconds": stats["seconds"], "stopped_early": stats["stopped_early"],
            "val_metric": stats["val_metric"], "best_val": stats["best_val"],
            "final_loss": stats["final_loss"], "checkpoint": str(path), "seed": args.seed,
            **{f"cem_{k}": v for k, v in res.items()}}


# ----------------------------------------------------------------------------------------------- driver
def run_config(name: str, args: argparse.Namespace) -> dict[str, Any]:
    options = CONFIGS[name]
    dataset = load_dataset("pusht-expert-v1", "small")
    t0 = time.process_time()
    model = PatchWorldModel.from_dataset(dataset, "pusht", seed=args.seed, mae_steps=args.mae_steps,
                                         progress=False, **options).eval()
    pretrain_s = time.process_time() - t0
    result: dict[str, Any] = {"config": name, **options, "grid": model.grid, "mae_steps": args.mae_steps,
                              "pretrain_cpu_s": pretrain_s, "step_us": step_cost_us(model),
                              "frame_dim": model.frame_dim, "seed": args.seed}
    print(f"{name}: pre-trained in {pretrain_s:.0f} s, {result['step_us']:.1f} us per model step", flush=True)

    suite = load_tasks("pusht", "dev")
    probe = perturb(suite.goals, args.per_family, np.random.default_rng(args.seed))
    states, goals = probe["state"], suite.goals[probe["goal"]]
    goals = np.concatenate([goals[:, :5], np.zeros((len(goals), 2))], 1)
    sim = SimulatorModel("pusht", workers=1)
    with torch.no_grad():
        frames, goal_frames = model.render(torch.as_tensor(states)), model.render(torch.as_tensor(goals))
        latents = {
            "tokens": (model.encode(frames), model.encode(goal_frames), None),
            "pixels": (pixel_features(model, frames), pixel_features(model, goal_frames), None),
            "state": (sim.encode(torch.as_tensor(states)), sim.encode(torch.as_tensor(goals)),
                      sim.goal_weights),
        }
    for cost_name, (z, zg, w) in latents.items():
        metrics = probe_metrics(planner_cost(z, zg, w), states, goals, probe["family"])
        result.update({f"{cost_name}_{k}": v for k, v in metrics.items()})
        print(f"  probe {cost_name}: AUC {metrics['auc']:.3f} (pass {metrics['auc_n_pass']} / fail "
              f"{metrics['auc_n_fail']}), near-threshold AUC {metrics['auc_small']:.3f}, rho angle "
              f"{metrics['rho_angle']:.3f}, rho position "
              f"{metrics['rho_position']:.3f}", flush=True)

    if args.ceiling:
        near = suite.select_levels(["near"])
        embeds = {"tokens": model.encode, "pixels": lambda f: pixel_features(model, f)}
        for cost_name in args.ceiling_costs:
            if cost_name == "pixels" and pixel_features(model, frames[:1]).shape[-1] > MAX_PIXEL_DIMS:
                print(f"  ceiling pixels: skipped ({MAX_PIXEL_DIMS} dims at most)", flush=True)
                continue
            planner_model = sim if cost_name == "state" else RenderedCost(sim, model, embeds[cost_name])
            res = ceiling(planner_model, near, args.samples, args.topk, args.iterations, args.seed)
            result.update({f"ceiling_{cost_name}_{k}": v for k, v in res.items()})
            print(f"  ceiling {cost_name}: {res['successes']}/{res['n']} "
                  f"({res['low']:.2f}-{res['high']:.2f}) in {res['cpu_seconds']:.0f} s", flush=True)
        result.update({"ceiling_samples": args.samples, "ceiling_topk": args.topk,
                       "ceiling_iterations": args.iterations})
    sim.close()
    return result


def _auc(row: pd.Series, cost: str, key: str) -> str:
    k = f"{cost}_{key}"
    return (f"{row[k]:.3f} [{row[f'{k}_low']:.3f}, {row[f'{k}_high']:.3f}] ({int(row[f'{k}_n_pass'])}/"
            f"{int(row[f'{k}_n_fail'])})")


def _rate(row: pd.Series, key: str) -> str:
    if f"{key}_n" not in row or pd.isna(row[f"{key}_n"]):
        return "-"
    return (f"{row[f'{key}_rate']:.0%} ({int(row[f'{key}_successes'])}/{int(row[f'{key}_n'])}; "
            f"{row[f'{key}_low']:.0%}-{row[f'{key}_high']:.0%})")


def report(out: Path) -> pd.DataFrame:
    """Collect the per-configuration JSON files into ``resolution.csv`` and ``TABLES.md``."""
    rows = [json.loads(p.read_text()) for p in sorted((out / "configs").glob("*.json"))]
    df = pd.DataFrame(rows)
    df.to_csv(out / "resolution.csv", index=False)
    lines = ["| config | image px | patch px | grid | blur px (units) | cost | AUC pass/fail [95%] "
             "(n pass/fail) | near-threshold AUC [95%] (n pass/fail) | rho angle (n) | rho position (n) |",
             "|---" * 10 + "|"]
    for _, r in df.iterrows():
        for cost in ("tokens", "pixels", "state"):
            lines.append(
                f"| {r['config']} | {r['image_size']} | {r['patch_size']} | {r['grid']}x{r['grid']} | "
                f"{r['blur']:g} ({r['blur'] * 512 / r['image_size']:g}) | {cost} | {_auc(r, cost, 'auc')} | "
                f"{_auc(r, cost, 'auc_small')} | {r[f'{cost}_rho_angle']:.3f} ({r[f'{cost}_n_rot']}) | "
                f"{r[f'{cost}_rho_position']:.3f} ({r[f'{cost}_n_shift']}) |")
    lines += ["", "| config | MAE pre-training CPU s (steps) | predictor us / model step | frame dim | "
              "ceiling population | CEM MPC near: tokens | pixels | state |", "|---" * 8 + "|"]
    for _, r in df.iterrows():
        pop = (f"{int(r['ceiling_samples'])}/{int(r['ceiling_topk'])} x {int(r['ceiling_iterations'])}"
               if "ceiling_samples" in r and not pd.isna(r["ceiling_samples"]) else "-")
        lines.append(f"| {r['config']} | {r['pretrain_cpu_s']:.0f} ({r['mae_steps']}) | {r['step_us']:.1f} | "
                     f"{r['frame_dim']} | {pop} | {_rate(r, 'ceiling_tokens')} | "
                     f"{_rate(r, 'ceiling_pixels')} | {_rate(r, 'ceiling_state')} |")
    trained = [json.loads(p.read_text()) for p in sorted((out / "trained").glob("*.json"))]
    if trained:
        lines += ["", "| config (full world model) | train steps | train CPU s | val open-loop MSE | "
                  "CEM 300/30 x 30 MPC near |", "|---" * 5 + "|"]
        for t in trained:
            r = pd.Series({k.replace("cem_", "x_"): v for k, v in t.items()})
            lines.append(f"| {t['config']} | {t['train_steps']} | {t['train_cpu_s']:.0f} | {t['best_val']} | "
                         f"{_rate(r, 'x')} |")
    table = out / "TABLES.md"
    table.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="*", default=[], choices=sorted(CONFIGS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mae-steps", type=int, default=1500)
    parser.add_argument("--per-family", type=int, default=12, help="perturbed states per goal and family")
    parser.add_argument("--ceiling", action="store_true", help="also run the planning ceiling")
    parser.add_argument("--ceiling-costs", nargs="+", default=["tokens", "pixels", "state"],
                        choices=["tokens", "pixels", "state"])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--topk", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--train", nargs="*", default=[], choices=sorted(CONFIGS),
                        help="train a full patch world model with these configurations and plan through it")
    parser.add_argument("--train-steps", type=int, default=None, help="predictor steps (default: by data)")
    parser.add_argument("--eval-tasks", type=int, default=None, help="first N near tasks only (smoke tests)")
    parser.add_argument("--report", action="store_true", help="collect the configurations' results")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    (args.out / "configs").mkdir(parents=True, exist_ok=True)
    for name in args.config:
        result = run_config(name, args)
        (args.out / "configs" / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    for name in args.train:
        (args.out / "trained").mkdir(parents=True, exist_ok=True)
        result = trained_model(name, args)
        (args.out / "trained" / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    if args.report:
        report(args.out)


if __name__ == "__main__":
    main()
