"""Planning budgets: wall-clock seconds, iterations and forward model evaluations per episode."""

from __future__ import annotations

import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Limits on one ``Planner.plan`` call; the run stops at whichever set limit comes first.

    ``seconds`` is wall-clock time of the whole call, ``iterations`` counts planner iterations and
    ``evaluations`` counts model evaluations per episode: forward rollouts plus backward passes, one each per
    candidate plan (``PlanProblem.evaluations``; a GBP iteration with one plan costs 2, a CEM iteration of 300
    samples 300). The anytime loop always runs one iteration, then starts another only if it is predicted
    (from the previous iteration's time and evaluations) to stay within every limit, so a run never passes a
    limit by more than one iteration's misprediction.
    """

    seconds: float | None = None
    iterations: int | None = None
    evaluations: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is None and self.iterations is None and self.evaluations is None:
            raise ValueError("Budget needs at least one of seconds, iterations or evaluations")
        for name in ("seconds", "iterations", "evaluations"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"Budget.{name} must be a number, got {value!r}")
            if name != "seconds" and int(value) != value:
                raise ValueError(f"Budget.{name} must be a whole number, got {value!r}")
            if not value > 0:
                raise ValueError(f"Budget.{name} must be > 0, got {value!r}")

    def allows_next(self, seconds: float, iterations: int, evaluations: int,
                    step_seconds: float, step_evaluations: int) -> bool:
        """Whether one more iteration costing ``step_*`` fits after the amounts already spent."""
        return not ((self.seconds is not None and seconds + step_seconds > self.seconds)
                    or (self.iterations is not None and iterations + 1 > self.iterations)
                    or (self.evaluations is not None and evaluations + step_evaluations > self.evaluations))
