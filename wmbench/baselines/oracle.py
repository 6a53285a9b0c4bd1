"""The oracle: CEM planning through the true simulator, an **upper bound** and not a world model.

Plan with it through :class:`wmbench.models.simulator.SimulatorModel`, e.g.
``PlanProblem(SimulatorModel("pusht"), ...)``; results must be reported as an oracle, since the planner sees
the true dynamics.
"""

from __future__ import annotations

from wmbench.baselines.cem import CEM


class Oracle(CEM):
    """CEM (same defaults) meant for a :class:`SimulatorModel` problem: the simulator upper bound.

    Its objective compares raw simulator states, whose coordinates have mixed units (positions, angles,
    velocities), so the cost weighs them as the env's state layout does.
    """

    name = "oracle"
