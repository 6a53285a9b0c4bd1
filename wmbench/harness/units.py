"""Sweep units and their identity.

A *unit* is one (entry, env, mode, budget group, seed) over a set of tasks: all its tasks are planned together
in each plan call. Its identity is everything that determines its rows — the entry's planner and arguments,
the world model's checkpoint hash, the task suite's version, hash and task subset, horizon, objective, MPC
settings, threads and device — hashed into ``Unit.id``. Every row carries that id and the part file is named
after it, so a changed setting or a retrained checkpoint is a new unit, and resume reuses a part only when its
rows carry the same id.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from wmbench.harness.entries import Entry
from wmbench.harness.schema import SCHEMA_VERSION
from wmbench.planning import Budget

#: Longest readable prefix of a part file name (the unit id follows), well inside filesystem limits.
MAX_NAME = 100


@dataclass(frozen=True, kw_only=True)
class Unit:
    """One unit of a sweep (see the module docstring). ``step_cap`` is the MPC step cap (None for
    open-loop, whose episodes execute the plan's ``horizon x frameskip`` env steps); ``protocol`` and
    ``protocol_sha256`` name the protocol it ran under ("" for an ad-hoc sweep); ``planner_code`` and
    ``model_code`` are the planner's and the world model's ``(source sha256, version)``
    (`wmbench.registry.code_identity`), so a changed plugin is a new unit."""

    entry: Entry
    env: str
    mode: str
    budgets: tuple[Budget, ...]
    seed: int
    split: str
    suite_version: str
    suite_sha256: str
    task_ids: tuple[int, ...]
    horizon: int
    execute_steps: int
    step_cap: int | None
    objective: str
    checkpoint_hash: str
    threads: int
    device: str
    protocol: str = ""
    protocol_sha256: str = ""
    planner_code: tuple[str, str] = ("", "")
    model_code: tuple[str, str] = ("", "")

    def identity(self) -> dict[str, Any]:
        """Everything that determines the unit's rows, as plain JSON values."""
        return {
            "schema": SCHEMA_VERSION, "entry": self.entry.name, "planner": self.entry.planner,
            "planner_args": self.entry.planner_args, "variant": self.entry.variant,
            "upper_bound": self.entry.upper_bound, "env": self.env, "mode": self.mode,
            "budget_kind": self.budget_kind, "budgets": [float(b.value) for b in self.budgets],
            "seed": self.seed, "split": self.split, "suite_version": self.suite_version,
            "suite_sha256": self.suite_sha256,
            "tasks": list(self.task_ids), "horizon": self.horizon, "execute_steps": self.execute_steps,
            "max_steps": self.step_cap, "objective": self.objective, "checkpoint_hash": self.checkpoint_hash,
            "threads": self.threads, "device": self.device, "protocol": [self.protocol, self.protocol_sha256],
            "planner_code": list(self.planner_code), "model_code": list(self.model_code),
        }

    @cached_property
    def id(self) -> str:
        """sha256 (first 20 hex digits) of `identity`."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def file_name(self) -> str:
        """``ENTRY__ENV__MODE__BUDGETS__seedN__ID.parquet``, the readable part sanitised and shortened."""
        budget = f"{self.budgets[0].value:g}" if len(self.budgets) == 1 else f"{len(self.budgets)}budgets"
        name = f"{self.entry.name}__{self.env}__{self.mode}__{self.budget_kind}-{budget}__seed{self.seed}"
        return f"{re.sub(r'[^A-Za-z0-9._+-]', '_', name)[:MAX_NAME]}__{self.id}.parquet"

    @property
    def budget_kind(self) -> str:
        """The kind of the unit's budgets (ascending, of one kind; open-loop: the milestones of one plan call,
        MPC: a single budget)."""
        return self.budgets[0].kind

    @property
    def n_rows(self) -> int:
        """Rows of a complete part: one per task and budget."""
        return len(self.task_ids) * len(self.budgets)

    @property
    def label(self) -> str:
        """A short human-readable description for progress and error lines."""
        return f"{self.entry.name} on {self.env} ({self.mode}, {self.budget_kind} " \
               f"{self.budgets[-1].value:g}, seed {self.seed})"
