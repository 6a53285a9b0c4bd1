"""The planning objective: a weighted per-frame MSE between predicted latents and the goal latent."""

from __future__ import annotations

from typing import NamedTuple

import torch

WEIGHTINGS = ("exponential", "last")


class Objective:
    """Cost of a latent trajectory: ``sum_t w_t * mean_d (z_t - z_goal)^2`` over frames ``t = 0..H``.

    * ``"exponential"`` (default; the paper's ``mode: all, base: 0.5``): ``w_t = base^t / sum_s base^s``, so
      earlier frames weigh more. Frame 0 is the start latent, a constant that shifts the cost but not its
      gradient.
    * ``"last"`` (DINO-WM's ``mode: last``): only the final frame, ``w_H = 1``.

    ``z_traj`` may carry any leading batch axes (e.g. ``[B, K, H + 1, D]``); ``z_goal`` (``[..., D]``)
    broadcasts against them (``[B, 1, D]`` serves all K candidates of an episode). ``dim_weights [D]``
    turns the mean over latent dims into a weighted mean (a world model's ``goal_weights``: e.g. a state
    model weighs only the dims the env's success test looks at). `cost_and_grad` adds the gradient w.r.t.
    ``z_traj`` in closed form (planning's backward pass then starts at the latents, not at the cost).
    """

    def __init__(self, weighting: str = "exponential", base: float = 0.5):
        if weighting not in WEIGHTINGS:
            raise ValueError(f"Objective weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if not base > 0:
            raise ValueError(f"Objective base must be > 0, got {base!r}")
        self.weighting = weighting
        self.base = float(base)
        self._cached: tuple[tuple, _Factors] | None = None  # the last _factors() and their key

    def __repr__(self) -> str:
        return f"Objective({self.weighting!r}, base={self.base})"

    def weights(self, frames: int, device: torch.device | None = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Frame weights ``[frames]`` summing to 1."""
        if self.weighting == "last":
            w = torch.zeros(frames, device=device, dtype=dtype)
            w[-1] = 1.0
            return w
        w = self.base ** torch.arange(frames, device=device, dtype=dtype)
        return w / w.sum()

    def cost(self, z_traj: torch.Tensor, z_goal: torch.Tensor, dim_weights: torch.Tensor | None = None
             ) -> torch.Tensor:
        """``z_traj [..., H + 1, D]``, ``z_goal [..., D]``, optional ``dim_weights [D]`` -> cost ``[...]``."""
        diff = self._diff(z_traj, z_goal)
        return self._cost(diff, self._factors(diff, dim_weights))

    def cost_and_grad(self, z_traj: torch.Tensor, z_goal: torch.Tensor,
                      dim_weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`cost` and, in closed form, the gradient of the costs' sum w.r.t. ``z_traj [..., H + 1, D]``."""
        diff = self._diff(z_traj, z_goal)
        factors = self._factors(diff, dim_weights)
        return self._cost(diff, factors), diff * factors.grad

    @staticmethod
    def _diff(z_traj: torch.Tensor, z_goal: torch.Tensor) -> torch.Tensor:
        if z_traj.ndim < 2 or z_goal.shape[-1] != z_traj.shape[-1]:
            raise ValueError(f"Objective.cost needs z_traj [..., H + 1, D] and z_goal [..., D], got "
                             f"{tuple(z_traj.shape)} and {tuple(z_goal.shape)}")
        return z_traj - z_goal.unsqueeze(-2)

    @staticmethod
    def _cost(diff: torch.Tensor, factors: _Factors) -> torch.Tensor:
        sq = diff.pow(2)
        mse = sq.mean(-1) if factors.dims is None else sq @ factors.dims
        return mse @ factors.frames

    def _factors(self, diff: torch.Tensor, dim_weights: torch.Tensor | None) -> _Factors:
        """The weights for ``diff [..., H + 1, D]``, kept while the settings, shapes and ``dim_weights`` (the
        same tensor, unchanged) stay: planning calls the objective every iteration with the same arguments."""
        frames, dims = diff.shape[-2:]
        key = (self.weighting, self.base, frames, dims, diff.device, diff.dtype, _version(dim_weights))
        if self._cached is None or self._cached[0] != key or self._cached[1].source is not dim_weights:
            weights = self.weights(frames, diff.device, diff.dtype)
            self._cached = key, _Factors.build(weights, dims, dim_weights)
        return self._cached[1]


class _Factors(NamedTuple):
    source: torch.Tensor | None  # the dim_weights these were built from
    dims: torch.Tensor | None  # [D] normalised dim weights (None: plain mean)
    frames: torch.Tensor  # [H + 1] frame weights
    grad: torch.Tensor  # [H + 1, D] d cost / d z_traj = grad * (z_traj - z_goal)

    @classmethod
    def build(cls, frames: torch.Tensor, n_dims: int, dim_weights: torch.Tensor | None) -> _Factors:
        if dim_weights is None:
            return cls(None, None, frames, (2 * frames / n_dims)[:, None].expand(-1, n_dims))
        dims = dim_weights.to(frames.device, frames.dtype)
        dims = dims / dims.sum()
        return cls(dim_weights, dims, frames, 2 * frames[:, None] * dims)


def _version(tensor: torch.Tensor | None) -> object:
    """A tensor's in-place version counter (a fresh object, equal to nothing, for an inference tensor)."""
    if tensor is None:
        return None
    return object() if tensor.is_inference() else tensor._version
