"""Success rate vs planning budget curves (95% Wilson bands), one figure per env, control mode and currency.

Figures are drawn on bare ``matplotlib.figure.Figure`` objects (Agg rendering, no pyplot global state).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from wmbench.io import atomic_write
from wmbench.report.stats import budget_seconds
from wmbench.report.styles import entry_styles

#: currency -> (x column, axis label).
CURRENCIES = {
    "seconds": ("x_seconds", "planning time per plan call [s]"),
    "evals": ("evals_per_call", "model evaluations per episode per plan call (forward + backward, measured)"),
}


def entry_order(summary: pd.DataFrame) -> list[str]:
    """Entries ranked by success at their largest budget (then by name); upper bounds last."""
    last = summary.sort_values("budget_value").groupby("entry").tail(1)
    last = last.assign(neg=-last["rate"]).sort_values(["upper_bound", "neg", "entry"])
    return list(last["entry"])


def plot_curves(summary: pd.DataFrame, out_dir: Path) -> dict[tuple[str, str, str], list[Path]]:
    """Write ``{env}_{mode}_{budget kind}_{currency}.png`` per group of ``summary``.

    Returns the figure paths per (env, mode, budget kind)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summary.assign(x_seconds=budget_seconds(summary))
    sns.set_theme(style="whitegrid", context="paper")
    styles = entry_styles(summary["entry"])  # one look per entry in every figure
    paths: dict[tuple[str, str, str], list[Path]] = {}
    for (env, mode, kind), group in summary.groupby(["env", "mode", "budget_kind"], sort=True):
        order = entry_order(group)
        for currency, (xcol, label) in CURRENCIES.items():
            fig = Figure(figsize=(6, 4))
            ax = fig.subplots()
            for entry in order:
                rows = group[group["entry"] == entry].dropna(subset=[xcol]).sort_values(xcol)
                if rows.empty:
                    continue
                bound = bool(rows["upper_bound"].iloc[0])
                look = styles[entry]
                style = {"color": "0.4", "linestyle": "--", "marker": "o"} if bound else \
                    {"color": look.color, "linestyle": look.linestyle, "marker": look.marker}
                name = f"{entry} (upper bound)" if bound else entry
                ax.plot(rows[xcol], 100 * rows["rate"], label=name, **style)
                ax.fill_between(rows[xcol], 100 * rows["low"], 100 * rows["high"], alpha=0.15,
                                color=style["color"], linewidth=0)
            ax.set_xscale("log")
            measured = currency == "evals" or kind != "seconds"
            ax.set_xlabel(label + (" (measured)" if measured and currency == "seconds" else " (budget)"
                                   if currency == "seconds" else ""))
            ax.set_ylabel("success rate [%] (95% Wilson interval)")
            ax.set_ylim(-2, 102)
            ax.set_title(f"{env}, {mode}, {kind} budgets")
            ax.legend(fontsize="small")
            fig.tight_layout()
            path = out_dir / re.sub(r"[^A-Za-z0-9._+-]", "_", f"{env}_{mode}_{kind}_{currency}.png")
            atomic_write(path, lambda fh, fig=fig: fig.savefig(fh, format="png", dpi=120,
                                                               metadata={"Software": None}))
            paths.setdefault((env, mode, kind), []).append(path)
    return paths
