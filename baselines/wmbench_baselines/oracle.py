"""The oracle: CEM planning through the true simulator, an **upper bound** and not a world model.

Plan with it through `wmbench.models.simulator.SimulatorModel`, e.g.
``PlanProblem(SimulatorModel("pusht"), ...)``; results must be reported as an oracle, since the planner sees
the true dynamics.
"""

from __future__ import annotations

from wmbench_baselines.cem import CEM


class Oracle(CEM):
    """CEM with ``samples=64`` and ``topk=8`` (CEM's 300 and 30 otherwise) for a `SimulatorModel`
    problem: the simulator upper bound.

    A simulator rollout costs far more than a learned model's (PushT: a pymunk simulation), so the oracle
    draws about a fifth of CEM's samples per iteration; with the true dynamics it does not need more, and
    its success keeps rising with iterations, so give it an iteration budget (``it:8`` or more). Override
    from the command line as ``--entry 'Oracle(samples=300, topk=30)'``. The objective compares simulator
    latents: the states on the dims the success test looks at, angles as scaled cosine and sine.
    """

    def __init__(self, samples: int = 64, topk: int = 8, init_std: float = 1.0):
        super().__init__(samples, topk, init_std)
