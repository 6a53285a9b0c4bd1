"""Named, versioned evaluation protocols: everything that determines a result except the entry.

A `Protocol` fixes the task split and levels, the control modes, the planning horizon (per level for
open-loop plans), how many planning steps MPC executes before replanning, the objective, the step caps (the
suites'), the batching (one plan call for all tasks of a level), the budget grid, the Oracle's grid, and the
world models (kind, training-data size, training seeds: the frozen reference models where wmbench ships them).
Every row records the protocol's name and `Protocol.sha256`; the report pairs rows only within one
protocol. ``wmbench eval --protocol NAME`` runs any entry exactly as the leaderboard ran its entries.

* ``quick`` — the README's main job and the committed ``results/quick``: small datasets, one state model per
  variant, the ``dev`` split (60 tasks per env), MPC executing the whole 5-step plan with the last-frame
  objective, iterations 1 to 32, the Oracle at 8 iterations.
* ``full`` — full datasets, three independently trained models per variant (training seeds 0, 1, 2: the
  replication unit for world-model claims), the 500-task ``test`` split, the Oracle's whole curve.

Change a protocol's settings only together with its ``version``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

#: Iteration budgets per plan call: from one iteration to past CEM's convergence (30 iterations).
ITERATION_GRID = "it:1,2,4,8,16,32"


@dataclass(frozen=True)
class Protocol:
    """Everything but the entry that determines a result (see the module docstring).

    ``model_seeds``: training seeds, one independently trained world model per variant and seed;
    ``seeds``: planner seeds; ``oracle_budgets``: the Oracle's grid (None: no Oracle rows);
    ``open_loop_horizon``: (level, planning steps) pairs; ``n_tasks``: only the first tasks of each level
    (None: all).
    """

    name: str
    dataset_size: str
    split: str
    version: int = 1
    model_seeds: tuple[int, ...] = (0,)
    seeds: tuple[int, ...] = (0,)
    budgets: str = ITERATION_GRID
    oracle_budgets: str | None = ITERATION_GRID
    modes: tuple[str, ...] = ("mpc", "open-loop")
    levels: tuple[str, ...] = ("near", "far")
    n_tasks: int | None = None
    model: str = "state"
    threads: int = 1
    horizon: int = 5
    execute_steps: int = 5
    objective: str = "last"
    open_loop_horizon: tuple[tuple[str, int], ...] = (("near", 5), ("far", 10))

    @property
    def settings(self) -> dict[str, Any]:
        """The protocol's fields (those of `Protocol`, whatever subclass holds them) as JSON values."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(Protocol)}

    @property
    def sha256(self) -> str:
        """Hash of `settings`: two runs under the same hash ran the same protocol."""
        return hashlib.sha256(json.dumps(self.settings, sort_keys=True).encode()).hexdigest()

    @property
    def named(self) -> str:
        """The protocol's name if its settings are those of `PROTOCOLS` under that name, else ""."""
        known = PROTOCOLS.get(self.name)
        return self.name if known is not None and known.settings == self.settings else ""

    def sweeps(self, mode: str) -> list[dict[str, Any]]:
        """The ``SweepConfig`` settings besides entries, envs and budgets of ``mode``, one per level."""
        horizons = dict(self.open_loop_horizon)
        return [{"seeds": self.seeds, "mode": mode, "split": self.split, "levels": (level,),
                 "n_tasks": self.n_tasks, "threads": self.threads, "objective": self.objective,
                 "horizon": self.horizon if mode == "mpc" else horizons[level],
                 "execute_steps": self.execute_steps if mode == "mpc" else 1} for level in self.levels]

    def label(self, **overrides: Any) -> tuple[str, str]:
        """``(name, sha256)`` recorded in the rows of a sweep under this protocol: "" for the name when the
        protocol is not the named one or ``overrides`` change its sweeps (the hash then covers them)."""
        if not overrides:
            return self.named, self.sha256
        text = json.dumps({"protocol": self.settings, "overrides": overrides}, sort_keys=True, default=str)
        return "", hashlib.sha256(text.encode()).hexdigest()


PROTOCOLS: dict[str, Protocol] = {
    "quick": Protocol("quick", "small", "dev", oracle_budgets="it:8"),
    "full": Protocol("full", "full", "test", model_seeds=(0, 1, 2)),
}
#: The protocol of ``wmbench eval`` without ``--protocol`` or setting options.
DEFAULT = "quick"


def get_protocol(name: str) -> Protocol:
    """The named protocol; one-line ``ValueError`` if unknown."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
