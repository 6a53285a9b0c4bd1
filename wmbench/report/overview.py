"""The overview figure: success rate vs planning cost for every env (rows) and control mode (columns).

Each mode gets two columns, one per currency: measured wall-clock seconds per plan call, and measured model
evaluations (forward + backward) per episode and plan call. Points sit at the *measured* cost, so a planner
that overruns its budget is drawn to the right of that budget's tick (faint vertical lines mark the budgets,
which are the tick labels). Bands are 95% Wilson intervals; the legend gives each entry's episodes per point
(n). Upper bounds (the Oracle, planning with the simulator) are a dashed grey ceiling at their best success.
Written as ``overview.png``, ``.pdf`` and ``.svg``; the same summary gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from wmbench.report.styles import entry_styles, save_figure

FORMATS = ("png", "pdf", "svg")
#: currency -> (summary column, x-axis label on two lines so neighbouring panels' labels stay apart, budget
#: kind whose values are ticks on this axis).
CURRENCIES = {
    "seconds": ("seconds_per_call", "seconds per plan call\n(measured)", "seconds"),
    "evaluations": ("evals_per_call", "model evaluations\nper plan call (measured)", "evaluations"),
}
_UNITS = {"seconds": "s", "iterations": "it", "evaluations": "ev"}


def _n_label(n: pd.Series) -> str:
    low, high = int(n.min()), int(n.max())
    return f"n={low}" if low == high else f"n={low}–{high}"


def overview_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` (`wmbench.report.stats.summarise`) in long form, one row per point and currency, with
    the facets (``env``; ``panel`` = mode, and budget kind when several, x currency), the legend ``label``
    (entry and n) and the measured cost ``x``."""
    kinds = summary["budget_kind"].nunique()
    labels = {entry: f"{entry} ({'ceiling, ' if rows['upper_bound'].iloc[0] else ''}{_n_label(rows['n'])})"
              for entry, rows in summary.groupby("entry", sort=True)}
    facet = summary["mode"] + (", " + summary["budget_kind"] + " budgets" if kinds > 1 else "")
    frames = [summary.assign(currency=currency, x=summary[column], facet=facet,
                             panel=facet + " · " + currency, label=summary["entry"].map(labels))
              for currency, (column, _, _) in CURRENCIES.items()]
    long = pd.concat(frames, ignore_index=True)
    ceiling = long["upper_bound"].astype(bool)
    return long[ceiling | (long["x"] > 0)].reset_index(drop=True)


def _draw(data: pd.DataFrame, color: str, label: str, marker: str, linestyle: str | tuple, **_: object
          ) -> None:
    """One entry in one facet: a curve with its Wilson band, or a dashed ceiling for an upper bound."""
    ax = plt.gca()
    if data["upper_bound"].iloc[0]:
        best = data.loc[data["rate"].idxmax()]
        ax.axhline(100 * best["rate"], color=color, linestyle=(0, (5, 3)), linewidth=1.4, label=label)
        ax.axhspan(100 * best["low"], 100 * best["high"], color=color, alpha=0.08, linewidth=0)
        return
    data = data.sort_values("x")
    ax.fill_between(data["x"], 100 * data["low"], 100 * data["high"], color=color, alpha=0.08, linewidth=0)
    ax.plot(data["x"], 100 * data["rate"], color=color, marker=marker, linestyle=linestyle, linewidth=1.5,
            markersize=5, label=label)


def _budget_ticks(ax: plt.Axes, budgets: list[float]) -> None:
    """Ticks (and faint vertical lines) at the budget values; the measured points fall beside them."""
    for value in budgets:
        ax.axvline(value, color="0.6", linewidth=0.7, linestyle=":", zorder=0)
    ax.set_xticks(budgets, [f"{v:g}" for v in budgets])
    ax.minorticks_off()


def plot_overview(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``out_dir/overview.{png,pdf,svg}`` from ``summary``; returns the paths (none for no rows)."""
    figure = overview_figure(summary)
    if figure is None:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = save_figure(figure, out_dir / "overview", FORMATS)
    plt.close(figure)
    return paths


def overview_figure(summary: pd.DataFrame) -> Figure | None:
    """The overview of ``summary`` as a (pyplot-managed) figure; None when there is nothing to draw."""
    frame = overview_frame(summary)
    if frame.empty:
        return None
    labels = frame.drop_duplicates("entry").set_index("entry")["label"]
    styles = entry_styles(labels.index)
    order = list(styles)
    hue_order = [labels[e] for e in order]
    present = set(frame["panel"])
    panels = [p for p in (f"{f} · {c}" for f in sorted(frame["facet"].unique()) for c in CURRENCIES)
              if p in present]
    with sns.axes_style("whitegrid"), sns.plotting_context("paper", font_scale=1.1):
        envs = sorted(frame["env"].unique())
        grid = sns.FacetGrid(
            frame, row="env", col="panel", col_order=panels, row_order=envs, hue="label", hue_order=hue_order,
            palette=[styles[e].color for e in order], sharex=False, sharey=True, height=2.5, aspect=1.3,
            margin_titles=True, despine=False,
            hue_kws={"marker": [styles[e].marker for e in order],
                     "linestyle": [styles[e].linestyle for e in order]})
        grid.map_dataframe(_draw)
        grid.set(xscale="log", ylim=(-3, 103))
        grid.set_titles(row_template="{row_name}", col_template="{col_name}")
        for (env, panel), ax in grid.axes_dict.items():
            ax.xaxis.set_minor_formatter(NullFormatter())  # narrow log ranges would label minor ticks too
            _, xlabel, kind = CURRENCIES[panel.rsplit(" · ", 1)[1]]
            shown = frame[(frame["env"] == env) & (frame["panel"] == panel) & (frame["budget_kind"] == kind)]
            budgets = sorted(shown["budget_value"].unique())
            if budgets:
                _budget_ticks(ax, budgets)
            ax.set_xlabel(xlabel if env == envs[-1] else "")
        grid.set_ylabels("success [%]")
        grid.add_legend(title="", label_order=hue_order)
        sns.move_legend(grid, "lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, title=None,
                        ncol=len(order) if len(order) <= 6 else (len(order) + 1) // 2)
    return grid.figure
