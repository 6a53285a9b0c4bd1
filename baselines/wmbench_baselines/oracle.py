"""The oracle: CEM planning through the true simulator, an **upper bound** and not a world model.

Plan with it through `wmbench.models.simulator.SimulatorModel`, e.g.
``PlanProblem(SimulatorModel("pusht"), ...)``; results must be reported as an oracle, since the planner sees
the true dynamics.
"""

from __future__ import annotations

from wmbench_baselines.cem import CEM


class Oracle(CEM):
    """CEM at its own population (300 samples, top 30) for a `SimulatorModel` problem: the simulator upper
    bound.

    It plans exactly as CEM does, so the ceiling beside a world-model entry differs from it only in the
    model. A simulator rollout costs far more than a learned model's (PushT: a pymunk simulation), and the
    oracle's success keeps rising with iterations, so give it an iteration budget (``it:16`` or more). The
    objective compares simulator latents: the states on the dims the success test looks at, angles as
    scaled cosine and sine.
    """
