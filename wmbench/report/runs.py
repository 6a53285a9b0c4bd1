"""Budgets that ran the same runs, merged into one tested point.

Budgets can differ without changing a run: seconds budgets shorter than a planner's first iteration all stop
after that iteration, with the same outcomes. Testing each of them counts one comparison several times (and
inflates Holm's family). Consecutive budgets of a curve whose episode rows are identical in everything but
the budget value and the timing (`RUN`, episode by episode) are one point, labelled with the budget
range.
"""

from __future__ import annotations

import pandas as pd

from wmbench.report.paired import EPISODE
from wmbench.report.stats import budget_label

#: What an episode did, apart from its budget and timing: budgets whose episodes agree on all of it merge.
RUN = ["success", "final_distance", "coverage", "steps", "replans", "iterations", "forward_evals",
       "backward_evals", "error"]
_KEY = [*EPISODE, "model_seed"]


def same_runs(first: pd.DataFrame, second: pd.DataFrame) -> bool:
    """Whether two budgets' episode rows (one entry each) are the same episodes with equal `RUN`
    columns."""
    if len(first) != len(second):
        return False
    runs = [rows[[*_KEY, *RUN]].sort_values(_KEY).reset_index(drop=True) for rows in (first, second)]
    return runs[0].equals(runs[1])


def budget_groups(*curves: pd.DataFrame) -> list[list[float]]:
    """The budgets all ``curves`` ran (episode rows of one entry each), ascending, grouped: consecutive
    budgets share a group when every curve ran the same runs at them."""
    cells = [dict(tuple(curve.groupby("budget_value", sort=True))) for curve in curves]
    groups: list[list[float]] = []
    for budget in sorted(set.intersection(*(set(c) for c in cells))):
        if groups and all(same_runs(c[groups[-1][-1]], c[budget]) for c in cells):
            groups[-1].append(budget)
        else:
            groups.append([budget])
    return groups


def budget_range(budgets: list[float], kind: str) -> str:
    """The label of a merged point: ``0.1 s``, or ``0.003–0.1 s`` for several budgets."""
    if len(budgets) == 1:
        return budget_label(budgets[0], kind)
    return f"{budgets[0]:g}–{budget_label(budgets[-1], kind)}"
