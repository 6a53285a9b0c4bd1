"""Named, versioned evaluation protocols: everything that determines a result except the entry.

A `Protocol` fixes the task split and levels, the control modes, the planning horizon (per level for
open-loop plans), per planner the objective and how many planning steps MPC executes before replanning, the
step caps (the suites'), the batching (one plan call for all tasks of a level), the budget grid, the Oracle's
grid, and the world models (kind, training-data size, training seeds: the frozen reference models where
wmbench ships them).

Planner settings follow the paper's code (`PAPER_PLANNER_SETTINGS`): the sampling planners (CEM, iCEM, MPPI
and the Oracle, which is CEM through the simulator) score only the last predicted frame; the gradient planners
(GBP, its GD and OWM/AWM entries, GBP-CEM) weigh every frame by 0.5^t; with MPC, CEM, iCEM and the Oracle
execute their whole 5-step plan before replanning, GBP, GBP-CEM and MPPI one planning step (5 env steps). A
planner the table does not name (a submission) gets the protocol's ``objective`` and ``execute_steps``
(CEM's).
Every row records the protocol's name and `Protocol.sha256`; the report pairs rows only within one
protocol. ``wmbench eval --protocol NAME`` runs any entry exactly as the leaderboard ran its entries.

* ``quick`` — the README's main job and the committed ``results/quick``: small datasets, one state model per
  variant, the ``dev`` split (60 tasks per env), iterations 1 to 32, the Oracle at 16 iterations.
* ``full`` — full datasets, three independently trained models per variant (training seeds 0, 1, 2: the
  replication unit for world-model claims), the 500-task ``test`` split, iterations 1 to 30 (CEM's budget in
  the paper, so the curves' last points are Table 1's CEM cells), the Oracle at 30 iterations.

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
#: ``full``'s grid: from one iteration to the paper's CEM budget, whose units Table 1 then shares.
PAPER_GRID = "it:1,2,4,8,16,30"
#: (registered planner, objective weighting, planning steps MPC executes per replan), as in the paper's code.
PAPER_PLANNER_SETTINGS: tuple[tuple[str, str, int], ...] = (
    ("GBP", "exponential", 1), ("GBP-CEM", "exponential", 1), ("MPPI", "last", 1),
    ("CEM", "last", 5), ("iCEM", "last", 5), ("Oracle", "last", 5))


@dataclass(frozen=True)
class Protocol:
    """Everything but the entry that determines a result (see the module docstring).

    ``model_seeds``: training seeds, one independently trained world model per variant and seed;
    ``seeds``: planner seeds; ``oracle_budgets``: the Oracle's grid (None: no Oracle rows);
    ``open_loop_horizon``: (level, planning steps) pairs; ``n_tasks``: only the first tasks of each level
    (None: all); ``planner_settings``: (planner, objective, MPC execute steps) per registered planner, and
    ``objective`` / ``execute_steps`` for planners it does not name.
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
    planner_settings: tuple[tuple[str, str, int], ...] = PAPER_PLANNER_SETTINGS

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

    def planner_setting(self, planner: str) -> tuple[str, int]:
        """``(objective, MPC execute_steps)`` of a planner, given by registered name or ``module:Class``."""
        from wmbench.registry import planner_path

        for name, objective, execute_steps in self.planner_settings:
            if planner in (name, planner_path(name)):
                return objective, execute_steps
        return self.objective, self.execute_steps

    def sweeps(self, mode: str, entries: tuple[str, ...]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        """``(entries, SweepConfig settings)`` of ``mode`` besides envs and budgets: one per level and group
        of ``entries`` whose planners share their `planner_setting`."""
        horizons, groups = dict(self.open_loop_horizon), self.groups(entries).items()
        return [(names, {"seeds": self.seeds, "mode": mode, "split": self.split, "levels": (level,),
                         "n_tasks": self.n_tasks, "threads": self.threads, "objective": objective,
                         "horizon": self.horizon if mode == "mpc" else horizons[level],
                         "execute_steps": execute_steps if mode == "mpc" else 1})
                for level in self.levels for (objective, execute_steps), names in groups]

    def groups(self, entries: tuple[str, ...]) -> dict[tuple[str, int], tuple[str, ...]]:
        """``entries`` grouped by their planners' `planner_setting`, in first-seen order."""
        from wmbench.harness.entries import resolve_entry

        groups: dict[tuple[str, int], tuple[str, ...]] = {}
        for entry in entries:
            setting = self.planner_setting(resolve_entry(entry).planner)
            groups[setting] = (*groups.get(setting, ()), entry)
        return groups

    def label(self, **overrides: Any) -> tuple[str, str]:
        """``(name, sha256)`` recorded in the rows of a sweep under this protocol: "" for the name when the
        protocol is not the named one or ``overrides`` change its sweeps (the hash then covers them)."""
        if not overrides:
            return self.named, self.sha256
        text = json.dumps({"protocol": self.settings, "overrides": overrides}, sort_keys=True, default=str)
        return "", hashlib.sha256(text.encode()).hexdigest()


PROTOCOLS: dict[str, Protocol] = {
    "quick": Protocol("quick", "small", "dev", version=2, oracle_budgets="it:16"),
    "full": Protocol("full", "full", "test", version=3, model_seeds=(0, 1, 2), budgets=PAPER_GRID,
                     oracle_budgets="it:30"),
}
#: The protocol of ``wmbench eval`` without ``--protocol`` or setting options.
DEFAULT = "quick"


def get_protocol(name: str) -> Protocol:
    """The named protocol; one-line ``ValueError`` if unknown."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
