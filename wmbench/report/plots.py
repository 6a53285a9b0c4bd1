"""Success rate vs planning cost curves (95% Wilson bands), one figure per env, control mode and currency.

Points sit at the *measured* cost per plan call (seconds, or model evaluations), as in the overview: a
planner that overruns a seconds budget is drawn where it spent, right of that budget's dotted line, and
points of a plan call over 2x its budget are ringed in red. Figures are drawn on bare
``matplotlib.figure.Figure`` objects (Agg rendering, no pyplot global state).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wmbench.io import atomic_write
from wmbench.report.styles import EntryStyle, entry_styles

#: currency -> (x column, axis label).
CURRENCIES = {
    "seconds": ("seconds_per_call", "planning time per plan call [s] (measured)"),
    "evals": ("evals_per_call", "model evaluations per episode per plan call (forward + backward, measured)"),
}
#: How a point whose episodes overran their seconds budget is marked.
OVERRUN_RING = {"marker": "o", "s": 140, "facecolors": "none", "edgecolors": "#D62728", "linewidths": 1.2}


def entry_order(summary: pd.DataFrame) -> list[str]:
    """Entries ranked by success at their largest budget (then by name); upper bounds last."""
    last = summary.sort_values("budget_value").groupby("entry").tail(1)
    last = last.assign(neg=-last["rate"]).sort_values(["upper_bound", "neg", "entry"])
    return list(last["entry"])


def plot_curves(summary: pd.DataFrame, out_dir: Path) -> dict[tuple[str, str, str], list[Path]]:
    """Write ``{env}_{mode}_{budget kind}_{currency}.png`` per group of ``summary``.

    Returns the figure paths per (env, mode, budget kind)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sns.set_theme(style="whitegrid", context="paper")
    styles = entry_styles(summary["entry"])  # one look per entry in every figure
    paths: dict[tuple[str, str, str], list[Path]] = {}
    for (env, mode, kind), group in summary.groupby(["env", "mode", "budget_kind"], sort=True):
        for currency in CURRENCIES:
            fig = curve_figure(group, currency, styles, f"{env}, {mode}, {kind} budgets")
            path = out_dir / re.sub(r"[^A-Za-z0-9._+-]", "_", f"{env}_{mode}_{kind}_{currency}.png")
            atomic_write(path, lambda fh, fig=fig: fig.savefig(fh, format="png", dpi=120,
                                                               metadata={"Software": None}))
            paths.setdefault((env, mode, kind), []).append(path)
    return paths


def curve_figure(group: pd.DataFrame, currency: str, styles: dict[str, EntryStyle],
                 title: str = "") -> Figure:
    """One group's curves (summary rows of one env, mode and budget kind) against ``currency``'s measured
    cost, overrunning points ringed, seconds budgets as dotted lines on the seconds axis."""
    xcol, label = CURRENCIES[currency]
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    if currency == "seconds" and (group["budget_kind"] == "seconds").all():
        for budget in sorted(group["budget_value"].unique()):
            ax.axvline(budget, color="0.6", linewidth=0.7, linestyle=":", zorder=0)
    for entry in entry_order(group):
        rows = group[group["entry"] == entry].dropna(subset=[xcol]).sort_values(xcol)
        if rows.empty:
            continue
        bound = bool(rows["upper_bound"].iloc[0])
        look = styles[entry]
        style = {"color": "0.4", "linestyle": "--", "marker": "o"} if bound else \
            {"color": look.color, "linestyle": look.linestyle, "marker": look.marker}
        ax.plot(rows[xcol], 100 * rows["rate"], label=f"{entry} (upper bound)" if bound else entry, **style)
        ax.fill_between(rows[xcol], 100 * rows["low"], 100 * rows["high"], alpha=0.15, color=style["color"],
                        linewidth=0)
        over = rows[rows["overruns"] > 0]
        if len(over):
            ax.scatter(over[xcol], 100 * over["rate"], zorder=3, **OVERRUN_RING)
    ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("success rate [%] (95% Wilson interval)")
    ax.set_ylim(-2, 102)
    ax.set_title(title)
    handles, names = ax.get_legend_handles_labels()
    if (group["overruns"] > 0).any():
        handles.append(Line2D([], [], linestyle="", marker="o", markersize=10, markerfacecolor="none",
                              markeredgecolor=OVERRUN_RING["edgecolors"]))
        names.append("a plan call over 2x its budget")
    ax.legend(handles, names, fontsize="small")
    fig.tight_layout()
    return fig
