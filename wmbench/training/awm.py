"""Adversarial World Modeling (AWM): fine-tune on FGSM/PGD-perturbed inputs against clean targets.

For each teacher-forced transition (z_t, a_t) -> z_{t+1} the attack perturbs the latent state and the
raw action inside an L-infinity box: delta0 ~ U(-eps, eps), then ``attack_steps`` signed-gradient ascent
steps on the prediction loss, delta <- clip(delta + alpha * eps * sign(grad), -eps, eps), with alpha = 1.25
for one step (FGSM with random start, the paper's default) and 2.5 / k for k-step PGD. The model is then
trained only on the perturbed inputs (no clean/adversarial mixing), against the **clean** next latent.

Radii: eps = factor x per-dimension std over the batch; fixed from the first batch (the paper's
recommendation) unless ``adaptive_eps``. Defaults: latent factor 0.05 (the paper's visual factor; the state
latent is already z-normalised so this is about 0.05 state std per dimension) and action factor 0.02 (the
paper's action factor, applied to the raw actions before the model normalises them). Perturbed raw actions
are not clipped.
"""

from __future__ import annotations

import torch

from wmbench.training.base import Batch, one_step_loss, sample_batch
from wmbench.training.config import TrainConfig


def attack_radii(z: torch.Tensor, a: torch.Tensor, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension radii (eps_z [D], eps_a [A]) = factor x std over all leading axes of the batch."""
    eps_z = cfg.eps_latent * z.reshape(-1, z.shape[-1]).std(0)
    eps_a = cfg.eps_action * a.reshape(-1, a.shape[-1]).std(0)
    return eps_z.detach(), eps_a.detach()


def perturb(model, z_in: torch.Tensor, a: torch.Tensor, z_target: torch.Tensor, eps_z: torch.Tensor,
            eps_a: torch.Tensor, steps: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Adversarial (z_in + dz, a + da) with |dz| <= eps_z, |da| <= eps_a, maximising the one-step loss."""
    dz = (torch.rand(z_in.shape, generator=generator).to(z_in.device) * 2 - 1) * eps_z
    da = (torch.rand(a.shape, generator=generator).to(a.device) * 2 - 1) * eps_a
    alpha = 1.25 if steps == 1 else 2.5 / steps
    for _ in range(steps):
        dz.requires_grad_(True)
        da.requires_grad_(True)
        loss = one_step_loss(model, z_in + dz, a + da, z_target)
        gz, ga = torch.autograd.grad(loss, [dz, da])
        with torch.no_grad():
            dz = torch.maximum(torch.minimum(dz + alpha * eps_z * gz.sign(), eps_z), -eps_z)
            da = torch.maximum(torch.minimum(da + alpha * eps_a * ga.sign(), eps_a), -eps_a)
    return (z_in + dz).detach(), (a + da).detach()


class AWMStep:
    """The AWM loss on a fresh minibatch; holds the radii (fixed from the first batch unless adaptive)."""

    def __init__(self, model, data: Batch, cfg: TrainConfig, radii: tuple[torch.Tensor, torch.Tensor] | None):
        self.model, self.data, self.cfg = model, data, cfg
        self.radii = None if radii is None else tuple(r.to(data[0].device) for r in radii)

    def __call__(self, generator: torch.Generator) -> torch.Tensor:
        z, a = sample_batch(self.data, self.cfg.batch_size, generator)
        z_in, z_target = z[:, :-1], z[:, 1:]
        if self.radii is None or self.cfg.adaptive_eps:
            self.radii = attack_radii(z_in, a, self.cfg)
        z_adv, a_adv = perturb(self.model, z_in, a, z_target, *self.radii, self.cfg.attack_steps, generator)
        return one_step_loss(self.model, z_adv, a_adv, z_target)



def adversarial_loss(model, data: Batch, radii: tuple[torch.Tensor, torch.Tensor], steps: int,
                     seed: int) -> float:
    """The AWM loss on every window of ``data`` (validation): a fixed-seed attack within ``radii``."""
    z, a = data
    z_adv, a_adv = perturb(model, z[:, :-1], a, z[:, 1:], *radii, steps, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return one_step_loss(model, z_adv, a_adv, z[:, 1:]).item()
