"""Gradient-based planning (GBP): Adam or gradient descent on the action sequence through the world model.

Follows the paper's released ``planning/gd.py`` in raw action units: the paper
optimises dataset-normalised actions (mean 0, std 1); ours are raw env actions, typically in [-1, 1], and
every scale below is in units of the half-range ``(high - low) / 2`` (= raw units for [-1, 1]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from wmbench.planning import Planner, PlanProblem

OPTIMIZERS = ("adam", "gd")
INITS = ("randn", "zero")


class GradientStep:
    """Element-wise Adam (PyTorch's defaults and update, its bias corrections folded into scalars) or plain
    gradient descent on a tensor of actions."""

    def __init__(self, optimizer: str, lr: float, x: torch.Tensor, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        self.optimizer, self.lr, self.betas, self.eps = optimizer, lr, betas, eps
        self.m, self.v, self.t = torch.zeros_like(x), torch.zeros_like(x), 0

    def __call__(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """One step from ``x`` (a new tensor); non-finite gradient entries count as 0 (a NaN cost cannot
        poison it)."""
        grad = torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0)
        if self.optimizer == "gd":
            return x.add(grad, alpha=-self.lr)
        b1, b2 = self.betas
        self.t += 1
        self.m.lerp_(grad, 1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        # lr * m_hat / (sqrt(v_hat) + eps) = lr * sqrt(bc2) / bc1 * m / (sqrt(v) + eps * sqrt(bc2))
        root_bc2 = math.sqrt(1 - b2 ** self.t)
        denom = self.v.sqrt().add_(self.eps * root_bc2)
        return x.addcdiv(self.m, denom, value=-self.lr * root_bc2 / (1 - b1 ** self.t))


class Perturb:
    """Adds Gaussian noise of ``std`` half-ranges of ``problem``'s bounds and clips to them."""

    def __init__(self, problem: PlanProblem, std: float):
        self.low, self.high = problem.low, problem.high
        self.scale = std * ((self.high - self.low) / 2) if std > 0 else None

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``x`` plus the noise, clipped (a new tensor)."""
        if self.scale is None:
            return torch.clamp(x, self.low, self.high)
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        noise = torch.addcmul(x, noise, self.scale, out=noise)
        return torch.clamp(noise, self.low, self.high, out=noise)


@dataclass
class _State:
    actions: torch.Tensor  # [B, R, H, A]
    step: GradientStep
    perturb: Perturb


class GBP(Planner):
    """Gradient descent on the actions; one iteration = one forward + backward rollout per restart.

    * ``lr=0.2``, ``optimizer="adam"`` (or ``"gd"``): the paper's MPC settings.
    * ``init="randn"``: mid-range plus ``init_std=0.5`` half-ranges of N(0, I) noise, clipped (the paper's
      N(0, I) in normalised units, whose std is about half the raw range for expert data); ``"zero"``:
      mid-range.
    * ``noise=0.003`` half-ranges of Gaussian noise are added after each step (the paper's ``action_noise``).
    * Bounds: the actions are clamped to ``[low, high]`` after every step (the paper has no bounds).
    * ``n_restarts=1`` parallel plans per episode (K); restart 0 starts from the warm start when one is given.
    """

    def __init__(self, lr: float = 0.2, optimizer: str = "adam", init: str = "randn", init_std: float = 0.5,
                 noise: float = 0.003, n_restarts: int = 1):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"GBP optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        if init not in INITS:
            raise ValueError(f"GBP init must be one of {INITS}, got {init!r}")
        if not lr > 0 or init_std < 0 or noise < 0 or n_restarts < 1:
            raise ValueError("GBP needs lr > 0, init_std >= 0, noise >= 0 and n_restarts >= 1; got "
                             f"lr={lr}, init_std={init_std}, noise={noise}, n_restarts={n_restarts}")
        self.lr, self.optimizer, self.init_mode = lr, optimizer, init
        self.init_std, self.noise, self.n_restarts = init_std, noise, n_restarts

    def init(self, problem: PlanProblem, generator: torch.Generator) -> _State:
        b, h, a = problem.plan_shape
        x = ((problem.low + problem.high) / 2).expand(b, self.n_restarts, h, a)
        x = Perturb(problem, self.init_std if self.init_mode == "randn" else 0.0)(x, generator)
        if problem.warm_start is not None:
            x[:, 0] = problem.initial_plan()
        return _State(x, GradientStep(self.optimizer, self.lr, x), Perturb(problem, self.noise))

    def iterate(self, problem: PlanProblem, state: _State, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        x = state.actions
        cost, grad = problem.cost_and_grad(x)
        state.actions = state.perturb(state.step(x, grad), generator)
        return x, cost
