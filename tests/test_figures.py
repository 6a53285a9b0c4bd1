"""The overview figure: envs x modes facets at measured cost, n in the legend, byte-identical files."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from wmbench.report.overview import overview_frame, plot_overview
from wmbench.report.stats import summarise
from wmbench.report.styles import NAMED_STYLES, entry_styles


def _results() -> pd.DataFrame:
    """Episode rows of two envs, two modes, three entries (one an upper bound) and two seconds budgets."""
    rows = []
    for env in ("pusht", "wall"):
        for mode in ("mpc", "open-loop"):
            for entry, bound, rates in (("CEM", False, (0.2, 0.5)), ("GBP+OWM", False, (0.4, 0.6)),
                                        ("Oracle", True, (0.9, 1.0))):
                for budget, rate in zip((0.1, 1.0), rates, strict=True):
                    # CEM overruns its small budget: 0.35 s measured per plan call
                    seconds = 0.35 if (entry, budget) == ("CEM", 0.1) else 0.9 * budget
                    rows += [{"env": env, "mode": mode, "budget_kind": "seconds", "entry": entry,
                              "upper_bound": bound, "budget_value": budget, "success": task < 10 * rate,
                              "error": None, "overrun": seconds > 2 * budget, "planning_seconds": 2 * seconds,
                              "forward_evals": int(1000 * budget), "backward_evals": 0, "replans": 2,
                              "level": "", "model_seed": 0}
                             for task in range(10)]
    return pd.DataFrame(rows)


def test_frame_puts_points_at_the_measured_cost_with_n_in_the_label():
    frame = overview_frame(summarise(_results()))
    cem = frame[(frame["entry"] == "CEM") & (frame["currency"] == "seconds") & (frame["budget_value"] == 0.1)]
    assert np.allclose(cem["x"], 0.35)  # the overrun is drawn where it happened, not at the 0.1 s budget
    evals = frame[(frame["entry"] == "GBP+OWM") & (frame["currency"] == "evaluations")]
    assert sorted(evals["x"].unique()) == [50.0, 500.0]  # per plan call: 2 replans
    assert set(frame["label"]) == {"CEM (n=10)", "GBP+OWM (n=10)", "Oracle (ceiling, n=10)"}
    assert set(frame["panel"]) == {"mpc · seconds", "mpc · evaluations", "open-loop · seconds",
                                   "open-loop · evaluations"}


def test_overview_files_are_nontrivial_and_byte_identical(tmp_path):
    summary = summarise(_results())
    first = plot_overview(summary, tmp_path / "a")
    second = plot_overview(summary, tmp_path / "b")
    assert [p.name for p in first] == ["overview.png", "overview.pdf", "overview.svg"]
    for a, b in zip(first, second, strict=True):
        assert a.stat().st_size > 10_000 and a.read_bytes() == b.read_bytes()
    width, height = Image.open(first[0]).size
    assert width > 1000 and height > 600  # 2 env rows x 4 panels at 150 dpi
    assert b"CreationDate" not in first[1].read_bytes() and b"<dc:date>" not in first[2].read_bytes()


def test_cem_and_gbp_owm_look_different_and_plugins_get_stable_styles():
    cem, owm = NAMED_STYLES["CEM"], NAMED_STYLES["GBP+OWM"]
    assert cem.color != owm.color and cem.marker != owm.marker and cem.linestyle != owm.linestyle
    styles = entry_styles(["pkg:B", "CEM", "pkg:A"])
    assert list(styles) == ["CEM", "pkg:A", "pkg:B"] and styles["CEM"] == cem
    assert styles["pkg:A"] != styles["pkg:B"] and entry_styles(["pkg:A"])["pkg:A"] == styles["pkg:A"]
