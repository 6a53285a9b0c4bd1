"""Which rows of a table may be compared episode by episode, and why the others may not.

Rows pair only when they ran under the same protocol (name and hash), on the same task suite, through the same
world model for each (variant, model seed) and — under seconds budgets — on the same machine (its
fingerprint: CPU, cores, torch and BLAS build, GPU; never its host name). `cohorts` splits one table's
rows (one env, mode, budget kind and level) into such cohorts, curve by curve: the first cohort is the one of
the reference entry (or of the first entry), the others are shown apart with the reason they are not paired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: One curve of a table: an entry through one world-model seed.
CURVE = ["entry", "model_seed"]
#: What must agree for two curves to be paired (``machine`` only under seconds budgets).
SAME = ["protocol", "protocol_sha256", "task_suite_sha256"]


@dataclass(frozen=True)
class Cohort:
    """Rows that pair with each other; ``reason`` says why they do not pair with the first cohort ("" for
    the first)."""

    rows: pd.DataFrame
    reason: str = ""


def _short(value: object) -> str:
    text = str(value) or "none"
    return text if len(text) <= 24 else text[:12] + "…"


def _why_not(curve: pd.Series, group: _Forming, seconds: bool) -> str:
    """Why ``curve`` (its first row) cannot join ``group``; "" if it can."""
    first = group.first
    if (curve["protocol"], curve["protocol_sha256"]) != (first["protocol"], first["protocol_sha256"]):
        return (f"another protocol ({curve['protocol'] or 'none'} {_short(curve['protocol_sha256'])} vs "
                f"{first['protocol'] or 'none'} {_short(first['protocol_sha256'])})")
    if curve["task_suite_sha256"] != first["task_suite_sha256"]:
        return (f"another task suite ({_short(curve['task_suite_sha256'])} vs "
                f"{_short(first['task_suite_sha256'])})")
    if seconds and curve["machine"] != first["machine"]:
        return (f"another machine under seconds budgets ({curve['machine'] or 'unknown'} vs "
                f"{first['machine'] or 'unknown'})")
    key = (curve["variant"], int(curve["model_seed"]))
    if key in group.models and group.models[key] != curve["checkpoint_hash"]:
        return (f"another {key[0]} world model for model seed {key[1]} "
                f"({_short(curve['checkpoint_hash'])} vs {_short(group.models[key])})")
    return ""


@dataclass
class _Forming:
    """A cohort being formed: its first curve's row, its world model per (variant, model seed), its curves."""

    first: pd.Series
    reason: str
    models: dict[tuple[str, int], str] = field(default_factory=dict)
    members: list[tuple[str, int]] = field(default_factory=list)


def cohorts(rows: pd.DataFrame, order: list[str], reference: str) -> list[Cohort]:
    """Split one table's ``rows`` into cohorts (see the module docstring). ``order`` is the display order of
    the entries; curves join the first cohort that accepts them, the reference entry's curves first."""
    seconds = bool((rows["budget_kind"] == "seconds").any())
    curves = rows.drop_duplicates(CURVE).set_index(CURVE, drop=False)
    rank = {entry: i for i, entry in enumerate(order)}
    found: list[_Forming] = []
    for curve in sorted(curves.index, key=lambda c: (c[0] != reference, rank.get(c[0], len(rank)), c)):
        head = curves.loc[curve]
        group = next((g for g in found if not _why_not(head, g, seconds)), None)
        if group is None:
            group = _Forming(head, _why_not(head, found[0], seconds) if found else "")
            found.append(group)
        group.models.setdefault((head["variant"], int(head["model_seed"])), head["checkpoint_hash"])
        group.members.append(curve)
    key = pd.MultiIndex.from_frame(rows[CURVE])
    return [Cohort(rows[key.isin(g.members)], g.reason) for g in found]
