"""Episode control loop: plan through a world model, act in the simulator (open-loop or MPC).

Every (re)plan is one batched `run_planner` call over all still-active episodes; the N
simulators are stepped in Python. The planner sees only latents from ``model.encode`` and never the
simulator's success test. One planning step is ``model.frameskip`` env actions (the action vector reshaped to
``[frameskip, env dim]``). A model with frame history h (`wmbench.models.history`) is fed the last h
observations one planning step apart, oldest first, the first observation repeated until there are h; the
goal is the goal observation repeated h times.

* ``open-loop``: plan once for ``horizon`` planning steps and execute all of them; success is judged on the
  **final** state only (the reference protocol). One plan call with anytime ``milestones`` yields the plan at
  every budget of a sweep (``budget`` may be an ascending list; the last one is the plan's budget).
* ``mpc``: plan, execute ``execute_steps`` planning steps, re-observe, replan warm-started from the rest of
  the previous plan (shifted, padded with mid-range = zero actions), until success or ``step_cap`` env steps.
  Success is checked after every env step and is sticky: a succeeded episode executes nothing more.

A budget applies to one plan call for the whole batch. Planner outputs are validated: non-finite or
out-of-bounds actions mark the episode's record with an error and stop it, a plan call that raises (or calls
``sys.exit``) marks all its episodes, and a plan call that takes more than twice a seconds budget sets
``overrun``. Time and model evaluations are counted by the planning loop, never by the planner. Every plan
call runs under the watchdog (`wmbench.harness.watchdog`): one far past its budget, or whose loop clock
disagrees with the watchdog's, marks all its episodes too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from wmbench.harness.watchdog import PLAN_TIMEOUT, PlanTimeout, Watchdog, check_clock, plan_limit
from wmbench.models.history import model_history
from wmbench.planning import Budget, Objective, Planner, PlanProblem, PlanResult, run_planner
from wmbench.registry import make_env

MODES = ("mpc", "open-loop")
#: Tolerance on the action bounds when validating planner outputs.
BOUND_TOL = 1e-4
#: A plan call slower than this multiple of its seconds budget is flagged as an overrun.
OVERRUN_FACTOR = 2.0


#: ``on_step(episode, action, state)``: called after every env step with the action given and the new state.
StepHook = Callable[[int, np.ndarray, np.ndarray], None]

#: Exceptions a planner can raise that become error rows (``SystemExit`` included: a planner calling
#: ``sys.exit`` ends its own episodes, not the sweep); ``KeyboardInterrupt`` still stops the run.
PLANNER_FAILURES = (Exception, SystemExit, PlanTimeout)


@dataclass(frozen=True, kw_only=True)
class EpisodeRecord:
    """Outcome of one episode under one budget (planning counts summed over the episode's plan calls).

    ``coverage``: the env's goal coverage of the final state (PushT: overlap of block and goal block / block
    area), NaN for envs that define none.
    """

    episode: int
    budget: Budget
    success: bool
    final_distance: float
    coverage: float
    steps: int
    replans: int
    planning_seconds: float
    iterations: int
    forward_evals: int
    backward_evals: int
    overrun: bool
    error: str | None


PerEpisode = Any
"""One value for every episode, or a sequence / array with one value per episode."""


def episode_records(budget: Budget, n: int, *, success: PerEpisode, final_distance: PerEpisode,
                    coverage: PerEpisode, steps: PerEpisode, replans: PerEpisode,
                    planning_seconds: PerEpisode, iterations: PerEpisode, forward_evals: PerEpisode,
                    backward_evals: PerEpisode, overrun: PerEpisode, error: PerEpisode
                    ) -> list[EpisodeRecord]:
    """The records of episodes ``0 .. n - 1`` under ``budget``: the one place an `EpisodeRecord` is
    built (the episode loops' and the harness's error records alike)."""
    def each(value: PerEpisode) -> list[Any]:
        return list(value) if isinstance(value, list | tuple | np.ndarray) else [value] * n

    fields = zip(each(success), each(final_distance), each(coverage), each(steps), each(replans),
                 each(planning_seconds), each(iterations), each(forward_evals), each(backward_evals),
                 each(overrun), each(error), strict=True)
    return [EpisodeRecord(episode=i, budget=budget, success=bool(ok), final_distance=float(dist),
                          coverage=float(cover), steps=int(n_steps), replans=int(plans),
                          planning_seconds=float(seconds), iterations=int(its), forward_evals=int(fwd),
                          backward_evals=int(bwd), overrun=bool(over), error=err)
            for i, (ok, dist, cover, n_steps, plans, seconds, its, fwd, bwd, over, err) in enumerate(fields)]


def model_obs_type(model: Any) -> str:
    """What a model encodes, "state" or "pixels": ``model.obs_type`` (default "state")."""
    return getattr(model, "obs_type", "state")


class _Sims:
    """N simulators reset to their (start, goal) tasks, with sticky success and step counts; ``past[i]`` keeps
    episode i's observations ``spacing`` env steps apart that a history-h model needs (the newest last)."""

    def __init__(self, env_name: str, starts: np.ndarray, goals: np.ndarray, obs_type: str, image_size: int,
                 history: int = 1, spacing: int = 1, on_step: StepHook | None = None):
        self.on_step = on_step
        self.envs = [make_env(env_name, obs_type, image_size) for _ in range(len(starts))]
        self.goals = goals
        self.obs = [env.reset(seed=i, options={"state": s, "goal": g})[0]
                    for i, (env, s, g) in enumerate(zip(self.envs, starts, goals, strict=True))]
        self.history, self.spacing = history, spacing
        self.past = [deque([obs], maxlen=(history - 1) * spacing + 1) for obs in self.obs]
        self.success = np.array([bool(env.success(s, g))
                                 for env, s, g in zip(self.envs, starts, goals, strict=True)])
        self.steps = np.zeros(len(starts), dtype=np.int64)

    def goal_obs(self, obs_type: str) -> list[np.ndarray]:
        if obs_type == "pixels":
            return [env.draw(g, env.image_size) for env, g in zip(self.envs, self.goals, strict=True)]
        return [g.astype(np.float32) for g in self.goals]

    def execute(self, i: int, actions: np.ndarray, step_cap: int | None, sticky: bool) -> None:
        """Run env actions [K, a] in episode i, stopping at ``step_cap`` or (if ``sticky``) at success."""
        env = self.envs[i]
        for action in actions:
            if (sticky and self.success[i]) or (step_cap is not None and self.steps[i] >= step_cap):
                return
            self.obs[i], _, _, _, info = env.step(action)
            self.past[i].append(self.obs[i])
            self.steps[i] += 1
            self.success[i] = info["is_success"]
            if self.on_step is not None:
                self.on_step(i, action, info["state"])

    def window(self, i: int) -> list[Any]:
        """Episode i's last ``history`` observations ``spacing`` env steps apart, oldest first (the first
        observation of the episode repeated where it has fewer)."""
        past = self.past[i]
        return [past[max(0, len(past) - 1 - k * self.spacing)] for k in reversed(range(self.history))]

    def distances(self) -> np.ndarray:
        return np.array([float(env.state_distance(env.get_state(), g))
                         for env, g in zip(self.envs, self.goals, strict=True)])

    def coverages(self) -> np.ndarray:
        return np.array([float(env.coverage(env.get_state(), g))
                         for env, g in zip(self.envs, self.goals, strict=True)])

    def failed(self, budget: Budget, error: str, replans: int = 0) -> list[EpisodeRecord]:
        """Records of every episode in its current state, failed with ``error``."""
        return episode_records(budget, len(self.envs), success=False, final_distance=self.distances(),
                               coverage=self.coverages(), steps=self.steps, replans=replans,
                               planning_seconds=0.0, iterations=0, forward_evals=0, backward_evals=0,
                               overrun=False, error=error)


def _device(model: torch.nn.Module) -> torch.device:
    return next(iter(model.parameters()), torch.empty(0)).device


def _encode(model: Any, windows: list[list[np.ndarray]], device: torch.device) -> torch.Tensor:
    """Latents ``[N, D]`` of N observation windows (each the model's ``history`` frames, oldest first)."""
    with torch.no_grad():
        frames = model.encode(torch.as_tensor(np.stack([o for w in windows for o in w])).to(device)).detach()
    return frames.reshape(len(windows), -1)


def _check_actions(actions: Any, shape: tuple[int, int, int], low: torch.Tensor, high: torch.Tensor
                   ) -> list[str | None]:
    """Per-episode validation error of a planner's actions (None if valid); ``shape``: expected [B, H, A]."""
    if not isinstance(actions, torch.Tensor) or tuple(actions.shape) != shape:
        got = list(actions.shape) if isinstance(actions, torch.Tensor) else type(actions).__name__
        return [f"planner returned actions {got}, expected a tensor {list(shape)}"] * shape[0]
    a = actions.detach().float().cpu()
    finite = torch.isfinite(a).flatten(1).all(1)
    inside = ((a >= low.cpu() - BOUND_TOL) & (a <= high.cpu() + BOUND_TOL)).flatten(1).all(1)
    return [None if f and b else ("planner returned non-finite actions" if not f else
                                  "planner returned actions outside the action bounds")
            for f, b in zip(finite.tolist(), inside.tolist(), strict=True)]


def _overran(seconds: float, budget: Budget) -> bool:
    return budget.seconds is not None and seconds > OVERRUN_FACTOR * budget.seconds


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _task_arrays(tasks: Any) -> tuple[np.ndarray, np.ndarray]:
    starts, goals = (tasks.starts, tasks.goals) if hasattr(tasks, "starts") else tasks
    starts, goals = np.asarray(starts, dtype=np.float64), np.asarray(goals, dtype=np.float64)
    if starts.ndim != 2 or starts.shape != goals.shape or len(starts) == 0:
        raise ValueError(f"tasks need starts and goals of equal shape [N, S] with N >= 1, got {starts.shape} "
                         f"and {goals.shape}")
    return starts, goals


def run_episodes(env_name: str, model: Any, planner: Planner, budget: Budget | Sequence[Budget], tasks: Any,
                 mode: str = "mpc", *, horizon: int = 5, step_cap: int | None = None, execute_steps: int = 1,
                 seed: int = 0, objective: Objective | None = None, obs_type: str | None = None,
                 on_step: StepHook | None = None, plan_timeout: float = PLAN_TIMEOUT) -> list[EpisodeRecord]:
    """Run all tasks (a ``TaskSuite`` or a ``(starts [N, S], goals [N, S])`` pair) with one planner.

    ``planner`` must be a `Planner`: its ``init``/``iterate`` run in the shared loop.

    Returns one record per episode and budget (open-loop with several ascending budgets: budget-major order).
    ``step_cap`` (MPC: the most env steps an episode takes) defaults to ``tasks.step_cap``; ``obs_type``
    defaults to `model_obs_type`. ``on_step`` (a `StepHook`) sees every env step of every episode
    (and budget), e.g. to record an episode for a video.
    """
    if mode not in MODES:
        raise ValueError(f"unknown control mode {mode!r}; choose one of {MODES}")
    if not isinstance(planner, Planner):
        raise TypeError(f"planner must be a wmbench.planning.Planner subclass instance, got "
                        f"{type(planner).__name__}")
    budgets = [budget] if isinstance(budget, Budget) else list(budget)
    if not budgets:
        raise ValueError("give at least one budget")
    if horizon < 1 or execute_steps < 1 or execute_steps > horizon:
        raise ValueError(f"need 1 <= execute_steps ({execute_steps}) <= horizon ({horizon})")
    starts, goals = _task_arrays(tasks)
    obs_type = obs_type or model_obs_type(model)
    image_size = int(getattr(model, "image_size", 64))
    objective = objective or Objective()
    device = _device(model)
    history = model_history(model)
    probe = make_env(env_name)
    env_action_dim = int(probe.action_space.shape[0])
    low, high = (torch.as_tensor(np.tile(bound, model.frameskip), dtype=torch.float32, device=device)
                 for bound in (probe.action_space.low, probe.action_space.high))
    if low.numel() != model.action_dim:
        raise ValueError(f"model.action_dim {model.action_dim} != frameskip {model.frameskip} x env action "
                         f"dim {env_action_dim}; the model was trained for another env")
    ctx = _Context(env_name, model, planner, starts, goals, obs_type, image_size, objective, device, low,
                   high, horizon, seed, history, on_step, plan_timeout)
    if mode == "open-loop":
        return _open_loop(ctx, budgets)
    if len(budgets) != 1:
        raise ValueError("MPC runs one budget per call; call run_episodes once per budget")
    if step_cap is None:
        step_cap = getattr(tasks, "step_cap", None)
    if step_cap is None or step_cap < 1:
        raise ValueError("MPC needs step_cap >= 1 (the most env steps an episode takes)")
    return _mpc(ctx, budgets[0], int(step_cap), execute_steps)


@dataclass
class _Context:
    env_name: str
    model: Any
    planner: Planner
    starts: np.ndarray
    goals: np.ndarray
    obs_type: str
    image_size: int
    objective: Objective
    device: torch.device
    low: torch.Tensor
    high: torch.Tensor
    horizon: int
    seed: int
    history: int
    on_step: StepHook | None
    plan_timeout: float

    def sims(self) -> _Sims:
        return _Sims(self.env_name, self.starts, self.goals, self.obs_type, self.image_size, self.history,
                     self.model.frameskip, self.on_step)

    def goal_latents(self, sims: _Sims) -> torch.Tensor:
        """The goals' latents: each goal observation repeated ``history`` times (a still window)."""
        return _encode(self.model, [[g] * self.history for g in sims.goal_obs(self.obs_type)], self.device)

    def problem(self, sims: _Sims, idx: np.ndarray, z_goal: torch.Tensor,
                warm_start: torch.Tensor | None) -> PlanProblem:
        z0 = _encode(self.model, [sims.window(i) for i in idx], self.device)
        return PlanProblem(self.model, z0, z_goal[idx], self.horizon, self.low, self.high, self.objective,
                           warm_start=warm_start)

    def plan(self, problem: PlanProblem, budget: Budget, seed: int, milestones: Sequence[Budget] = ()
             ) -> PlanResult:
        """``run_planner`` under the watchdog, its seconds checked against the watchdog's."""
        with Watchdog(plan_limit(budget, self.plan_timeout, problem.batch_size)) as watch:
            result = run_planner(self.planner, problem, budget, seed=seed, milestones=milestones)
        check_clock(result.seconds, watch.seconds)
        return result

    def env_actions(self, plan: torch.Tensor) -> np.ndarray:
        """A plan [H, A] -> env actions [H * frameskip, env action dim]."""
        return plan.detach().cpu().double().numpy().reshape(-1, self.low.numel() // self.model.frameskip)


def _open_loop(ctx: _Context, budgets: list[Budget]) -> list[EpisodeRecord]:
    n = len(ctx.starts)
    sims = ctx.sims()
    z_goal = ctx.goal_latents(sims)
    idx = np.arange(n)
    try:
        result = ctx.plan(ctx.problem(sims, idx, z_goal, None), budgets[-1], ctx.seed, tuple(budgets[:-1]))
    except PLANNER_FAILURES as exc:  # a failing planner gives error rows, never a crashed sweep
        return [r for b in budgets for r in sims.failed(b, _error_text(exc), replans=1)]
    records = []
    for b, plan in zip(budgets, [*result.milestones, result], strict=True):
        sims = sims if b is budgets[0] else ctx.sims()
        errors = _check_actions(plan.actions, (n, ctx.horizon, ctx.low.numel()), ctx.low, ctx.high)
        for i in idx:
            if errors[i] is None:
                sims.execute(i, ctx.env_actions(plan.actions[i]), None, sticky=False)
        success = sims.success & np.array([e is None for e in errors])
        records += episode_records(b, n, success=success, final_distance=sims.distances(),
                                   coverage=sims.coverages(), steps=sims.steps, replans=1,
                                   planning_seconds=plan.seconds, iterations=plan.iterations,
                                   forward_evals=plan.forward_evals, backward_evals=plan.backward_evals,
                                   overrun=_overran(plan.seconds, b), error=errors)
    return records


def _mpc(ctx: _Context, budget: Budget, step_cap: int, execute_steps: int) -> list[EpisodeRecord]:
    n = len(ctx.starts)
    sims = ctx.sims()
    z_goal = ctx.goal_latents(sims)
    mid = (ctx.low + ctx.high) / 2
    warm = mid.expand(n, ctx.horizon, -1).clone()
    seconds, its, fwd, bwd, replans = np.zeros(n), *(np.zeros(n, dtype=np.int64) for _ in range(4))
    overrun = np.zeros(n, dtype=bool)
    errors: list[str | None] = [None] * n
    while True:
        idx = np.flatnonzero(~sims.success & (sims.steps < step_cap) & np.array([e is None for e in errors]))
        if idx.size == 0:
            break
        plan_seed = int(np.random.SeedSequence([ctx.seed, int(replans.max())]).generate_state(1)[0])
        try:
            problem = ctx.problem(sims, idx, z_goal, warm[idx] if replans.any() else None)
            result = ctx.plan(problem, budget, plan_seed)
        except PLANNER_FAILURES as exc:  # a failing planner gives error rows, never a crashed sweep
            for i in idx:
                errors[i] = _error_text(exc)
            break
        seconds[idx] += result.seconds
        replans[idx] += 1
        overrun[idx] |= _overran(result.seconds, budget)
        its[idx] += result.iterations
        fwd[idx] += result.forward_evals
        bwd[idx] += result.backward_evals
        checks = _check_actions(result.actions, (idx.size, ctx.horizon, ctx.low.numel()), ctx.low, ctx.high)
        for j, (i, err) in enumerate(zip(idx, checks, strict=True)):
            if err is not None:
                errors[i] = err
                continue
            plan = result.actions[j].detach().to(ctx.device, ctx.low.dtype)
            sims.execute(i, ctx.env_actions(plan[:execute_steps]), step_cap, sticky=True)
            warm[i] = torch.cat([plan[execute_steps:], mid.expand(execute_steps, -1)])
    return episode_records(budget, n, success=sims.success & np.array([e is None for e in errors]),
                           final_distance=sims.distances(), coverage=sims.coverages(), steps=sims.steps,
                           replans=replans, planning_seconds=seconds, iterations=its, forward_evals=fwd,
                           backward_evals=bwd, overrun=overrun, error=errors)
