"""Budget lists as users write them: ``0.01,0.1`` seconds, ``it:10,100`` iterations, ``ev:300,3000`` model
evaluations (forward rollouts + backward passes per episode, see :class:`~wmbench.planning.Budget`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wmbench.planning import Budget

#: Budget-list prefixes: none = wall-clock seconds, ``it:`` = iterations, ``ev:`` = model evaluations.
BUDGET_PREFIXES = {"": "seconds", "it": "iterations", "ev": "evaluations"}
BUDGET_KINDS = tuple(BUDGET_PREFIXES.values())
#: Largest budget value accepted (a day of seconds, or a billion iterations / evaluations).
MAX_BUDGET = {"seconds": 86_400.0, "iterations": 1e9, "evaluations": 1e12}
_USAGE = ("use e.g. '0.01,0.03,0.1' (seconds), 'it:10,30,100' (iterations) or 'ev:300,3000' (model "
          "evaluations: forward + backward per episode)")


@dataclass(frozen=True)
class BudgetSpec:
    """A sweep's budgets: one kind and ascending values."""

    kind: str
    values: tuple[float, ...]

    def budget(self, value: float) -> Budget:
        return Budget(**{self.kind: value if self.kind == "seconds" else int(value)})

    def __str__(self) -> str:
        prefix = {kind: p for p, kind in BUDGET_PREFIXES.items()}[self.kind]
        return (f"{prefix}:" if prefix else "") + ",".join(f"{v:g}" for v in self.values)


def parse_budgets(text: str) -> BudgetSpec:
    """Parse ``"0.01,0.03,0.1"`` (seconds), ``"it:10,30,100"`` (iterations) or ``"ev:..."`` (evaluations)."""
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
    whole = kind == "seconds" or all(v == int(v) for v in values if np.isfinite(v))
    if not all(np.isfinite(v) and v > 0 for v in values) or not whole:
        raise ValueError(f"malformed budget list {text!r}: budgets must be positive"
                         f"{'' if kind == 'seconds' else ' whole numbers'}; {_USAGE}")
    if max(values) > MAX_BUDGET[kind]:
        raise ValueError(f"malformed budget list {text!r}: {kind} budgets above {MAX_BUDGET[kind]:g} are not "
                         "supported")
    if len(set(values)) != len(values):
        raise ValueError(f"malformed budget list {text!r}: duplicate budgets")
    return BudgetSpec(kind, tuple(sorted(values)))
