"""Entry point for training world models: base, then the OWM / AWM fine-tuning variants, with resume.

Checkpoints live in ``$WMBENCH_HOME/models/{env}-{model}-{variant}-{size}-seed{seed}.pt`` and hold a resumable
training state until complete; a complete checkpoint with the same settings is returned without retraining.
OWM and AWM start from the matching base checkpoint and train it first when it is missing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from wmbench.data.specs import default_dataset
from wmbench.models import MODELS, checkpoint
from wmbench.models.checkpoint import checkpoint_path
from wmbench.models.device import resolve_device
from wmbench.models.history import model_history
from wmbench.models.protocol import resolve_class
from wmbench.registry import make_env
from wmbench.training import diagnostics
from wmbench.training.awm import AWMStep, adversarial_loss
from wmbench.training.base import (
    NonFiniteLoss,
    base_step_fn,
    cosine_lr,
    encode_in_chunks,
    make_optimizer,
    run_steps,
    training_state,
    window_latents,
)
from wmbench.training.config import VARIANTS, TrainConfig
from wmbench.training.curves import curve_path, save_curve
from wmbench.training.owm import OWMStep, PlanFn, collect_round, gbp_planner
from wmbench.training.validation import Validator, rollout_mse, val_batch


def train(env: str, model: str = "state", variant: str = "base", dataset_size: str = "small",
          home: str | Path | None = None, seed: int = 0, config: TrainConfig | None = None,
          overwrite: bool = False, progress: bool = True, diagnose: bool = True, dataset: Any = None,
          sim_env: Any = None, planner: PlanFn | None = None, dataset_name: str | None = None,
          device: str | torch.device = "cpu") -> Path:
    """Train (or resume, or reuse) a world model on ``device`` and return its checkpoint path.

    ``model``: "state", "pixel", "patch" or a "module:Class" path. ``variant``: "base", "owm" or "awm".
    ``device``: "cpu", "cuda", "cuda:N" or "auto" ([`resolve_device`][wmbench.models.device.resolve_device]).
    ``dataset_name`` defaults to ``wmbench.data.default_dataset(env)``; ``dataset`` / ``sim_env`` /
    ``planner`` override the defaults (``wmbench.data.load(dataset_name)``, the env class, GBP) for tests and
    custom setups. ``diagnose=False`` skips the diagnostics stored in the checkpoint. The learning curve is
    written beside the checkpoint (``curve_path``).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if model not in MODELS and ":" not in model:
        raise ValueError(f"model must be one of {sorted(MODELS)} or a 'package.module:Class' path, "
                         f"got {model!r}")
    cfg = TrainConfig() if config is None else config
    name = default_dataset(env) if dataset_name is None else dataset_name
    device = resolve_device(device) if isinstance(device, str) else device
    path = checkpoint_path(env, model, variant, dataset_size, seed, home)
    wanted = cfg.for_variant(variant)
    training = None
    if path.exists() and not overwrite:
        training = checkpoint.read(path)["training"]
        if training is None or training.get("config") != wanted or training.get("dataset") != name:
            raise ValueError(f"{path} exists but was trained with other settings or another dataset; pass "
                             "overwrite=True (CLI: --overwrite) or delete the file")
        if training["complete"]:
            return path
    if dataset is None:
        from wmbench.data import load as load_dataset

        dataset = load_dataset(name, dataset_size, home)
    ctx = _Context(env, model, variant, seed, cfg, dataset, sim_env, planner, progress, path, name)
    t_build = time.perf_counter()
    if training is not None:
        net = checkpoint.load(path, device)
    elif variant == "base":
        options = dict(cfg.model_options)
        if model in ("pixel", "patch"):
            options.update(renderer=sim_env, progress=progress, device=device)
        net = resolve_class(MODELS.get(model, model)).from_dataset(
            dataset, env=env, frameskip=cfg.frameskip, seed=seed, **options).to(device)
    else:
        base = train(env, model, "base", dataset_size, home, seed, cfg, False, progress, diagnose, dataset,
                     sim_env, planner, name, device)
        net = checkpoint.load(base, device)
    if sim_env is not None and hasattr(net, "renderer"):
        net.renderer = sim_env
    # building the model (pixel: encoder pre-training) or loading it (and training the base if missing)
    setup_seconds = round(time.perf_counter() - t_build, 3)
    run = {"base": _train_base, "awm": _train_awm, "owm": _train_owm}[variant](ctx, net, training)
    stats = {**run.stats(), "setup_seconds": setup_seconds, "device": str(device)}
    state = run.state(final=True)
    report = diagnostics.diagnose(net, dataset, cfg, ctx.env(), ctx.planner(), seed) if diagnose else {}
    net.metadata = {
        "env": env, "model": model, "variant": variant, "dataset": name,
        "dataset_size": dataset_size, "dataset_hash": getattr(dataset, "content_hash", None), "seed": seed,
        "config": wanted, "training": stats,
        "diagnostics": report,
    }
    title = f"{env} {model} {variant} ({name}, {dataset_size}, seed {seed})"
    save_curve(curve_path(path), stats["curve"], title, run.metric_name)  # before: complete implies a curve
    checkpoint.save(net, path, training={**state, "complete": True})
    return path


class _Context:
    """Settings shared by the variant trainers."""

    def __init__(self, env, model, variant, seed, cfg, dataset, sim_env, planner, progress, path,
                 dataset_name):
        self.env_name, self.model, self.variant, self.seed, self.cfg = env, model, variant, seed, cfg
        self.dataset, self.sim_env, self.plan_fn = dataset, sim_env, planner
        self.progress, self.path, self.dataset_name = progress, path, dataset_name

    def env(self):
        if self.sim_env is None:
            self.sim_env = make_env(self.env_name)
        return self.sim_env

    def planner(self) -> PlanFn:
        return gbp_planner(self.cfg.plan_iterations) if self.plan_fn is None else self.plan_fn


class _Run:
    """One variant's optimiser, batch generator, step counter, clock and validator (restored from
    ``training`` if given).

    ``extra()`` returns variant-specific resumable state (AWM radii, OWM replay set) saved with each
    checkpoint; ``validate(metric, metric_name, patience)`` attaches the validator (before ``advance``).
    """

    def __init__(self, ctx: _Context, net, lr: float, training: dict | None, extra=dict):
        self.ctx, self.net, self.lr, self.extra, self.training = ctx, net, lr, extra, training
        self.optimizer = make_optimizer(net, lr, ctx.cfg)
        self.generator = torch.Generator().manual_seed(ctx.seed * 1009 + VARIANTS.index(ctx.variant))
        self.step, self.seconds0, self.losses, self.budget = 0, 0.0, [], 0
        self.validator, self.metric_name, self.stopped = None, "", False
        if training is not None:
            self.optimizer.load_state_dict(training["optimizer"])
            self.generator.set_state(training["generator"])
            self.step, self.seconds0 = training["step"], training["seconds"]
        self.t0 = time.perf_counter()

    def validate(self, metric, metric_name: str, patience: int) -> None:
        state = None if self.training is None else self.training["validation"]
        self.validator = Validator(self.net, metric, self.ctx.cfg.eval_every, patience, state)
        self.metric_name = metric_name

    def seconds(self) -> float:
        return self.seconds0 + time.perf_counter() - self.t0

    def state(self, step: int | None = None, final: bool = False) -> dict[str, Any]:
        """The resumable state; ``final`` drops the validator's copy of the best weights (the model's own)."""
        config = self.ctx.cfg.for_variant(self.ctx.variant)
        validation = {**self.validator.state(), **({"best_weights": None} if final else {})}
        return training_state(self.ctx.variant, self.step if step is None else step, False, self.optimizer,
                              self.generator, config, seconds=self.seconds(), dataset=self.ctx.dataset_name,
                              validation=validation, **self.extra())

    def advance(self, stop: int, step_fn, lr_at=None) -> None:
        """Train up to step ``stop`` (no-op if there or stopped early), checkpointing along the way."""
        self.budget = stop
        if self.step >= stop or self.stopped:
            return
        try:
            losses = run_steps(
                self.net, self.optimizer, self.generator, self.step, stop, step_fn, self.ctx.cfg,
                lambda step: checkpoint.save(self.net, self.ctx.path, self.state(step)),
                desc=f"{self.ctx.env_name} {self.ctx.variant}", progress=self.ctx.progress, lr_at=lr_at,
                after_step=self.validator.after_step)
        except NonFiniteLoss as exc:
            raise self.diverged(exc) from None
        self.losses += losses
        self.step += len(losses)
        self.stopped = self.step < stop

    def diverged(self, exc: NonFiniteLoss) -> ValueError:
        """The one-line error for a non-finite loss: which model, and what to try."""
        ctx, field = self.ctx, "lr" if self.ctx.variant == "base" else f"{self.ctx.variant}_lr"
        option = "--lr" if field == "lr" else f"TrainConfig.{field}"
        metric = f" ({self.metric_name})" if exc.what.startswith("validation") else ""
        return ValueError(
            f"training the {ctx.model} world model for {ctx.env_name} ({ctx.variant} variant, seed "
            f"{ctx.seed}): {exc}{metric}: the model diverged or returns non-finite values; lower the "
            f"learning rate ({option}, now {self.lr:g}) or check the model's step and rollout")

    def stats(self) -> dict[str, Any]:
        tail = self.losses[-50:]
        return {"steps": self.step, "max_steps": self.budget, "stopped_early": self.stopped,
                "seconds": round(self.seconds(), 3), "final_loss": sum(tail) / len(tail) if tail else None,
                "val_metric": self.metric_name, **self.validator.stats()}


def _train_base(ctx: _Context, net, training: dict | None) -> _Run:
    cfg = ctx.cfg
    data = window_latents(net, ctx.dataset.train, cfg)
    val = val_batch(net, ctx.dataset.val, cfg, ctx.seed)
    run = _Run(ctx, net, cfg.lr, training)
    run.validate(lambda: rollout_mse(net, val), "val open-loop MSE", cfg.patience)
    budget = cfg.base_steps(len(data[0]))
    run.advance(budget, base_step_fn(net, data, cfg), cosine_lr(cfg.lr, budget))
    run.validator.restore_best()
    return run


def _train_awm(ctx: _Context, net, training: dict | None) -> _Run:
    cfg = ctx.cfg
    data = window_latents(net, ctx.dataset.train, cfg)
    val = val_batch(net, ctx.dataset.val, cfg, ctx.seed)
    radii = None if training is None or training.get("radii") is None else tuple(training["radii"])
    step_fn = AWMStep(net, data, cfg, radii)
    run = _Run(ctx, net, cfg.awm_lr, training,
               lambda: {"radii": None if step_fn.radii is None else list(step_fn.radii)})
    run.validate(lambda: adversarial_loss(net, val, step_fn.radii, cfg.attack_steps, ctx.seed),
                 "val adversarial one-step MSE", cfg.patience)
    run.advance(cfg.awm_steps, step_fn)
    run.validator.restore_best()
    return run


def _train_owm(ctx: _Context, net, training: dict | None) -> _Run:
    cfg = ctx.cfg
    expert = window_latents(net, ctx.dataset.train, cfg)
    val = val_batch(net, ctx.dataset.val, cfg, ctx.seed)
    replay = {"replay_states": torch.zeros(0, model_history(net) - 1 + cfg.horizon + 1,
                                           ctx.dataset.train.states.shape[-1]),
              "replay_actions": torch.zeros(0, cfg.horizon, net.action_dim)}
    if training is not None:
        replay = {k: training[k] for k in replay}
    run = _Run(ctx, net, cfg.owm_lr, training, lambda: dict(replay))
    run.validate(lambda: rollout_mse(net, val), "val open-loop MSE", patience=0)
    for r in range(cfg.owm_rounds):
        if len(replay["replay_states"]) < (r + 1) * cfg.owm_rollouts:
            new_s, new_a = collect_round(net, ctx.env(), ctx.dataset.train, cfg, ctx.planner(),
                                         ctx.seed * 10007 + r + 1)
            replay = {"replay_states": torch.cat([replay["replay_states"], new_s]),
                      "replay_actions": torch.cat([replay["replay_actions"], new_a])}
        latents = (encode_in_chunks(net, replay["replay_states"]), replay["replay_actions"])
        run.advance((r + 1) * cfg.owm_steps, OWMStep(net, expert, latents, cfg))
    return run
