"""GD+CEM hybrid ("GradCEM", Bharadhwaj et al. 2020): CEM whose samples take gradient steps before ranking."""

from __future__ import annotations

import torch

from wmbench.planning import PlanProblem
from wmbench_baselines.cem import CEM, CEMState, elites
from wmbench_baselines.gbp import OPTIMIZERS, GradientStep, Perturb


class GBPCEM(CEM):
    """CEM (``samples=300``, ``topk=30``, ``init_std=1``) whose samples first take ``grad_steps=1`` gradient
    steps (``optimizer="adam"``, fresh state each iteration, ``noise=0.003`` half-ranges), as in the paper's
    ``planning/gdcem.py``.

    ``lr=0.1`` in raw units: the paper's 0.3 is in normalised units, and a first Adam step moves every action
    coordinate by about ``lr`` (a sign step), which at 0.3 raw overshoots (measured on a linear toy problem).
    The elites are the cheapest **post-gradient** samples, ranked by a fresh evaluation of them; the released
    code ranks by post-gradient costs but gathers the pre-gradient samples (its ``gdcem.py``), fixed here.
    One iteration = ``samples * (grad_steps + 1)`` forward and ``samples * grad_steps`` backward rollouts per
    episode; every evaluated plan is a candidate for the best plan.
    """

    def __init__(self, samples: int = 300, topk: int = 30, init_std: float = 1.0, grad_steps: int = 1,
                 lr: float = 0.1, optimizer: str = "adam", noise: float = 0.003):
        super().__init__(samples, topk, init_std)
        if grad_steps < 1 or not lr > 0 or noise < 0 or optimizer not in OPTIMIZERS:
            raise ValueError(f"GBPCEM needs grad_steps >= 1, lr > 0, noise >= 0, optimizer in {OPTIMIZERS}; "
                             f"got grad_steps={grad_steps}, lr={lr}, noise={noise}, optimizer={optimizer!r}")
        self.grad_steps, self.lr, self.optimizer, self.noise = grad_steps, lr, optimizer, noise

    def iterate(self, problem: PlanProblem, state: CEMState, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.sample(problem, state, generator)
        step, perturb = GradientStep(self.optimizer, self.lr, x), Perturb(problem, self.noise)
        candidates, costs = [], []
        for _ in range(self.grad_steps):
            cost, grad = problem.cost_and_grad(x)
            candidates.append(x)
            costs.append(cost)
            x = perturb(step(x, grad), generator)
        cost = problem.cost(x)
        best, _ = elites(x, cost, self.topk)
        state.mean, state.std = best.mean(1), best.std(1)
        return torch.cat([*candidates, x], 1), torch.cat([*costs, cost], 1)
