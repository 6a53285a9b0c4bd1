"""Training configuration with documented defaults (sized for the small datasets on one CPU core)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

VARIANTS = ("base", "owm", "awm")
_BASE_FIELDS = ("frameskip", "horizon", "model_options", "steps", "epochs", "min_steps", "max_steps",
                "batch_size", "lr", "weight_decay", "rollout_weight", "grad_clip", "eval_every", "patience",
                "val_windows")
_VARIANT_FIELDS = {
    "base": (),
    "awm": ("awm_steps", "awm_lr", "eps_latent", "eps_action", "adaptive_eps", "attack_steps"),
    "owm": ("owm_rounds", "owm_rollouts", "owm_steps", "owm_lr", "owm_mix", "plan_iterations"),
}


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of base training and of the OWM / AWM fine-tuning variants.

    Windows are ``horizon`` model steps of ``frameskip`` env steps each (plus the model's ``history - 1``
    earlier frames), so one model action is ``frameskip`` env actions concatenated (10-D for the 2-D envs, as
    in the paper). History models see every window twice (recorded history and as if reset at its first
    frame), and ``windows`` in the step budget counts both.

    Base loss (normalised latent space): teacher-forced one-step MSE over all ``horizon`` transitions plus
    ``rollout_weight`` x the MSE of the open-loop ``horizon``-step rollout from the first latent. The rollout
    term targets multi-step predictions (what planners use) directly but costs about 2.5x per step; on the
    small PointMaze data it did not lower the validation rollout error at equal steps, so the default is 0
    (pure teacher forcing).

    Step budget of base training (``base_steps``): ``steps`` if given, otherwise ``epochs`` passes over the
    train windows, ``ceil(epochs x windows / batch_size)``, clamped to [``min_steps``, ``max_steps``]; so it
    grows with the dataset. It is a maximum: every ``eval_every`` steps (and at the end) the open-loop
    ``horizon``-step error on the val split is measured (``wmbench.training.validation``); training stops
    after ``patience`` evaluations without improvement (0: never early) and keeps the best weights. AWM
    fine-tuning does the same on the val split's adversarial loss within ``awm_steps``; OWM records the val
    error but runs all its rounds (each round changes its training data, so earlier weights are not
    comparable candidates).
    """

    # windows and architecture
    frameskip: int = 5
    horizon: int = 5
    model_options: dict[str, Any] = field(default_factory=dict)  # passed to ``Model.from_dataset``
    # base training
    steps: int | None = None  # None: from the dataset size (``base_steps``)
    epochs: float = 100.0
    min_steps: int = 2000
    max_steps: int = 50000
    batch_size: int = 256
    lr: float = 1e-3  # cosine-decayed to 5% over the step budget; the fine-tuning learning rates are constant
    weight_decay: float = 1e-4
    rollout_weight: float = 0.0
    grad_clip: float = 1.0
    checkpoint_every: int = 500
    # validation and early stopping
    eval_every: int = 250
    patience: int = 8  # evaluations without improvement before stopping; 0 = never stop early
    val_windows: int = 4096  # most val windows evaluated (a fixed, seeded subset)
    # AWM: fine-tune on adversarially perturbed inputs (clean targets, no clean/adversarial mixing)
    awm_steps: int = 1000
    awm_lr: float = 3e-4
    eps_latent: float = 0.05  # x per-dimension std of the latent batch (paper: visual factor 0.05)
    eps_action: float = 0.02  # x per-dimension std of the raw action batch (paper: action factor 0.02)
    adaptive_eps: bool = False  # False: radii fixed from the first batch (paper); True: re-estimated
    attack_steps: int = 1  # 1 = FGSM with random start (step 1.25 eps); k > 1 = PGD (step 2.5 eps / k)
    # OWM: DAgger-style rounds of plan -> simulate -> fine-tune on expert + replay
    owm_rounds: int = 4
    owm_rollouts: int = 128  # start/goal pairs planned and simulated per round
    owm_steps: int = 250  # fine-tuning steps per round
    owm_lr: float = 3e-4
    owm_mix: float = 0.5  # fraction of each fine-tuning batch drawn from the replay set
    plan_iterations: int = 50  # GBP Adam steps for the OWM inner planner and the gap diagnostic
    # diagnostics
    gap_episodes: int = 64

    def __post_init__(self) -> None:
        positive = ("frameskip", "horizon", "min_steps", "batch_size", "checkpoint_every", "attack_steps",
                    "owm_rollouts", "plan_iterations", "gap_episodes", "eval_every", "val_windows")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.steps is not None and int(self.steps) < 1:
            raise ValueError(f"TrainConfig.steps must be >= 1 or None (from the dataset size), "
                             f"got {self.steps}")
        if self.max_steps < self.min_steps or self.epochs <= 0:
            raise ValueError(f"TrainConfig needs epochs > 0 and max_steps >= min_steps, got epochs "
                             f"{self.epochs}, min_steps {self.min_steps}, max_steps {self.max_steps}")
        for name in ("awm_steps", "owm_rounds", "owm_steps", "patience"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.owm_mix <= 1.0:
            raise ValueError(f"TrainConfig.owm_mix must be in [0, 1], got {self.owm_mix}")
        for name in ("lr", "awm_lr", "owm_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"TrainConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.eps_latent < 0 or self.eps_action < 0 or self.rollout_weight < 0:
            raise ValueError("TrainConfig.eps_latent, eps_action and rollout_weight must be >= 0")

    def base_steps(self, n_windows: int) -> int:
        """The base step budget for ``n_windows`` train windows (see the class docstring)."""
        if self.steps is not None:
            return int(self.steps)
        passes = math.ceil(self.epochs * n_windows / self.batch_size)
        return int(min(max(passes, self.min_steps), self.max_steps))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {sorted(unknown)}; valid fields: {sorted(known)}")
        return cls(**data)

    def for_variant(self, variant: str) -> dict[str, Any]:
        """The fields that determine a ``variant`` checkpoint (base fields + that variant's own)."""
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        data = self.to_dict()
        return {k: data[k] for k in _BASE_FIELDS + _VARIANT_FIELDS[variant]}
