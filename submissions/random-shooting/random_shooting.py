"""A complete wmbench planner plugin: random shooting. Run it with
``wmbench eval --env wall --entry random_shooting:RandomShooting`` (with ``examples/`` on PYTHONPATH)."""

import torch

from wmbench.planning import Planner


class RandomShooting(Planner):
    """Evaluate ``samples`` uniform random plans per episode and iteration; the loop keeps the best."""

    def __init__(self, samples: int = 256):
        self.samples = samples

    def init(self, problem, generator):
        return None  # no state carried between iterations

    def iterate(self, problem, state, generator):
        b, h, a = problem.plan_shape
        u = torch.rand((b, self.samples, h, a), generator=generator, device=problem.device)
        candidates = problem.low + u * (problem.high - problem.low)
        return candidates, problem.cost(candidates)
