import math

import numpy as np
import pandas as pd
import pytest

from wmbench.report.paper import CELLS, TABLE1
from wmbench.report.stats import wilson_interval
from wmbench.report.table1 import budget_claim, budget_claim_markdown, table1_entries, table1_markdown


def _rows(entry, env, mode, budget, successes, n=100, kind="iterations", seconds=None):
    seconds = budget if seconds is None else seconds
    return [{"entry": entry, "env": env, "mode": mode, "budget_kind": kind, "budget_value": float(budget),
             "upper_bound": entry == "Oracle", "success": i < successes, "forward_evals": 10,
             "backward_evals": 10, "error": None, "overrun": False, "planning_seconds": seconds, "replans": 1}
            for i in range(n)]


def test_table1_layout_intervals_and_paper_numbers():
    rows = _rows("GBP@awm", "pusht", "mpc", 100, 80) + _rows("CEM", "wall", "open-loop", 30, 25)
    rows += _rows("GD@owm", "pointmaze", "mpc", 100, 3) + _rows("Oracle", "pusht", "mpc", 30, 100)
    table = table1_markdown(pd.DataFrame(rows))
    lines = table.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["world model", *(f"{e} {p}" for e, p in CELLS)]
    body = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")[1:]]
            for line in lines[2:8]}
    assert list(body) == ["Base WM open-loop", "Base WM + MPC", "Online WM open-loop", "Online WM + MPC",
                          "Adversarial WM open-loop", "Adversarial WM + MPC"]
    lo, hi = wilson_interval(80, 100)
    col = CELLS.index(("pusht", "Adam"))
    assert body["Adversarial WM + MPC"][col] == f"80 [{100 * lo:.0f}–{100 * hi:.0f}] n=100 (paper 92)"
    assert body["Base WM open-loop"][CELLS.index(("wall", "CEM"))].endswith("(paper 74*)")
    assert body["Online WM + MPC"][CELLS.index(("pointmaze", "GD"))].startswith("3 [")
    assert body["Base WM + MPC"][col] == f"— (paper {TABLE1['base', 'mpc']['pusht', 'Adam']})"
    assert "Oracle" not in table


def test_table1_entries_name_the_variant():
    assert table1_entries("base") == ("GD", "GBP", "CEM")
    assert table1_entries("awm") == ("GD@awm", "GBP@awm", "CEM@awm")


def test_budget_claim_fraction_of_cem_time():
    rows = []
    for budget, cem, awm in [(0.1, 20, 62), (0.3, 50, 70), (1.0, 70, 72), (3.0, 70, 72)]:
        rows += _rows("CEM", "pusht", "mpc", budget, cem, kind="seconds", seconds=max(budget, 0.5))
        rows += _rows("GBP+AWM", "pusht", "mpc", budget, awm, kind="seconds")
        rows += _rows("GBP", "pusht", "mpc", budget, 10, kind="seconds")
    # CEM's first iteration overruns the 0.1 and 0.3 s budgets (0.5 s measured): charged what it spent
    rows += _rows("CEM", "wall", "mpc", 0.1, 50, kind="seconds", seconds=0.5)
    rows += _rows("GBP+AWM", "wall", "mpc", 0.1, 50, kind="seconds")
    claim = budget_claim(pd.DataFrame(rows), challengers=("GBP+AWM", "GBP"))
    wall = claim[claim["env"] == "wall"].set_index("entry")
    assert wall.loc["GBP+AWM", "reference_seconds"] == pytest.approx(0.5)
    assert wall.loc["GBP+AWM", "fraction_of_reference_time"] == pytest.approx(0.2)
    claim = claim[claim["env"] == "pusht"].set_index("entry")
    assert claim.loc["GBP+AWM", "reference_best"] == pytest.approx(0.7)
    assert claim.loc["GBP+AWM", "reference_seconds"] == pytest.approx(1.0)
    assert claim.loc["GBP+AWM", "seconds_to_match"] == pytest.approx(0.3)
    assert claim.loc["GBP+AWM", "fraction_of_reference_time"] == pytest.approx(0.3)
    assert math.isnan(claim.loc["GBP", "seconds_to_match"])
    # 62/100 already has 70% inside its 95% interval (Wilson [52, 71]); 10/100 never does
    assert claim.loc["GBP+AWM", "ci_seconds_to_match"] == pytest.approx(0.1)
    assert math.isnan(claim.loc["GBP", "ci_fraction"])
    text = budget_claim_markdown(claim.reset_index())
    assert "| pusht | mpc | GBP+AWM | 70% | 1 s | 0.3 s | 30% | 0.1 s | 10% |" in text
    assert "| pusht | mpc | GBP | 70% | 1 s | never | — | never | — |" in text
    assert np.isfinite(claim["reference_seconds"]).all()
