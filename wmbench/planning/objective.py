"""The planning objective: a weighted per-frame MSE between predicted latents and the goal latent."""

from __future__ import annotations

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
    model weighs only the dims the env's success test looks at).
    """

    def __init__(self, weighting: str = "exponential", base: float = 0.5):
        if weighting not in WEIGHTINGS:
            raise ValueError(f"Objective weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if not base > 0:
            raise ValueError(f"Objective base must be > 0, got {base!r}")
        self.weighting = weighting
        self.base = float(base)

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
        if z_traj.ndim < 2 or z_goal.shape[-1] != z_traj.shape[-1]:
            raise ValueError(f"Objective.cost needs z_traj [..., H + 1, D] and z_goal [..., D], got "
                             f"{tuple(z_traj.shape)} and {tuple(z_goal.shape)}")
        sq = (z_traj - z_goal.unsqueeze(-2)).pow(2)
        if dim_weights is None:
            mse = sq.mean(-1)
        else:
            dim_weights = dim_weights.to(sq.device, sq.dtype)
            mse = sq @ (dim_weights / dim_weights.sum())
        return mse @ self.weights(z_traj.shape[-2], z_traj.device, mse.dtype)
