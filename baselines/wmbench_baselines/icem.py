"""Improved CEM (iCEM, Pinneri et al. 2020): temporally coloured sampling noise, elite reuse and momentum."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from wmbench.planning import Planner, PlanProblem
from wmbench_baselines.cem import CEMState, check_population, elites, sample_around


def colored_noise(shape: tuple[int, int, int, int], beta: float, generator: torch.Generator,
                  device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Gaussian noise ``[B, K, H, A]`` with power spectrum ``~ 1 / f^beta`` along H and unit variance.

    ``beta=0`` is white noise; larger beta gives smoother action sequences. Frequencies below ``1 / H`` are
    clipped to it and the variance is normalised as in the ``colorednoise`` package
    (``powerlaw_psd_gaussian``).
    """
    b, k, h, a = shape
    if h == 1 or beta == 0:
        return torch.randn(shape, generator=generator, device=device, dtype=dtype)
    freqs = torch.fft.rfftfreq(h, device=device, dtype=dtype).clamp(min=1.0 / h)
    scale = freqs ** (-beta / 2)
    w = scale[1:].clone()
    w[-1] *= (1 + h % 2) / 2
    sigma = 2 * torch.sqrt((w ** 2).sum()) / h
    real = torch.randn((b, k, a, freqs.numel()), generator=generator, device=device, dtype=dtype) * scale
    imag = torch.randn((b, k, a, freqs.numel()), generator=generator, device=device, dtype=dtype) * scale
    imag[..., 0] = 0
    real[..., 0] *= math.sqrt(2)
    if h % 2 == 0:
        imag[..., -1] = 0
        real[..., -1] *= math.sqrt(2)
    return (torch.fft.irfft(torch.complex(real, imag), n=h) / sigma).transpose(-1, -2)


@dataclass
class _State(CEMState):
    kept: torch.Tensor | None = None  # elites carried to the next iteration [B, n, H, A]
    kept_costs: torch.Tensor | None = None


class ICEM(Planner):
    """CEM with coloured noise, elite reuse and smoothed updates.

    * ``samples=300``, ``topk=30``, ``init_std=1`` half-ranges: as [`CEM`][wmbench_baselines.cem.CEM].
    * ``beta=2``: the noise exponent (the FFT method of `colored_noise`).
    * ``keep_elites=0.3``: this fraction of the ``topk`` elites joins the next iteration's ranking with its
      known cost (not re-evaluated: planning models are deterministic), so one iteration = ``samples``
      rollouts.
    * ``momentum=0.1``: ``mean = (1 - momentum) * elite mean + momentum * old mean``, likewise for std.

    Not ported from iCEM: the per-iteration decay of the sample count (the anytime loop does not know how many
    iterations it will get) and adding the mean as a sample only in the last iteration (here sample 0 is
    always the mean, as in CEM).
    """

    def __init__(self, samples: int = 300, topk: int = 30, init_std: float = 1.0, beta: float = 2.0,
                 keep_elites: float = 0.3, momentum: float = 0.1):
        check_population(type(self).__name__, samples, topk, init_std)
        if beta < 0 or not 0 <= keep_elites <= 1 or not 0 <= momentum < 1:
            raise ValueError("ICEM needs beta >= 0, 0 <= keep_elites <= 1 and 0 <= momentum < 1; got "
                             f"beta={beta}, keep_elites={keep_elites}, momentum={momentum}")
        self.samples, self.topk, self.init_std = samples, topk, init_std
        self.beta, self.keep = beta, round(keep_elites * topk)
        self.momentum = momentum

    def init(self, problem: PlanProblem, generator: torch.Generator) -> _State:
        mean = problem.initial_plan()
        return _State(mean, self.init_std * (problem.high - problem.low) / 2 * torch.ones_like(mean))

    def iterate(self, problem: PlanProblem, state: _State, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor]:
        b, h, a = problem.plan_shape
        noise = colored_noise((b, self.samples, h, a), self.beta, generator, problem.device, problem.dtype)
        x = sample_around(problem, state.mean, state.std.unsqueeze(1) * noise)
        costs = problem.cost(x)
        pool, pool_costs = x, costs
        if state.kept is not None:
            pool, pool_costs = torch.cat([x, state.kept], 1), torch.cat([costs, state.kept_costs], 1)
        best, best_costs = elites(pool, pool_costs, self.topk)
        m = self.momentum
        state.mean = (1 - m) * best.mean(1) + m * state.mean
        state.std = (1 - m) * best.std(1) + m * state.std
        if self.keep:
            state.kept, state.kept_costs = best[:, :self.keep], best_costs[:, :self.keep]
        return x, costs
