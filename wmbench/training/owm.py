"""Online World Modeling (OWM): DAgger-style rounds of plan -> simulate -> fine-tune.

Each round draws ``owm_rollouts`` (start, goal) pairs from the training trajectories (start = state at t,
goal = state at t + horizon x frameskip), plans ``horizon`` model steps with GBP through the *current* model
(objective "last", as the paper's inner planner) from the encoded start to the encoded goal, executes the
planned env actions in the simulator from the true start state, and adds the simulator-true trajectories to
a replay set. The model is then fine-tuned for ``owm_steps`` steps on batches mixing expert windows and
replay windows (``owm_mix`` = replay fraction) with the base loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from wmbench.models.history import model_history, still_window
from wmbench.training.base import Batch, encode_frames, encode_in_chunks, prediction_loss, sample_batch
from wmbench.training.config import TrainConfig
from wmbench.training.segments import Segments, sample_segments
from wmbench.training.simulate import simulate

#: planner(model, z_start [B, D], z_goal [B, D], horizon, seed) -> raw actions [B, horizon, action_dim]
PlanFn = Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, int, int], torch.Tensor]


def gbp_planner(iterations: int) -> PlanFn:
    """The registered ``GBP`` planner (default settings) for ``iterations`` steps, objective "last"."""
    def plan(model, z_start: torch.Tensor, z_goal: torch.Tensor, horizon: int, seed: int) -> torch.Tensor:
        from wmbench.planning import Budget, Objective, PlanProblem, planner_class

        gbp = planner_class("GBP")

        low = -torch.ones(model.action_dim)
        problem = PlanProblem(model, z_start, z_goal, horizon, low, -low, Objective(weighting="last"))
        with frozen(model):
            return gbp().plan(problem, Budget(iterations=iterations), seed=seed).actions.detach()
    return plan


@contextmanager
def frozen(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Model in eval mode with no parameter gradients (planning); restores both on exit."""
    flags, training = [p.requires_grad for p in model.parameters()], model.training
    model.eval().requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)
        model.train(training)


def plan_and_simulate(model, env, split, n: int, cfg: TrainConfig, planner: PlanFn, seed: int
                      ) -> tuple[Segments, torch.Tensor, torch.Tensor]:
    """Plan from ``n`` sampled expert starts to their goals through ``model`` and execute in the simulator.

    Returns the expert segments, the states [N, h - 1 + H + 1, S] (the segments' recorded h - 1 history
    frames of a history-h model, `wmbench.models.history`, then the simulator-true states from the start)
    and the executed actions [N, H, A]. The goal latent is the goal frame's still window.
    """
    generator = torch.Generator().manual_seed(seed)
    history = model_history(model)
    seg = sample_segments(split, n, cfg.horizon, cfg.frameskip, generator, history)
    with torch.no_grad():
        z_start = encode_in_chunks(model, seg.states[:, :history])[:, 0]
        z_goal = still_window(encode_frames(model, seg.goals), history)
    actions = planner(model, z_start, z_goal, cfg.horizon, seed).clamp(-1, 1)
    states = torch.cat([seg.states[:, :history - 1], simulate(env, seg.starts, actions, cfg.frameskip)], 1)
    return seg, states, actions


def collect_round(model, env, split, cfg: TrainConfig, planner: PlanFn, seed: int) -> Batch:
    """One OWM round's replay data (on the CPU): (states [N, h - 1 + H + 1, S] as in
    `plan_and_simulate`, executed actions [N, H, A])."""
    _, states, actions = plan_and_simulate(model, env, split, cfg.owm_rollouts, cfg, planner, seed)
    return states, actions.float().cpu()


class OWMStep:
    """Base loss on a batch mixing expert windows with replay windows (``cfg.owm_mix`` from replay)."""

    def __init__(self, model, expert: Batch, replay: Batch, cfg: TrainConfig):
        self.model, self.expert, self.cfg = model, expert, cfg
        self.replay = tuple(t.to(expert[0].device) for t in replay)

    def __call__(self, generator: torch.Generator) -> torch.Tensor:
        n_replay = round(self.cfg.owm_mix * self.cfg.batch_size) if len(self.replay[0]) else 0
        z_e, a_e = sample_batch(self.expert, self.cfg.batch_size - n_replay, generator)
        z_r, a_r = sample_batch(self.replay, n_replay, generator) if n_replay else (z_e[:0], a_e[:0])
        z, a = torch.cat([z_e, z_r]), torch.cat([a_e, a_r])
        return prediction_loss(self.model, z, a, self.cfg.rollout_weight)
