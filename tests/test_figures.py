"""The overview figure: envs x modes facets at measured cost, n in the legend, byte-identical files."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from PIL import Image

from wmbench.report.overview import overview_figure, overview_frame, plot_overview
from wmbench.report.plots import curve_figure
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


def test_per_group_seconds_plots_put_points_at_the_measured_cost_and_ring_overruns():
    summary = summarise(_results())
    group = summary[(summary["env"] == "pusht") & (summary["mode"] == "mpc")]
    fig = curve_figure(group, "seconds", entry_styles(group["entry"]))
    ax = fig.axes[0]
    [cem] = [line for line in ax.get_lines() if line.get_label() == "CEM"]
    assert np.allclose(cem.get_xdata(), [0.35, 0.9])  # not at the 0.1 s budget it overran
    [ring] = [c for c in ax.collections if isinstance(c, PathCollection)]  # CEM's overrun marker
    assert np.allclose(ring.get_offsets(), [[0.35, 20.0]])
    budgets = [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert budgets == [0.1, 1.0]  # the nominal budgets stay visible as dotted lines
    assert ax.get_legend().get_texts()[-1].get_text() == "a plan call over 2x its budget"
    assert "measured" in ax.get_xlabel()


def test_overview_x_labels_of_neighbouring_panels_do_not_overlap():
    """Each x label is no wider than its panel (centred under it, so neighbours cannot meet); on one line the
    evaluations label was wider than its panel and ran into the seconds label beside it."""
    figure = overview_figure(summarise(_results()))
    renderer = figure.canvas.get_renderer()
    shown = sorted(((ax.xaxis.label.get_window_extent(renderer), ax.get_window_extent(renderer))
                    for ax in figure.axes if ax.get_xlabel()), key=lambda boxes: boxes[1].x0)
    plt.close(figure)
    assert len(shown) == 4  # the bottom row's panels
    assert all(label.width <= panel.width for label, panel in shown)
    assert all(left.x1 < right.x0 for (left, _), (right, _) in zip(shown, shown[1:], strict=False))
