"""The cross-entropy method (CEM), as in DINO-WM and the paper's ``planning/cem.py``."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from wmbench.planning import Planner, PlanProblem


def sample_around(problem: PlanProblem, mean: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Candidates ``clip(mean + noise)`` ``[B, K, H, A]`` with candidate 0 the (clipped) mean itself."""
    x = problem.clip(mean.unsqueeze(1) + noise)
    x[:, 0] = problem.clip(mean)
    return x


def gaussian(problem: PlanProblem, k: int, generator: torch.Generator) -> torch.Tensor:
    """Standard normal noise ``[B, k, H, A]`` on the problem's device and dtype."""
    b, h, a = problem.plan_shape
    return torch.randn((b, k, h, a), generator=generator, device=problem.device, dtype=problem.dtype)


def elites(candidates: torch.Tensor, costs: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` cheapest candidates ``[B, k, H, A]`` per episode, best first, and their costs (NaN last)."""
    costs = torch.where(torch.isnan(costs), torch.inf, costs)
    top, index = torch.topk(costs, k, dim=1, largest=False, sorted=True)
    return torch.gather(candidates, 1, index[:, :, None, None].expand(-1, -1, *candidates.shape[2:])), top


def check_population(cls: str, samples: int, topk: int, init_std: float) -> None:
    if not 2 <= topk <= samples or init_std <= 0:
        raise ValueError(f"{cls} needs 2 <= topk <= samples and init_std > 0; got samples={samples}, "
                         f"topk={topk}, init_std={init_std}")


@dataclass
class CEMState:
    mean: torch.Tensor  # [B, H, A]
    std: torch.Tensor  # [B, H, A]


class CEM(Planner):
    """Sample ``samples=300`` plans from N(mean, std), refit mean and std to the ``topk=30`` cheapest.

    The initial mean is the warm start (else mid-range = zero actions) and the initial std is ``init_std=1``
    half-ranges (1 in raw units for [-1, 1]; the paper's ``var_scale`` 1 in normalised units); samples are
    clipped to the bounds and sample 0 is always the mean. One iteration = ``samples`` forward rollouts; the
    paper's 30 iterations are ``Budget(iterations=30)``.
    """

    def __init__(self, samples: int = 300, topk: int = 30, init_std: float = 1.0):
        check_population(type(self).__name__, samples, topk, init_std)
        self.samples, self.topk, self.init_std = samples, topk, init_std

    def init(self, problem: PlanProblem, generator: torch.Generator) -> CEMState:
        mean = problem.initial_plan()
        return CEMState(mean, self.init_std * (problem.high - problem.low) / 2 * torch.ones_like(mean))

    def sample(self, problem: PlanProblem, state: CEMState, generator: torch.Generator) -> torch.Tensor:
        noise = gaussian(problem, self.samples, generator)
        return sample_around(problem, state.mean, state.std.unsqueeze(1) * noise)

    def iterate(self, problem: PlanProblem, state: CEMState, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.sample(problem, state, generator)
        costs = problem.cost(x)
        best, _ = elites(x, costs, self.topk)
        state.mean, state.std = best.mean(1), best.std(1)
        return x, costs
