"""Benchmark entries: a named (world-model variant, planner) pair, plus resolution of user planners.

An entry name is one of :data:`ENTRIES`, a ``"package.module:PlannerClass"`` path, or the name of an
installed ``wmbench.planners`` entry point (its value is the planner class). Plugins plan through the ``base``
world model unless the name ends in ``@variant`` (e.g. ``my_pkg.mod:MyPlanner@awm``). Planners are built with
the entry's keyword arguments (none for plugins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from typing import Any

from wmbench.registry import resolve

ENTRY_POINT_GROUP = "wmbench.planners"
#: The world-model variant that is the simulator itself (``wmbench.baselines.oracle.SimulatorModel``).
ORACLE = "oracle"


@dataclass(frozen=True)
class Entry:
    """A benchmark entry: the world-model variant it plans through and how to build its planner."""

    name: str
    variant: str
    planner: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    upper_bound: bool = False

    def make_planner(self) -> Any:
        """A fresh planner instance (one ``.plan(problem, budget, seed, checkpoints)`` method)."""
        cls = _import(self.planner, self.name)
        try:
            planner = cls(**self.kwargs)
        except Exception as exc:
            raise ValueError(f"entry {self.name!r}: cannot build planner {self.planner}"
                             f"({dict(self.kwargs)}): {exc}") from exc
        if not callable(getattr(planner, "plan", None)):
            raise ValueError(f"entry {self.name!r}: {self.planner} has no plan(problem, budget, ...) method")
        return planner


#: The named entries. The five headline entries come first; GD, iCEM and GBP-CEM are extra baselines and
#: Oracle (planning with the simulator) is a labelled upper bound kept out of world-model rankings.
ENTRIES: dict[str, Entry] = {e.name: e for e in (
    Entry("GBP", "base", "wmbench.baselines.gbp:GBP"),
    Entry("GBP+OWM", "owm", "wmbench.baselines.gbp:GBP"),
    Entry("GBP+AWM", "awm", "wmbench.baselines.gbp:GBP"),
    Entry("CEM", "base", "wmbench.baselines.cem:CEM"),
    Entry("MPPI", "base", "wmbench.baselines.mppi:MPPI"),
    Entry("GD", "base", "wmbench.baselines.gbp:GBP", {"optimizer": "gd"}),
    Entry("iCEM", "base", "wmbench.baselines.icem:ICEM"),
    Entry("GBP-CEM", "base", "wmbench.baselines.gbp_cem:GBPCEM"),
    Entry("Oracle", ORACLE, "wmbench.baselines.oracle:Oracle", upper_bound=True),
)}


def _import(path: str, entry: str) -> Any:
    try:
        return resolve(path)
    except ValueError as exc:
        raise ValueError(f"entry {entry!r}: planner class: {exc}; install the package that provides it or "
                         "fix the path") from exc


def resolve_entry(name: str) -> Entry:
    """The :class:`Entry` for an entry name, plugin path or entry-point name (one-line error if unknown).

    ``NAME@variant`` plans through another world-model variant, for named entries too: ``CEM@awm`` is CEM on
    the AWM model, so any (variant, planner) pair can be run.
    """
    if name in ENTRIES:
        return ENTRIES[name]
    spec, _, variant = name.partition("@")
    if spec in ENTRIES and variant:
        if ENTRIES[spec].upper_bound:
            raise ValueError(f"entry {spec!r} plans with the simulator and takes no '@variant'")
        return replace(ENTRIES[spec], name=name, variant=variant)
    variant = variant or "base"
    if ":" in spec:
        _import(spec, name)
        return Entry(name, variant, spec)
    plugins = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if spec in plugins:
        return Entry(name, variant, plugins[spec])
    raise ValueError(f"unknown entry {name!r}; choose one of {list(ENTRIES)} (optionally NAME@variant), an "
                     f"installed '{ENTRY_POINT_GROUP}' entry point {sorted(plugins)}, or "
                     "'package.module:PlannerClass'")
