"""Toy components shared by the planning tests."""

from __future__ import annotations

import torch


class Linear(torch.nn.Module):
    """z' = M z + N a: a differentiable toy world model with a closed-form optimal plan."""

    def __init__(self, latent_dim: int, action_dim: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.M = torch.eye(latent_dim) + 0.1 * torch.randn(latent_dim, latent_dim, generator=g)
        self.N = 0.5 * torch.randn(latent_dim, action_dim, generator=g)

    def rollout(self, z0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        zs = [z0]
        for t in range(actions.shape[1]):
            zs.append(zs[-1] @ self.M.T + actions[:, t] @ self.N.T)
        return torch.stack(zs, 1)


def interrupt_unfinished_saves(monkeypatch):
    """Make ``checkpoint.save`` raise KeyboardInterrupt right after saving an unfinished training state;
    returns the original ``save`` (to put back before resuming)."""
    from wmbench.models import checkpoint

    save = checkpoint.save

    def interrupted(model, path, training=None):
        save(model, path, training)
        if training is not None and not training["complete"]:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save", interrupted)
    return save


def wall_home(home):
    """``home`` with an untrained, fixed Wall state model where ``wmbench eval`` looks for its base model."""
    from wmbench.models import checkpoint
    from wmbench.models.state_model import StateWorldModel

    torch.manual_seed(0)
    model = StateWorldModel("wall", 2, hidden=32, layers=1)
    checkpoint.save(model, checkpoint.checkpoint_path("wall", "state", "base", "small", 0, home))
    return home
