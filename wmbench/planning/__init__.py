"""Planning through world models: budgets, objectives, problems, the Planner base class and its anytime loop.

No envs and no files here: the episode loop (open-loop / MPC in the simulator) is
[`wmbench.harness.episodes`][wmbench.harness.episodes].
"""

from wmbench.planning.budget import Budget, parse_budgets
from wmbench.planning.objective import Objective
from wmbench.planning.planner import Milestone, Planner, PlanResult, TracePoint, planner_class, run_planner
from wmbench.planning.problem import PlanProblem

__all__ = ["Budget", "Milestone", "Objective", "PlanProblem", "PlanResult", "Planner", "TracePoint",
           "parse_budgets", "planner_class", "run_planner"]
