"""Benchmark entries: a named (world-model variant, planner) pair, plus resolution of user planners.

An entry is written ``NAME[(key=value, ...)][@variant]``. ``NAME`` is one of `ENTRIES`, a
``"package.module:PlannerClass"`` path, or the name of an installed ``wmbench.planners`` entry point (its
value is the planner class). The named entries' planners are themselves such entry points (registered by
``wmbench_baselines``), so every planner is resolved by `wmbench.planning.planner_class`. Arguments in
brackets are Python literals passed to the planner's constructor on top of the entry's own
(``CEM(samples=1000)``, ``GBP(lr=0.05, optimizer='gd')``). ``@variant`` plans through another world-model
variant (default: the entry's own, ``base`` for plugins), so any (variant, planner) pair can be run:
``CEM@awm``. Result rows record the canonical name (the given arguments sorted) and, separately, every
argument the planner was built with.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from wmbench.registry import ENTRY_POINT_GROUP, planner_path, registered_planners

#: The world-model variant that is the simulator itself (``wmbench.models.simulator.SimulatorModel``).
ORACLE = "oracle"
_SYNTAX = re.compile(r"^(?P<base>[^()@\s]+)\s*(?:\((?P<args>.*)\))?\s*(?:@(?P<variant>[A-Za-z0-9_.-]+))?$")


@dataclass(frozen=True)
class Entry:
    """A benchmark entry: the world-model variant it plans through and how to build its planner.

    ``planner`` is a registered planner name (in `ENTRIES`) or, once resolved by `resolve_entry`,
    the planner class's ``"module:Class"`` path (recorded in every row and in the unit identity)."""

    name: str
    variant: str
    planner: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    upper_bound: bool = False

    def make_planner(self) -> Any:
        """A fresh planner instance (a [`wmbench.planning.Planner`][wmbench.planning.Planner] subclass)."""
        cls = _planner_class(self.planner, self.name)
        try:
            return cls(**self.kwargs)
        except Exception as exc:
            raise ValueError(f"entry {self.name!r}: cannot build planner {self.planner}"
                             f"({dict(self.kwargs)}): {exc}") from exc

    @property
    def planner_args(self) -> str:
        """Every keyword argument the planner is built with, its class defaults included, as a canonical
        ``"key=value, ..."`` string: a changed default is a changed setting (and a new unit identity)."""
        return ", ".join(f"{k}={v!r}" for k, v in sorted(self.arguments.items()))

    @property
    def arguments(self) -> dict[str, Any]:
        """Every keyword argument the planner is built with, its class defaults included, read from its
        constructor's signature (the planner is not built; invalid arguments: only the given ones)."""
        arguments = dict(self.kwargs)
        try:
            signature = inspect.signature(_planner_class(self.planner, self.name))
            bound = signature.bind(**self.kwargs)
        except (TypeError, ValueError):  # invalid arguments: make_planner reports them
            bound = None
        if bound is not None:
            bound.apply_defaults()
            arguments = {}
            for name, value in bound.arguments.items():
                kind = signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    arguments.update(value)
                elif kind is not inspect.Parameter.VAR_POSITIONAL:
                    arguments[name] = value
        return arguments


#: The named entries. The five headline entries come first; GD, iCEM and GBP-CEM are extra baselines and
#: Oracle (planning with the simulator) is a labelled upper bound kept out of world-model rankings.
ENTRIES: dict[str, Entry] = {e.name: e for e in (
    Entry("GBP", "base", "GBP"),
    Entry("GBP+OWM", "owm", "GBP"),
    Entry("GBP+AWM", "awm", "GBP"),
    Entry("CEM", "base", "CEM"),
    Entry("MPPI", "base", "MPPI"),
    Entry("GD", "base", "GBP", MappingProxyType({"optimizer": "gd"})),
    Entry("iCEM", "base", "iCEM"),
    Entry("GBP-CEM", "base", "GBP-CEM"),
    Entry("Oracle", ORACLE, "Oracle", upper_bound=True),
)}
#: The five headline entries, in display order.
HEADLINE_ENTRIES = ("GBP", "GBP+OWM", "GBP+AWM", "CEM", "MPPI")
#: The headline entries the paper reports (it has no MPPI result).
PAPER_ENTRIES = HEADLINE_ENTRIES[:4]


def _planner_class(planner: str, entry: str) -> type:
    from wmbench.planning import planner_class  # torch: not at import (the report and the CLI import this)

    try:
        return planner_class(planner)
    except KeyError as exc:
        raise ValueError(f"entry {entry!r}: {exc.args[0]}") from None
    except ValueError as exc:
        raise ValueError(f"entry {entry!r}: {exc}") from None


def parse_planner_args(text: str, entry: str) -> dict[str, Any]:
    """``"samples=1000, lr=0.1"`` -> ``{"samples": 1000, "lr": 0.1}`` (keyword arguments, Python literals)."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
            raise ValueError("only key=value arguments are allowed")
        return {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError):
        raise ValueError(f"entry {entry!r}: planner arguments ({text}) must be key=value pairs whose values "
                         "are numbers, strings, booleans or lists, e.g. CEM(samples=1000, topk=50)") from None


def resolve_entry(name: str) -> Entry:
    """The `Entry` for ``NAME[(args)][@variant]`` (see the module docstring); one-line error if
    unknown or malformed."""
    match = _SYNTAX.match(name.strip())
    if match is None:
        raise ValueError(f"malformed entry {name!r}; write NAME, NAME(key=value, ...), NAME@variant or "
                         "'package.module:PlannerClass'")
    spec, args, variant = match["base"], match["args"], match["variant"]
    if spec in ENTRIES:
        entry = ENTRIES[spec]
        if variant and entry.upper_bound:
            raise ValueError(f"entry {spec!r} plans with the simulator and takes no '@variant'")
    elif ":" in spec or spec in registered_planners():
        entry = Entry(spec, "base", spec)
    else:
        raise ValueError(f"unknown entry {name!r}; choose one of {list(ENTRIES)} (optionally "
                         f"NAME(key=value)@variant), an installed '{ENTRY_POINT_GROUP}' entry point "
                         f"{sorted(registered_planners())}, or 'package.module:PlannerClass'")
    _planner_class(entry.planner, name)
    entry = replace(entry, planner=planner_path(entry.planner))
    given = parse_planner_args(args, name) if args and args.strip() else {}
    suffix = f"({', '.join(f'{k}={v!r}' for k, v in sorted(given.items()))})" if given else ""
    return replace(entry, name=f"{spec}{suffix}{'@' + variant if variant else ''}",
                   variant=variant or entry.variant, kwargs=MappingProxyType({**entry.kwargs, **given}))
