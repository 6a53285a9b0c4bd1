"""Planning budgets: one limit per plan call (wall-clock seconds, iterations or model evaluations per
episode), and budget lists as users write them (``0.01,0.1`` seconds, ``it:10,100`` iterations,
``ev:300,3000`` evaluations). A `Budget` is what the command line parses, a sweep unit carries, the
anytime loop obeys and a result row records (as its ``budget_kind`` and ``budget_value`` columns)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

#: Budget-list prefixes: none = wall-clock seconds, ``it:`` = iterations, ``ev:`` = model evaluations.
BUDGET_PREFIXES = {"": "seconds", "it": "iterations", "ev": "evaluations"}
BUDGET_KINDS = tuple(BUDGET_PREFIXES.values())
#: Largest budget value accepted (a day of seconds, or a billion iterations / evaluations).
MAX_BUDGET = {"seconds": 86_400.0, "iterations": 1e9, "evaluations": 1e12}
_USAGE = ("use e.g. '0.01,0.03,0.1' (seconds), 'it:10,30,100' (iterations) or 'ev:300,3000' (model "
          "evaluations: forward + backward per episode)")


@dataclass(frozen=True)
class Budget:
    """The limit of one ``Planner.plan`` call: exactly one of ``seconds``, ``iterations`` or ``evaluations``
    (its `kind`, with its `value`).

    ``seconds`` is wall-clock time of the whole call, ``iterations`` counts planner iterations and
    ``evaluations`` counts model evaluations per episode: forward rollouts plus backward passes, one each per
    candidate plan (``PlanProblem.evaluations``; a GBP iteration with one plan costs 2, a CEM iteration of 300
    samples 300). The anytime loop always runs one iteration, then starts another only if it is predicted
    (from the previous iteration's time and evaluations) to stay within the limit, so a run never passes it by
    more than one iteration's misprediction.
    """

    seconds: float | None = None
    iterations: int | None = None
    evaluations: int | None = None

    def __post_init__(self) -> None:
        given = [name for name in BUDGET_KINDS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a Budget has exactly one of seconds, iterations or evaluations, got "
                             f"{', '.join(given) or 'none'}")
        value = self.value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"Budget.{self.kind} must be a number, got {value!r}")
        if self.kind != "seconds" and int(value) != value:
            raise ValueError(f"Budget.{self.kind} must be a whole number, got {value!r}")
        if not value > 0:
            raise ValueError(f"Budget.{self.kind} must be > 0, got {value!r}")

    @classmethod
    def of(cls, kind: str, value: float) -> Budget:
        """``Budget(**{kind: value})``, iterations and evaluations as ints when ``value`` is whole."""
        if kind not in BUDGET_KINDS:
            raise ValueError(f"unknown budget kind {kind!r}; choose one of {BUDGET_KINDS}")
        whole = kind != "seconds" and float(value).is_integer()
        return cls(**{kind: int(value) if whole else value})

    @property
    def kind(self) -> str:
        """``"seconds"``, ``"iterations"`` or ``"evaluations"``: the limit that is set."""
        return next(name for name in BUDGET_KINDS if getattr(self, name) is not None)

    @property
    def value(self) -> float:
        """The limit, in `kind` units."""
        return getattr(self, self.kind)

    def allows_next(self, seconds: float, iterations: int, evaluations: int,
                    step_seconds: float, step_evaluations: int) -> bool:
        """Whether one more iteration costing ``step_*`` fits after the amounts already spent."""
        after = {"seconds": seconds + step_seconds, "iterations": iterations + 1,
                 "evaluations": evaluations + step_evaluations}
        return after[self.kind] <= self.value


def parse_budgets(text: str) -> tuple[Budget, ...]:
    """Parse ``"0.01,0.03,0.1"`` (seconds), ``"it:10,30,100"`` (iterations) or ``"ev:..."`` (evaluations)
    into budgets of one kind, ascending; a one-line ``ValueError`` for anything else."""
    prefix, sep, body = text.partition(":")
    if not sep:
        prefix, body = "", text
    if prefix.strip() not in BUDGET_PREFIXES:
        raise ValueError(f"malformed budget list {text!r}: unknown prefix {prefix!r}; {_USAGE}")
    kind = BUDGET_PREFIXES[prefix.strip()]
    try:
        values = [float(v) for v in body.split(",")]
    except ValueError:
        raise ValueError(f"malformed budget list {text!r}: not comma-separated numbers; {_USAGE}") from None
    whole = kind == "seconds" or all(v == int(v) for v in values if math.isfinite(v))
    if not all(math.isfinite(v) and v > 0 for v in values) or not whole:
        raise ValueError(f"malformed budget list {text!r}: budgets must be positive"
                         f"{'' if kind == 'seconds' else ' whole numbers'}; {_USAGE}")
    if max(values) > MAX_BUDGET[kind]:
        raise ValueError(f"malformed budget list {text!r}: {kind} budgets above {MAX_BUDGET[kind]:g} are not "
                         "supported")
    if len(set(values)) != len(values):
        raise ValueError(f"malformed budget list {text!r}: duplicate budgets")
    return tuple(Budget.of(kind, v) for v in sorted(values))


def check_budget_list(budgets: tuple[Budget, ...]) -> None:
    """A sweep's budgets: at least one, all of one kind, ascending without duplicates (one-line
    ``ValueError`` otherwise)."""
    if not budgets or not all(isinstance(b, Budget) for b in budgets):
        raise ValueError(f"a sweep needs a tuple of Budgets (see parse_budgets), got {budgets!r}")
    kinds = sorted({b.kind for b in budgets})
    if len(kinds) > 1:
        raise ValueError(f"a sweep's budgets must be of one kind, got {' and '.join(kinds)}")
    values = [b.value for b in budgets]
    if values != sorted(set(values)):
        raise ValueError(f"a sweep's budgets must be ascending without duplicates, got {values}")
