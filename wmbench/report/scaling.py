"""The data-scaling study's report (``wmbench reproduce scaling``): success against training-set size.

Its results are one folder per dataset size plus one for the Oracle (a world model of another size is another
curve, so the folders are checked one by one and never pooled); `scaling_markdown` tables each entry's
success per size and level beside the Oracle's ceiling, with the paired differences the paper claims
(GBP vs CEM, GBP+OWM and GBP+AWM vs GBP), and names the headline size: the smallest whose CEM success is
within `HEADLINE_POINTS` of the largest size's. `plot_scaling` draws the curves.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from wmbench.report.paired import align, paired_difference
from wmbench.report.stats import summarise
from wmbench.report.styles import entry_styles, save_figure

#: The command whose rows this report reads.
COMMAND = "wmbench reproduce scaling"
#: (first, second) entries compared episode by episode at every size.
COMPARISONS = (("GBP", "CEM"), ("GBP+OWM", "GBP"), ("GBP+AWM", "GBP"))
#: The headline size is the smallest whose CEM success (levels pooled) is within this many points of the
#: largest size's.
HEADLINE_POINTS = 5.0
_BY = ["env", "mode", "level", "entry", "upper_bound", "dataset_size", "dataset_episodes"]


def is_scaling(rows: pd.DataFrame) -> bool:
    """Whether every row came from ``wmbench reproduce scaling``."""
    return bool(len(rows)) and rows["command"].str.startswith(COMMAND + " ").all()


def _rate(row: pd.Series) -> str:
    return f"{100 * row['rate']:.0f}% [{100 * row['low']:.0f}, {100 * row['high']:.0f}]"


def _sizes(models: pd.DataFrame) -> list[tuple[str, int]]:
    """(size, episodes) of the world models, smallest first."""
    pairs = models[["dataset_size", "dataset_episodes"]].drop_duplicates()
    return sorted(((str(s), int(e)) for s, e in pairs.itertuples(index=False)), key=lambda p: p[1])


def headline_size(models: pd.DataFrame) -> tuple[str, int] | None:
    """The smallest (size, episodes) whose CEM success, levels pooled, is within `HEADLINE_POINTS` of the
    largest size's (None without CEM rows)."""
    cem = models[models["entry"] == "CEM"]
    if cem.empty:
        return None
    rates = cem.groupby("dataset_episodes")["success"].mean() * 100
    best = rates.loc[rates.index.max()]
    size = int(rates.index[rates >= best - HEADLINE_POINTS].min())
    return str(cem.loc[cem["dataset_episodes"] == size, "dataset_size"].iloc[0]), size


def scaling_markdown(rows: pd.DataFrame) -> str:
    """Per env and level: each entry's success per dataset size, the Oracle's ceiling, the paired
    differences of `COMPARISONS` and the headline size."""
    lines = []
    summary = summarise(rows, by=_BY)
    for env, env_rows in rows.groupby("env", sort=True):
        models = env_rows[~env_rows["upper_bound"]]
        sizes = _sizes(models)
        lines += [f"## {env}", ""]
        head = headline_size(models)
        if head is not None:
            lines += [f"Headline dataset size: **{head[0]}** ({head[1]} episodes), the smallest whose CEM "
                      f"success (levels pooled) is within {HEADLINE_POINTS:.0f} points of the largest "
                      "size's.", ""]
        cells = summary[summary["env"] == env].groupby(["mode", "level"], sort=False)
        for (mode, level), cell in sorted(cells, key=lambda c: (c[0][0], c[0][1] != "near", c[0][1])):
            lines += [f"### {mode}, level {level or 'all'}", "",
                      "| entry | " + " | ".join(f"{s} ({e} episodes)" for s, e in sizes) + " |",
                      "|---|" + "---|" * len(sizes)]
            for entry, group in cell.groupby("entry", sort=False):
                by_size = {int(r["dataset_episodes"]): r for _, r in group.iterrows()}
                if bool(group["upper_bound"].iloc[0]):
                    row = group.iloc[0]
                    lines.append(f"| {entry} (simulator, ceiling) | " + " | ".join(
                        [f"{_rate(row)} (n={int(row['n'])})"] * len(sizes)) + " |")
                    continue
                lines.append(f"| {entry} | " + " | ".join(
                    f"{_rate(by_size[e])} (n={int(by_size[e]['n'])})" if e in by_size else "—"
                    for _, e in sizes) + " |")
            here = models[(models["mode"] == mode) & (models["level"] == level)]
            lines += ["", *_comparisons(here, sizes), ""]
    return "\n".join(lines).rstrip() + "\n"


def _comparisons(rows: pd.DataFrame, sizes: list[tuple[str, int]]) -> list[str]:
    """Paired differences (points, 95% Newcombe interval, exact McNemar p) of `COMPARISONS` per size."""
    out = ["| paired difference | " + " | ".join(s for s, _ in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for first, second in COMPARISONS:
        cells = []
        for _, episodes in sizes:
            here = rows[rows["dataset_episodes"] == episodes]
            pair = align(here[here["entry"] == first], here[here["entry"] == second])
            if pair is None:
                cells.append("—")
                continue
            d = paired_difference(*pair)
            cells.append(f"{100 * d.difference:+.0f} [{100 * d.low:+.0f}, {100 * d.high:+.0f}], "
                         f"p={d.p_value:.2g} (n={d.n})")
        out.append(f"| {first} − {second} | " + " | ".join(cells) + " |")
    return out


def plot_scaling(rows: pd.DataFrame, plots_dir: Path) -> list[Path]:
    """``scaling.png``: success vs training episodes (log axis) per env, mode and level, 95% Wilson
    intervals, the Oracle as a dashed line over its interval."""
    summary = summarise(rows, by=_BY)
    styles = entry_styles(summary["entry"])
    panels = sorted(summary[["env", "mode", "level"]].drop_duplicates().itertuples(index=False),
                    key=lambda p: (p.env, p.mode, p.level != "near", p.level))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (env, mode, level) in zip(axes[0], panels, strict=True):
        cell = summary[(summary["env"] == env) & (summary["mode"] == mode) & (summary["level"] == level)]
        models = cell[~cell["upper_bound"]]
        for entry, group in models.groupby("entry", sort=False):
            group = group.sort_values("dataset_episodes")
            x = group["dataset_episodes"]
            ax.errorbar(x, 100 * group["rate"], yerr=[100 * (group["rate"] - group["low"]),
                                                      100 * (group["high"] - group["rate"])],
                        marker="o", capsize=3, label=entry, color=styles[entry].color)
        for _, row in cell[cell["upper_bound"]].iterrows():
            ax.axhline(100 * row["rate"], color="black", ls="--", lw=1, label=f"{row['entry']} (simulator)")
            ax.axhspan(100 * row["low"], 100 * row["high"], color="black", alpha=0.08)
        ax.set_xscale("log")
        ax.set_ylim(-2, 102)
        ax.set_title(f"{env} {mode}, {level or 'all'}")
        ax.set_xlabel("training episodes")
        ax.set_ylabel("success (%)")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    Path(plots_dir).mkdir(parents=True, exist_ok=True)
    paths = save_figure(fig, Path(plots_dir) / "scaling")
    plt.close(fig)
    return paths
