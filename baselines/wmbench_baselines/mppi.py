"""Model predictive path integral control (MPPI), iterated: a cost-weighted mean of Gaussian samples."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from wmbench.planning import Planner, PlanProblem
from wmbench_baselines.cem import gaussian, sample_around


@dataclass
class _State:
    mean: torch.Tensor  # [B, H, A]


class MPPI(Planner):
    """Williams et al. (2017) Alg. 2 with several update iterations per plan call.

    Each iteration draws ``samples=300`` plans ``clip(mean + eps)`` with fixed ``eps ~ N(0, std^2)``,
    ``std=0.3`` half-ranges (sample 0 is the mean), and sets ``mean = sum_k w_k x_k`` with
    ``w = softmax(-(S - min S) / (temperature * (mean S - min S)))`` over each episode's finite costs ``S``:
    the temperature is relative to the cost spread of the iteration, so ``temperature=0.1`` means the same
    for any cost scale. The objective has no control cost, so the lambda * u Sigma^-1 eps term is zero. The
    mean starts at the warm start (else mid-range). The paper's config (5 samples, lambda 1, one update) is
    ``MPPI(samples=5)`` with ``Budget(iterations=1)`` up to the temperature normalisation.
    """

    def __init__(self, samples: int = 300, std: float = 0.3, temperature: float = 0.1):
        if samples < 2 or std <= 0 or temperature <= 0:
            raise ValueError(f"MPPI needs samples >= 2, std > 0 and temperature > 0; got samples={samples}, "
                             f"std={std}, temperature={temperature}")
        self.samples, self.std, self.temperature = samples, std, temperature

    def init(self, problem: PlanProblem, generator: torch.Generator) -> _State:
        return _State(problem.initial_plan())

    def iterate(self, problem: PlanProblem, state: _State, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        half = (problem.high - problem.low) / 2
        x = sample_around(problem, state.mean, self.std * half * gaussian(problem, self.samples, generator))
        costs = problem.cost(x)
        finite = torch.isfinite(costs)
        low = torch.where(finite, costs, torch.inf).min(1, keepdim=True).values
        count = finite.sum(1, keepdim=True).clamp(min=1)
        gap = torch.where(finite, costs - low, 0).sum(1, keepdim=True) / count
        scale = self.temperature * gap.clamp(min=torch.finfo(costs.dtype).tiny)
        weights = torch.softmax(torch.where(finite, -(costs - low) / scale, -torch.inf), dim=1)
        mean = (weights[:, :, None, None] * x).sum(1)
        state.mean = torch.where(finite.any(1)[:, None, None], mean, state.mean)
        return x, costs
