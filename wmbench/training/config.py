"""Training configuration with documented defaults (sized for the small datasets on one CPU core)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

VARIANTS = ("base", "owm", "awm")
_BASE_FIELDS = ("frameskip", "horizon", "model_options", "steps", "batch_size", "lr", "weight_decay",
                "rollout_weight", "grad_clip")
_VARIANT_FIELDS = {
    "base": (),
    "awm": ("awm_steps", "awm_lr", "eps_latent", "eps_action", "adaptive_eps", "attack_steps"),
    "owm": ("owm_rounds", "owm_rollouts", "owm_steps", "owm_lr", "owm_mix", "plan_iterations"),
}


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of base training and of the OWM / AWM fine-tuning variants.

    Windows are cut with history 1 and ``horizon`` model steps of ``frameskip`` env steps each, so one model
    action is ``frameskip`` env actions concatenated (10-D for the 2-D envs, as in the paper).

    Base loss (normalised latent space): teacher-forced one-step MSE over all ``horizon`` transitions plus
    ``rollout_weight`` x the MSE of the open-loop ``horizon``-step rollout from the first latent. The rollout
    term targets multi-step predictions (what planners use) directly but costs about 2.5x per step; on the
    small PointMaze data it did not lower the validation rollout error at equal steps, so the default is 0
    (pure teacher forcing).
    """

    # windows and architecture
    frameskip: int = 5
    horizon: int = 5
    model_options: dict[str, Any] = field(default_factory=dict)  # passed to ``Model.from_dataset``
    # base training
    steps: int = 3000
    batch_size: int = 256
    lr: float = 1e-3  # cosine-decayed to 5% over ``steps``; the fine-tuning learning rates are constant
    weight_decay: float = 1e-4
    rollout_weight: float = 0.0
    grad_clip: float = 1.0
    checkpoint_every: int = 500
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
        positive = ("frameskip", "horizon", "steps", "batch_size", "checkpoint_every", "attack_steps",
                    "owm_rollouts", "plan_iterations", "gap_episodes")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("awm_steps", "owm_rounds", "owm_steps"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.owm_mix <= 1.0:
            raise ValueError(f"TrainConfig.owm_mix must be in [0, 1], got {self.owm_mix}")
        for name in ("lr", "awm_lr", "owm_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"TrainConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.eps_latent < 0 or self.eps_action < 0 or self.rollout_weight < 0:
            raise ValueError("TrainConfig.eps_latent, eps_action and rollout_weight must be >= 0")

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
