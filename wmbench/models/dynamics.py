"""Shared latent dynamics: residual MLP ensemble with an internal action normaliser."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def mlp(inp: int, out: int, hidden: int, layers: int) -> nn.Sequential:
    """``layers`` hidden blocks of Linear -> LayerNorm -> SiLU, then a Linear output layer."""
    blocks: list[nn.Module] = []
    width = inp
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.SiLU()]
        width = hidden
    blocks.append(nn.Linear(width, out))
    return nn.Sequential(*blocks)


def feature_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature mean and std over all leading axes; near-constant features get std 1."""
    flat = x.reshape(-1, x.shape[-1]).double()
    std = flat.std(0)
    return flat.mean(0).float(), torch.where(std > 1e-6, std, torch.ones_like(std)).float()


#: Rows that a no-grad CPU rollout steps through all H steps together. At CEM's batch (15,000 rows) the
#: LayerNorm and SiLU passes over whole-batch activations (15 MB) dominated the reference state model's
#: rollout; in chunks of 512 rows (512 x 256 floats = 0.5 MB per activation) they stay in the L2 cache, which
#: cut the rollout from 1.66x to 1.31x a bare chain of its GEMMs (benchmarks/bench_planners.py, idle 2-core
#: Xeon, one thread; 256-row chunks gave 1.27x, 2,048 1.39x).
#: Every operation is row-wise, so the result is that of one batch, bit for bit unless the last chunk has
#: only a few rows (<= 10 on that Xeon: MKL multiplies them with another kernel; ~2e-6 apart on a frozen
#: model). The fused `ResidualDynamics.rollout` uses the same chunks (with the 2 cores loaded its 1,024-row
#: chunks were 2-6% faster than 512-row ones, and 256-row ones within the noise).
ROLLOUT_CHUNK = 512


def rollout(step, z0: torch.Tensor, actions: torch.Tensor, chunk: int | None = ROLLOUT_CHUNK) -> torch.Tensor:
    """Autoregressive ``step`` over ``actions [B, H, A]`` from ``z0 [B, D]`` -> ``[B, H + 1, D]``.

    Without gradients on the CPU, batches of more than ``chunk`` rows are rolled out ``chunk`` rows at a time
    (`ROLLOUT_CHUNK`); ``chunk=None`` rolls out the whole batch at once.
    """
    if chunk is not None and len(z0) > chunk and z0.device.type == "cpu" and not torch.is_grad_enabled():
        return torch.cat([rollout(step, z0[i:i + chunk], actions[i:i + chunk], None)
                          for i in range(0, len(z0), chunk)])
    zs = [z0]
    for t in range(actions.shape[1]):
        zs.append(step(zs[-1], actions[:, t]))
    return torch.stack(zs, dim=1)


class ResidualDynamics(nn.Module):
    """``z + mean_k MLP_k([z, (a - mean) / std])``; ``a`` = ``frameskip`` raw env actions concatenated.

    With ``history`` h > 1 the latent ``z`` is a window of h frame latents (`wmbench.models.history`):
    the MLPs read the whole window and predict the change of the newest frame, and the next latent is the
    window shifted by one frame with the predicted frame appended.
    """

    def __init__(self, latent_dim: int, env_action_dim: int, frameskip: int, hidden: int, layers: int,
                 n_models: int, history: int = 1):
        super().__init__()
        sizes = {"latent_dim": latent_dim, "env_action_dim": env_action_dim, "frameskip": frameskip,
                 "hidden": hidden, "n_models": n_models, "history": history}
        if min(sizes.values()) < 1 or layers < 0 or latent_dim % history:
            raise ValueError(f"world-model sizes must be >= 1, layers >= 0 and latent_dim a multiple of "
                             f"history; got {sizes}, layers={layers}")
        self.frameskip, self.env_action_dim = frameskip, env_action_dim
        self.action_dim = frameskip * env_action_dim
        self.frame_dim = latent_dim // history
        self.register_buffer("action_mean", torch.zeros(self.action_dim))
        self.register_buffer("action_std", torch.ones(self.action_dim))
        self.nets = nn.ModuleList(mlp(latent_dim + self.action_dim, self.frame_dim, hidden, layers)
                                  for _ in range(n_models))

    def set_action_stats(self, actions: torch.Tensor) -> None:
        """Fit per-env-dimension stats on env actions ``[..., env_action_dim]``, tiled over the frameskip."""
        mean, std = feature_stats(torch.as_tensor(actions))
        self.action_mean.copy_(mean.repeat(self.frameskip))
        self.action_std.copy_(std.repeat(self.frameskip))

    def _check_actions(self, a: torch.Tensor) -> None:
        if a.shape[-1] != self.action_dim:
            raise ValueError(f"step expects actions [..., {self.action_dim}] (frameskip {self.frameskip} x "
                             f"{self.env_action_dim} env actions), got {tuple(a.shape)}")

    def forward(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        self._check_actions(a)
        x = torch.cat([z, (a - self.action_mean) / self.action_std], dim=-1)
        delta = self.nets[0](x) if len(self.nets) == 1 else torch.stack([net(x) for net in self.nets]).mean(0)
        if self.frame_dim == z.shape[-1]:
            return z + delta
        return torch.cat([z[..., self.frame_dim:], z[..., -self.frame_dim:] + delta], dim=-1)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor, chunk: int | None = ROLLOUT_CHUNK
                ) -> torch.Tensor:
        """`rollout` of ``forward`` over ``actions [B, H, A]`` from ``z0 [B, D]`` -> ``[B, H + 1, D]``.

        With gradients enabled this is the step-by-step `rollout`. Without, the same operations run fused,
        bit-identical to it, ``chunk`` rows at a time (CPU only, as in `rollout`) and without ``torch.cat``:
        a chunk's MLP inputs for all H + 1 steps live in one buffer ``x [H + 1, rows, D + A]`` whose action
        columns are filled with the normalised actions once; step t reads ``x[t]`` (the same contiguous
        ``[z, a_norm]`` rows that ``torch.cat`` made) and adds its delta straight into the latent columns of
        ``x[t + 1]``, and the latent columns are copied into the trajectory once per chunk. The MLPs run as
        functional ops (`_no_grad_layers`: no module dispatch, SiLU in place on the LayerNorm's fresh output).
        """
        self._check_actions(actions)
        if torch.is_grad_enabled():
            return rollout(self, z0, actions, chunk)
        n, horizon, d, f = len(z0), actions.shape[1], z0.shape[-1], self.frame_dim
        if chunk is None or z0.device.type != "cpu":
            chunk = max(n, 1)
        nets = [_no_grad_layers(net) for net in self.nets]
        out = z0.new_empty(n, horizon + 1, d)
        buffer = z0.new_empty(horizon + 1, min(chunk, n), d + self.action_dim)
        for i in range(0, n, chunk):
            x = buffer[:, :min(chunk, n - i)]
            x[0, :, :d] = z0[i:i + chunk]
            a_norm = torch.sub(actions[i:i + chunk].transpose(0, 1), self.action_mean, out=x[:horizon, :, d:])
            a_norm.div_(self.action_std)
            xs, zs = x.unbind(0), x[:, :, :d].unbind(0)
            for t in range(horizon):
                deltas = [_mlp(layers, xs[t]) for layers in nets]
                delta = deltas[0] if len(deltas) == 1 else torch.stack(deltas).mean(0)
                if f < d:
                    zs[t + 1][:, :-f] = zs[t][:, f:]
                torch.add(zs[t][:, -f:], delta, out=zs[t + 1][:, -f:])
            out[i:i + chunk] = x[:, :, :d].transpose(0, 1)
        return out


def _no_grad_layers(net: nn.Sequential) -> list[tuple[Callable[..., torch.Tensor], tuple]]:
    """An `mlp` as ``(functional op, trailing arguments)`` pairs that compute ``net(x)`` without gradients."""
    layers: list[tuple[Callable[..., torch.Tensor], tuple]] = []
    for module in net:
        if isinstance(module, nn.Linear):
            layers.append((F.linear, (module.weight, module.bias)))
        elif isinstance(module, nn.LayerNorm):
            layers.append((F.layer_norm, (module.normalized_shape, module.weight, module.bias, module.eps)))
        elif isinstance(module, nn.SiLU):
            layers.append((F.silu, (True,)))  # in place
        else:
            raise TypeError(f"no no-grad form for {type(module).__name__}")
    return layers


def _mlp(layers: list[tuple[Callable[..., torch.Tensor], tuple]], x: torch.Tensor) -> torch.Tensor:
    for op, args in layers:
        x = op(x, *args)
    return x
