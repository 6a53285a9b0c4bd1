"""The order in which a sweep hands its units to the workers: longest expected unit first.

Units handed out in list order leave a long unit started last running alone at the end of a parallel sweep;
handing out the longest first lets the short ones fill the gaps (the LPT rule). Only the order changes: every
unit's rows are the same in any order. A serial sweep keeps its run order (env, entry, seed, budgets).

`expected_cost` is a relative estimate, not a prediction of seconds: episodes x plan calls x iterations x
model rollouts per iteration and episode x horizon x the cost of one model step. On the committed Table 1
(one torch thread) the planning seconds of every learned-model cell are proportional to forward + 2 x
backward rollouts within a factor of two, whatever the planner and env; the simulator (the Oracle's model)
costs about 30 learned-model steps per step on PushT (Chipmunk replays) and about half of one on PointMaze and
Wall (vectorised).
"""

from __future__ import annotations

import math

from wmbench.harness.entries import ORACLE
from wmbench.harness.units import Unit

#: Cost of one simulator step relative to one learned-model step, per env (unlisted envs: 1).
SIMULATOR_STEP_COST = {"pusht": 30.0, "pointmaze": 0.5, "wall": 0.5}
#: A backward rollout costs about two forward ones.
BACKWARD_COST = 2.0
#: Nominal learned-model rollouts per second, to put seconds budgets on the same scale.
ROLLOUTS_PER_SECOND = 1e5


def rollouts_per_iteration(unit: Unit) -> float:
    """Forward-equivalent rollouts per episode and iteration of ``unit``'s planner, from its constructor's
    population arguments (`Entry.arguments`; the planner is not built here): ``samples`` (default 1) x
    ``n_restarts`` (default 1), each with ``grad_steps`` gradient steps (default: 1 for a planner with an
    ``optimizer`` and no ``samples``, else 0)."""
    arguments = unit.entry.arguments
    samples = arguments.get("samples", 1) * arguments.get("n_restarts", 1)
    gradient_only = "optimizer" in arguments and "samples" not in arguments
    grad_steps = arguments.get("grad_steps", 1 if gradient_only else 0)
    forward = 0 if gradient_only else 1
    return float(samples * (forward + grad_steps * (1 + BACKWARD_COST)))


def expected_cost(unit: Unit) -> float:
    """``unit``'s relative expected cost (see the module docstring); MPC plan calls are counted as if no
    episode ended early (``step_cap / execute_steps``)."""
    budget = max(unit.budgets, key=lambda b: b.value)
    per_iteration = rollouts_per_iteration(unit)
    if budget.kind == "iterations":
        rollouts = budget.value * per_iteration
    elif budget.kind == "evaluations":
        rollouts = float(budget.value)
    else:
        rollouts = budget.value * ROLLOUTS_PER_SECOND
    calls = 1 if unit.step_cap is None else math.ceil(unit.step_cap / max(unit.execute_steps, 1))
    step = SIMULATOR_STEP_COST.get(unit.env, 1.0) if unit.entry.variant == ORACLE else 1.0
    return len(unit.task_ids) * calls * rollouts * unit.horizon * step


def longest_first(units: list[Unit]) -> list[Unit]:
    """``units`` by decreasing `expected_cost`, ties in their given order. A planner that cannot be
    resolved here costs 0 (it fails in its worker and gives error rows)."""
    def cost(unit: Unit) -> float:
        try:
            return expected_cost(unit)
        except ValueError:
            return 0.0
    costs = {unit.id: cost(unit) for unit in units}
    return sorted(units, key=lambda unit: -costs[unit.id])
