"""Reports regenerated from results Parquet only: success-vs-budget plots and leaderboard.md."""

from __future__ import annotations

import os
from pathlib import Path

from wmbench.harness.schema import read_results
from wmbench.report.leaderboard import render
from wmbench.report.overview import plot_overview
from wmbench.report.plots import plot_curves
from wmbench.report.stats import summarise


def report(results_dir: str | Path, out_dir: str | Path | None = None, command: str | None = None,
           plots_dir: str | Path | None = None) -> Path:
    """Write ``out_dir/leaderboard.md`` and the figures (``plots_dir``, default ``out_dir/plots``) from the
    Parquet parts in ``results_dir``; returns the markdown path.

    ``out_dir`` defaults to ``results_dir``; ``command`` (shown in the file as the way to regenerate it)
    defaults to ``wmbench report RESULTS_DIR [--out OUT_DIR]``.
    """
    results = read_results(results_dir)
    out_dir = Path(out_dir) if out_dir is not None else Path(results_dir)
    plots_dir = Path(plots_dir) if plots_dir is not None else out_dir / "plots"
    if command is None:
        command = f"wmbench report {results_dir}"
        if out_dir != Path(results_dir):
            command += f" --out {out_dir}"
    summary = summarise(results)
    plots = {key: [Path(os.path.relpath(p, out_dir)).as_posix() for p in paths]
             for key, paths in plot_curves(summary, plots_dir).items()}
    plot_overview(summary, plots_dir)
    path = out_dir / "leaderboard.md"
    path.write_text(render(results, summary, plots, command))
    return path
