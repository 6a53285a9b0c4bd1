"""Why GBP trails CEM on PushT ``near`` (issue 19, item 5): optimisation failure, or model/objective error?

Two measurements through the 10,000-episode (``xl``) PushT state models:

1. ``mpc``: `CEMThenGBP`, CEM (300 samples, top 30) for ``cem_iterations=30`` iterations and then GBP (Adam,
   lr 0.2) started at CEM's plan for the rest of the iteration budget, under MPC through the harness on the
   first 100 ``near`` tasks of the ``test`` split, batched and seeded exactly as the committed CEM and GBP
   rows of ``results/pusht-scaling/xl`` (planner seed 0, one plan call per replan for the whole batch).
   Under the budget ``it:30`` the planner *is* CEM (same random draws, same plan), under ``it:130`` it is
   CEM followed by 100 GBP steps, so one sweep gives both and pairs them episode by episode. Both phases
   use the problem's objective (a planner sees the model only through it), so two settings are run:
   CEM's (``last`` frame, 5 planning steps executed per replan) and GBP's (``exponential``, 1 step).
   The harness's command line gives a planner it does not name CEM's execution, so this script builds the
   sweep itself (the same `SweepConfig` as ``wmbench eval``'s ad-hoc sweeps) with ``--execute-steps``.
2. ``segment``: open-loop, from each task's start state (the first MPC plan call: its seed and batch),
   CEM's plan ``a_CEM`` (``last`` objective, 30 iterations) and GBP's plan ``a_GBP`` (``exponential``, 100
   steps), and the segment ``a(t) = (1 - t) a_GBP + t a_CEM``, ``t`` in 0, 0.1, ..., 1; plus GBP (100 steps)
   warm-started at ``a_CEM`` under each objective, the open-loop form of item 1. For every plan: the model's
   exponential and last-frame objectives; the same objectives of the *true* trajectory (the simulator's
   states at the planning steps, encoded by the model: the objective the model approximates); and the
   simulator's final state: distance to the goal and success (judged on the final state, as open-loop runs
   are). A lower model objective with a lower true objective but a worse outcome is an objective mismatch; a
   lower model objective with a higher true objective is model error (exploited by the optimiser); GBP
   ending above a plan its own objective rates lower would be an optimisation failure. Writes
   ``segment.parquet`` (one row per model, task and plan) and ``SUMMARY.md``.

``summary`` rewrites ``SUMMARY.md`` from the Parquet files: every rate with n and its 95% Wilson
interval, paired differences with Newcombe's interval and the exact McNemar p-value
(`wmbench.report.paired`).

Commands (one torch thread; ``WMBENCH_HOME`` holds the trained ``xl`` models; ``PYTHONPATH=benchmarks`` lets
the harness import the planner as ``gbp_landscape:CEMThenGBP``, and is recorded in each row's command)::

    export WMBENCH_HOME=/work/home PYTHONPATH=benchmarks
    python benchmarks/gbp_landscape.py mpc --objective last --execute-steps 5 --variants base,owm,awm \
        --results results/pusht-analysis/gbp-from-cem-last
    python benchmarks/gbp_landscape.py mpc --objective exponential --execute-steps 1 --variants base,owm,awm \
        --results results/pusht-analysis/gbp-from-cem-exponential
    wmbench report results/pusht-analysis/gbp-from-cem-last
    wmbench report results/pusht-analysis/gbp-from-cem-exponential
    python benchmarks/gbp_landscape.py segment --variants base,owm,awm --out results/pusht-analysis/landscape
    python benchmarks/gbp_landscape.py summary
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from wmbench.planning import Budget, Objective, Planner, PlanProblem, run_planner
from wmbench_baselines.cem import CEM, CEMState
from wmbench_baselines.gbp import GBP

ENV, LEVEL, N_TASKS, SIZE = "pusht", "near", 100, "xl"
CEM_ITERATIONS, GBP_STEPS = 30, 100
TS = np.round(np.linspace(0.0, 1.0, 11), 2)
SCALING = Path("results/pusht-scaling/xl/parts")  # the committed CEM and GBP rows this pairs with
#: One MPC results folder per objective (a report pools an entry's rows of one execution only).
ANALYSIS = Path("results/pusht-analysis")
MPC_GLOB, SEGMENT_DIR = "gbp-from-cem-*/parts/*.parquet", ANALYSIS / "landscape"


@dataclass
class _State:
    cem: CEMState
    best: torch.Tensor  # [B, H, A]: CEM's plan so far (its cheapest candidate, as the anytime loop keeps)
    best_cost: torch.Tensor  # [B]
    iteration: int = 0
    gbp: Any = None  # GBP's state, built at the first GBP iteration


class CEMThenGBP(Planner):
    """CEM (``samples``, ``topk``, ``init_std``) for ``cem_iterations`` iterations, then GBP (``lr``,
    ``optimizer``, ``noise``) started at CEM's plan for every further iteration of the budget.

    CEM's plan is its cheapest candidate so far, the plan a CEM run of ``cem_iterations`` returns (the CEM
    phase draws the same random numbers as `CEM`). The GBP phase is `GBP` with its single plan set to that
    plan; the anytime loop returns the cheapest plan of both phases, so the result is never worse than CEM's
    plan under the model's objective.
    """

    def __init__(self, cem_iterations: int = CEM_ITERATIONS, samples: int = 300, topk: int = 30,
                 init_std: float = 1.0, lr: float = 0.2, optimizer: str = "adam", noise: float = 0.003):
        if cem_iterations < 1:
            raise ValueError(f"CEMThenGBP needs cem_iterations >= 1, got {cem_iterations}")
        self.cem_iterations = cem_iterations
        self.cem = CEM(samples, topk, init_std)
        self.gbp = GBP(lr=lr, optimizer=optimizer, init="zero", noise=noise)

    def init(self, problem: PlanProblem, generator: torch.Generator) -> _State:
        inf = torch.full((problem.batch_size,), torch.inf, device=problem.device, dtype=problem.dtype)
        return _State(self.cem.init(problem, generator), problem.initial_plan(), inf)

    def iterate(self, problem: PlanProblem, state: _State, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        state.iteration += 1
        if state.iteration <= self.cem_iterations:
            x, costs = self.cem.iterate(problem, state.cem, generator)
            finite = torch.where(torch.isfinite(costs), costs, torch.inf)
            cheapest, index = finite.min(1)
            better = cheapest < state.best_cost
            chosen = problem.clip(x[torch.arange(problem.batch_size), index])
            state.best = torch.where(better[:, None, None], chosen, state.best)
            state.best_cost = torch.where(better, cheapest, state.best_cost)
            return x, costs
        if state.gbp is None:  # GBP's zero init draws no random numbers; its one plan becomes CEM's
            state.gbp = self.gbp.init(problem, generator)
            state.gbp.actions = state.best.unsqueeze(1).clone()
        return self.gbp.iterate(problem, state.gbp, generator)


# ----------------------------------------------------------------------------------------- the segment
def segment_points(problem: PlanProblem, a_from: torch.Tensor, a_to: torch.Tensor,
                   ts: np.ndarray = TS) -> tuple[torch.Tensor, torch.Tensor]:
    """The plans ``(1 - t) a_from + t a_to`` ``[B, T, H, A]`` and their costs ``[B, T]`` under ``problem``."""
    t = torch.as_tensor(ts, dtype=problem.dtype, device=problem.device)[None, :, None, None]
    plans = (1 - t) * a_from.unsqueeze(1) + t * a_to.unsqueeze(1)
    return plans, problem.cost(plans)


def has_barrier(costs: np.ndarray, rel: float = 0.01) -> np.ndarray:
    """Per row of ``costs [B, T]``: whether an interior point exceeds both ends by more than ``rel`` of the
    larger end (a ridge between the two plans)."""
    ends = np.maximum(costs[:, 0], costs[:, -1])
    return costs[:, 1:-1].max(1) > ends + rel * np.abs(ends)


def first_plan_seed(seed: int = 0) -> int:
    """The planner seed of an MPC run's first plan call (`wmbench.harness.episodes`)."""
    return int(np.random.SeedSequence([seed, 0]).generate_state(1)[0])


def evaluate(model: Any, env: Any, starts: np.ndarray, goals: np.ndarray, z0: torch.Tensor,
             zg: torch.Tensor, plans: torch.Tensor, low: torch.Tensor, high: torch.Tensor
             ) -> dict[str, np.ndarray]:
    """Per plan of ``plans [B, K, H, A]`` (``[B, K]`` arrays): the model's exponential and last-frame
    objectives, the same objectives of the true trajectory (the simulator's states at the planning steps,
    encoded by the model), and the final state's distance to the goal and success."""
    b, k, h, a = plans.shape
    out = {}
    for weighting in ("exponential", "last"):
        problem = PlanProblem(model, z0, zg, h, low, high, Objective(weighting))
        out[f"model_{weighting}"] = problem.cost(plans).numpy()
    blocks = problem.clip(plans).detach().double().numpy().reshape(b * k, h, model.frameskip, -1)
    states = env.replay(np.repeat(starts, k, 0), blocks)  # [B * K, H + 1, S]
    with torch.no_grad():
        z = model.encode(torch.as_tensor(states, dtype=torch.float32)).view(b, k, h + 1, -1)
    for weighting in ("exponential", "last"):
        out[f"true_{weighting}"] = Objective(weighting).cost(z, zg[:, None], model.goal_weights).numpy()
    goal = np.repeat(goals, k, 0)
    out["true_distance"] = np.asarray(env.state_distance(states[:, -1], goal)).reshape(b, k)
    out["true_success"] = np.asarray(env.success(states[:, -1], goal), dtype=bool).reshape(b, k)
    return out


def segment(variant: str, home: Path | None) -> pd.DataFrame:
    """The segment rows of one ``xl`` model variant (see the module docstring): per task, one row per point
    ``t`` of the segment (``plan="segment"``) and one per GBP run warm-started at CEM's plan
    (``plan="gbp_<objective>_from_cem"``, ``t`` NaN); ``move`` is a plan's L2 distance to CEM's plan."""
    from wmbench.models import checkpoint
    from wmbench.models.zoo import find_checkpoint
    from wmbench.registry import make_env
    from wmbench.tasks import load

    suite = load(ENV, "test").select_levels([LEVEL]).head(N_TASKS)
    model = checkpoint.load(find_checkpoint(ENV, "state", variant, SIZE, 0, home, frozen=False)).eval()
    env = make_env(ENV)
    obs = [env.reset(seed=i, options={"state": s, "goal": g})[0]
           for i, (s, g) in enumerate(zip(suite.starts, suite.goals, strict=True))]
    with torch.no_grad():  # as the harness encodes start observations and goals
        z0 = model.encode(torch.as_tensor(np.stack(obs)))
        zg = model.encode(torch.as_tensor(suite.goals.astype(np.float32)))
    low, high = (torch.as_tensor(np.tile(v, model.frameskip), dtype=torch.float32)
                 for v in (env.action_space.low, env.action_space.high))

    def plan(planner: Planner, weighting: str, iterations: int, warm: torch.Tensor | None = None
             ) -> torch.Tensor:
        problem = PlanProblem(model, z0, zg, 5, low, high, Objective(weighting), warm_start=warm)
        return run_planner(planner, problem, Budget(iterations=iterations), first_plan_seed()).actions

    a_cem = plan(CEM(), "last", CEM_ITERATIONS)
    a_gbp = plan(GBP(), "exponential", GBP_STEPS)
    t = torch.as_tensor(TS, dtype=torch.float32)[None, :, None, None]
    points = {"segment": (1 - t) * a_gbp.unsqueeze(1) + t * a_cem.unsqueeze(1)}
    for weighting in ("exponential", "last"):  # GBP's one plan starts at CEM's (zero init draws no noise)
        points[f"gbp_{weighting}_from_cem"] = plan(GBP(init="zero"), weighting, GBP_STEPS, a_cem).unsqueeze(1)
    frames = []
    for name, plans in points.items():
        values = evaluate(model, env, suite.starts, suite.goals, z0, zg, plans, low, high)
        values["move"] = (plans - a_cem.unsqueeze(1)).flatten(2).norm(dim=2).numpy()
        k = plans.shape[1]
        frames.append(pd.DataFrame({"variant": variant, "task": np.repeat(suite.ids, k), "plan": name,
                                    "t": np.tile(TS if name == "segment" else [np.nan], len(suite)),
                                    **{c: v.reshape(-1) for c, v in values.items()}}))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------ the summary
def rate(successes: np.ndarray) -> str:
    """``"p% [lo, hi] (n=n)"`` with the 95% Wilson interval."""
    from wmbench.report.stats import wilson_interval

    k, n = int(np.sum(successes)), len(successes)
    lo, hi = wilson_interval(k, n)
    return f"{100 * k / n:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}] (n={n})"


def paired(first: np.ndarray, second: np.ndarray) -> str:
    """Paired success difference ``first - second`` in points, 95% Newcombe interval, exact McNemar p."""
    from wmbench.report.paired import paired_difference

    d = paired_difference(list(map(bool, first)), list(map(bool, second)))
    return (f"{100 * d.difference:+.0f} [{100 * d.low:+.0f}, {100 * d.high:+.0f}] p={d.p_value:.2g} "
            f"(+{d.only_first}/-{d.only_second} of n={d.n})")


METRICS = ("model_exponential", "model_last", "true_exponential", "true_last", "true_distance",
           "true_success")


def segment_summary(rows: pd.DataFrame) -> list[str]:
    lines = []
    for variant, df in rows.groupby("variant", sort=False):
        seg = df[df.plan == "segment"]
        w = {c: seg.pivot(index="task", columns="t", values=c).to_numpy() for c in (*METRICS, "move")}
        ends = {"a_GBP (t=0)": {c: v[:, 0] for c, v in w.items()},
                "a_CEM (t=1)": {c: v[:, -1] for c, v in w.items()}}
        for weighting in ("exponential", "last"):
            warm = df[df.plan == f"gbp_{weighting}_from_cem"].set_index("task").sort_index()
            ends[f"GBP ({weighting}) from a_CEM"] = {c: warm[c].to_numpy() for c in (*METRICS, "move")}
        gbp, cem = ends["a_GBP (t=0)"], ends["a_CEM (t=1)"]
        lines += [f"### {variant} model ({len(gbp['move'])} tasks)", "",
                  "| plan | true success | true final distance | model exp. | model last | true exp. | "
                  "true last | L2 to a_CEM |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {name} | {rate(v['true_success'])} | {np.median(v['true_distance']):.1f} | "
                  + " | ".join(f"{np.median(v[c]):.4f}" for c in METRICS[:4])
                  + f" | {np.median(v['move']):.2f} |"
                  for name, v in ends.items()]
        lines += ["", "(medians over tasks; 'true exp./last': the model's objective on the simulator's "
                  "trajectory, encoded by the model)", ""]

        def lower(first: dict, second: dict, metric: str) -> str:
            return rate(first[metric] < second[metric])

        lines += [
            f"- a_GBP's objective is lower than a_CEM's (GBP found a lower point of its own objective; "
            f"else it is stuck above a plan the model rates better): model exponential "
            f"{lower(gbp, cem, 'model_exponential')}; true exponential "
            f"{lower(gbp, cem, 'true_exponential')}.",
            f"- last frame, a_GBP below a_CEM: model {lower(gbp, cem, 'model_last')}; true "
            f"{lower(gbp, cem, 'true_last')}; true final distance {lower(gbp, cem, 'true_distance')}.",
            f"- barrier (an interior point above both ends by > 1%) along the segment: model exponential "
            f"{rate(has_barrier(w['model_exponential']))}, model last {rate(has_barrier(w['model_last']))}, "
            f"true exponential {rate(has_barrier(w['true_exponential']))}, true last "
            f"{rate(has_barrier(w['true_last']))}, true distance {rate(has_barrier(w['true_distance']))}.",
            f"- paired true success: a_GBP - a_CEM {paired(gbp['true_success'], cem['true_success'])}."]
        for weighting in ("exponential", "last"):
            warm = ends[f"GBP ({weighting}) from a_CEM"]
            lines.append(
                f"- GBP ({weighting}) from a_CEM: model {weighting} objective below a_CEM's in "
                f"{rate(warm[f'model_{weighting}'] < cem[f'model_{weighting}'] * (1 - 1e-6))}, true "
                f"{weighting} objective below a_CEM's in {lower(warm, cem, f'true_{weighting}')}; true "
                f"success minus a_CEM's {paired(warm['true_success'], cem['true_success'])}.")
        lines += ["", "Along the segment (medians over tasks; success rate):", "",
                  "| t | model exp. | model last | true exp. | true last | true distance | true success |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {t:.1f} | " + " | ".join(f"{np.median(w[c][:, k]):.4f}" for c in METRICS[:4])
                  + f" | {np.median(w['true_distance'][:, k]):.1f} | "
                  f"{100 * w['true_success'][:, k].mean():.0f}% |"
                  for k, t in enumerate(TS)]
        lines.append("")
    return lines

def successes(parts: Path, **where: Any) -> pd.Series:
    """Success by task of the MPC rows under ``parts`` matching ``where`` (column = value)."""
    rows = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("*.parquet"))], ignore_index=True)
    for column, value in where.items():
        rows = rows[rows[column] == value]
    if rows.task.duplicated().any() or rows.seed.nunique() != 1:
        raise ValueError(f"ambiguous rows for {where}")
    return rows.set_index("task").success.astype(bool).sort_index()


#: The committed GBP entry of each world-model variant (results/pusht-scaling/xl).
GBP_ENTRIES = {"base": "GBP", "owm": "GBP+OWM", "awm": "GBP+AWM"}


def mpc_summary(parts: list[Path]) -> list[str]:
    if not parts:
        return ["(no MPC rows yet)", ""]
    cem = successes(SCALING, entry="CEM", level=LEVEL)
    committed = {v: successes(SCALING, entry=e, level=LEVEL) for v, e in GBP_ENTRIES.items()}
    lines = [f"Committed rows (`{SCALING.parent}`, same tasks and seed): CEM (base model, last, 5 steps, "
             f"30 it) {rate(cem.to_numpy())}; "
             + "; ".join(f"{GBP_ENTRIES[v]} (exponential, 1 step, 100 it) {rate(s.to_numpy())}"
                         for v, s in committed.items()) + ".", "",
             "CEMThenGBP at 30 it is CEM under the row's objective and execution; at 130 it the same CEM "
             "followed by 100 GBP steps from its plan.", "",
             "| model: objective, steps per replan | 30 it (CEM) | 130 it (CEM + GBP) | 130 it - 30 it "
             "| 130 it - committed CEM | 130 it - committed GBP of the model "
             "| 30 it - committed GBP of the model |",
             "|---|---|---|---|---|---|---|"]
    rows = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    groups = sorted(rows.groupby(["objective", "execute_steps", "variant"]),  # CEM's settings first
                    key=lambda g: (g[0][0] != "last", list(GBP_ENTRIES).index(g[0][2])))
    for (objective, steps, variant), df in groups:
        by = {b: df[df.budget_value == b].set_index("task").success.astype(bool).sort_index()
              for b in sorted(df.budget_value.unique())}
        short, long = by.get(CEM_ITERATIONS), by.get(CEM_ITERATIONS + GBP_STEPS)
        cells = [rate(s.to_numpy()) if s is not None else "not run" for s in (short, long)]
        cells += [paired(long.to_numpy(), short.loc[long.index].to_numpy())
                  if long is not None and short is not None else "",
                  *(paired(long.to_numpy(), ref.loc[long.index].to_numpy()) if long is not None else ""
                    for ref in (cem, committed[variant])),
                  paired(short.to_numpy(), committed[variant].loc[short.index].to_numpy())
                  if short is not None else ""]
        lines.append(f"| {variant}: {objective}, {steps} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def write_summary(out: Path = SEGMENT_DIR) -> Path:
    parts = sorted(ANALYSIS.glob(MPC_GLOB))
    lines = ["<!-- Generated by `python benchmarks/gbp_landscape.py summary`; do not edit by hand. -->",
             "# GBP vs CEM on PushT near: optimisation or model/objective? (issue 19, item 5)", "",
             f"First {N_TASKS} `{LEVEL}` tasks of the `test` split (suite v2), the {SIZE} (10,000-episode) "
             "state models, planner seed 0, one torch thread. Rates: k/n with the 95% Wilson interval; "
             "paired differences in points with Newcombe's interval and the exact McNemar p (no multiplicity "
             "correction). Commands: see `benchmarks/gbp_landscape.py`.", "",
             f"## 1. GBP started from CEM's plan, MPC (`{ANALYSIS}/gbp-from-cem-*`)", "", *mpc_summary(parts),
             "## 2. The segment a(t) = (1 - t) a_GBP + t a_CEM, open loop from the start state", "",
             "a_CEM: CEM, last-frame objective, 30 iterations; a_GBP: GBP, exponential objective, 100 Adam "
             "steps (the first MPC plan call of each planner's committed run: same batch and seed). True "
             "outcome: the plan executed in the simulator, success judged on the final state.", ""]
    if (out / "segment.parquet").exists():
        lines += segment_summary(pd.read_parquet(out / "segment.parquet"))
    path = out / "SUMMARY.md"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


# -------------------------------------------------------------------------------------------- commands
def run_mpc(args: argparse.Namespace) -> None:
    from wmbench.harness.sweep import SweepConfig, run_sweep
    from wmbench.planning import parse_budgets
    from wmbench.presets import checkpoint_source

    entries = tuple(f"gbp_landscape:CEMThenGBP{'@' + v if v != 'base' else ''}"
                    for v in args.variants.split(","))
    config = SweepConfig(entries=entries, envs=(ENV,), budgets=parse_budgets(args.budgets), seeds=(0,),
                         mode="mpc", split="test", levels=(LEVEL,), n_tasks=N_TASKS, horizon=5,
                         execute_steps=args.execute_steps, objective=args.objective, threads=1)
    path = os.environ.get("PYTHONPATH")
    command = (f"PYTHONPATH={shlex.quote(path)} " if path else "") + "python " + shlex.join(sys.argv)
    results = args.results or ANALYSIS / f"gbp-from-cem-{args.objective}"
    outcome = run_sweep(config, results, checkpoint_source("state", SIZE, args.home, frozen=False),
                        command=command)
    if outcome.failed:
        raise SystemExit("\n".join(outcome.failed))


def run_segment(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = pd.concat([segment(v, args.home) for v in args.variants.split(",")], ignore_index=True)
    rows.to_parquet(out / "segment.parquet", index=False)
    print(write_summary(out=out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="WMBENCH_HOME (default: the environment's)")
    commands = parser.add_subparsers(dest="command", required=True)
    mpc = commands.add_parser("mpc", help="CEMThenGBP under MPC through the harness")
    mpc.add_argument("--objective", choices=("exponential", "last"), required=True)
    mpc.add_argument("--execute-steps", type=int, required=True)
    mpc.add_argument("--budgets", default=f"it:{CEM_ITERATIONS},{CEM_ITERATIONS + GBP_STEPS}")
    mpc.add_argument("--variants", default="base", help="world-model variants, comma-separated")
    mpc.add_argument("--results", type=Path, help="default: results/pusht-analysis/gbp-from-cem-OBJECTIVE")
    seg = commands.add_parser("segment", help="the open-loop segment between GBP's and CEM's plans")
    seg.add_argument("--variants", default="base")
    seg.add_argument("--out", type=Path, default=SEGMENT_DIR)
    commands.add_parser("summary", help=f"rewrite {SEGMENT_DIR}/SUMMARY.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "mpc":
        run_mpc(args)
    elif args.command == "segment":
        run_segment(args)
    else:
        print(write_summary())


if __name__ == "__main__":
    main()
