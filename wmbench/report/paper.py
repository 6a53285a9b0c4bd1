"""Published numbers of the paper the reference entries come from (Table 1 of arXiv 2512.09929v1).

Success rates in %, 50 episodes, one seed, no intervals. ``*``: Wall open-loop CEM is DINO-WM's published
value, which the paper's authors could not reproduce (they measured 32%).
"""

from __future__ import annotations

ENVS = ("pusht", "pointmaze", "wall")
PLANNERS = ("GD", "Adam", "CEM")
VARIANT_LABELS = {"base": "Base WM", "owm": "Online WM", "awm": "Adversarial WM"}

#: Table 1 columns in the paper's order.
CELLS = tuple((env, planner) for env in ENVS for planner in PLANNERS)
_ROWS = {
    ("base", "open-loop"): (38, 54, 78, 12, 24, 90, 2, 10, 74),
    ("base", "mpc"): (56, 76, 92, 42, 68, 90, 12, 80, 82),
    ("owm", "open-loop"): (34, 52, 90, 20, 14, 62, 16, 18, 54),
    ("owm", "mpc"): (50, 76, 92, 54, 88, 96, 38, 80, 90),
    ("awm", "open-loop"): (56, 82, 94, 32, 70, 88, 32, 34, 30),
    ("awm", "mpc"): (66, 92, 92, 50, 94, 98, 14, 94, 94),
}
#: (variant, mode) -> {(env, planner): success %}, rows in the paper's order.
TABLE1 = {key: dict(zip(CELLS, values, strict=True)) for key, values in _ROWS.items()}
#: Cells whose published value is another paper's (see module docstring).
FOOTNOTED = {("wall", "CEM", "open-loop")}
