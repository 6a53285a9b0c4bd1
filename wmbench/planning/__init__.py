"""Planning through world models: budgets, objectives, problems and the Planner base class.

The episode loop (open-loop / MPC in the simulator) is :mod:`wmbench.planning.control`.
"""

from wmbench.planning.budget import Budget
from wmbench.planning.objective import Objective
from wmbench.planning.planner import Planner, PlanResult, Snapshot
from wmbench.planning.problem import PlanProblem

__all__ = ["Budget", "Objective", "PlanProblem", "PlanResult", "Planner", "Snapshot"]
