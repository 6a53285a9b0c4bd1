"""Reports regenerated from results Parquet only: success-vs-budget plots, leaderboard.md, and for the rows of
``wmbench reproduce table1|budget`` its ``TABLE1.md`` / ``BUDGET.md`` (both, and ``CLAIMS.md``, the paper's
claims judged with the models as replicates, for a ``wmbench run`` whose rows hold Table 1's cells, as
``full``'s do; ``wmbench reproduce scaling``'s folders together:
``SCALING.md`` and its figure). Every file is written atomically
([`wmbench.io.atomic_path`][wmbench.io.atomic_path]): a failed report leaves the previous files whole."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from wmbench.harness import manifest
from wmbench.harness.schema import read_results
from wmbench.io import atomic_write_text
from wmbench.report.claims import claims_markdown
from wmbench.report.integrity import check
from wmbench.report.leaderboard import REFERENCE, render
from wmbench.report.overview import plot_overview
from wmbench.report.plots import plot_curves
from wmbench.report.scaling import is_scaling, plot_scaling, scaling_markdown
from wmbench.report.stats import GROUP, summarise
from wmbench.report.table1 import budget_claim, budget_claim_markdown, table1_markdown

#: ``wmbench reproduce WHAT`` -> (summary file, title, markdown body from the rows).
REPRODUCTIONS = {
    "table1": ("TABLE1.md", "Table 1", table1_markdown),
    "budget": ("BUDGET.md", "Time-budget claim", lambda rows: budget_claim_markdown(budget_claim(rows))),
}
#: The summaries of a ``wmbench run`` whose rows hold Table 1's cells.
RUN_SUMMARIES = {**REPRODUCTIONS, "claims": ("CLAIMS.md", "The paper's claims", claims_markdown)}


def report(results_dir: str | Path | Sequence[str | Path], out_dir: str | Path | None = None,
           command: str | None = None, plots_dir: str | Path | None = None, reference: str | None = None,
           summaries: bool = True) -> Path:
    """Write ``out_dir/leaderboard.md`` and the figures (``plots_dir``, default ``out_dir/plots``) from the
    Parquet parts in ``results_dir`` (one folder, or several: e.g. the committed reference results and a
    submission's, whose rows then share the tables where they may be paired,
    `wmbench.report.cohorts`); returns the markdown path. When every row came from one
    ``wmbench reproduce table1|budget`` command, its summary (``TABLE1.md`` / ``BUDGET.md``) is written too
    (`_write_reproduction`), unless ``summaries`` is false.

    The rows are checked first (`wmbench.report.integrity.check`: duplicates counted once, inconsistent
    curves refused). ``reference`` is the entry the others are compared with (default ``CEM``; a name given
    explicitly must have rows). ``out_dir`` defaults to ``results_dir`` (it must be given for several
    folders); ``command`` (shown in the file as the way to regenerate it) defaults to
    ``wmbench report RESULTS_DIR... [--out OUT_DIR] [--reference NAME]``.

    Units of the folder's sweep manifests without results or with error rows
    (`wmbench.harness.manifest.check`) are counted in a warning line and at the top of the leaderboard.
    """
    dirs = [Path(results_dir)] if isinstance(results_dir, str | Path) else [Path(d) for d in results_dir]
    if out_dir is None and len(dirs) > 1:
        raise ValueError("a report of several results folders needs --out (where leaderboard.md goes)")
    where = " + ".join(map(str, dirs))
    frames = [read_results(d) for d in dirs]
    if len(dirs) > 1 and all(map(is_scaling, frames)):
        return _report_scaling(dirs, frames, Path(out_dir), command, plots_dir)
    checked = check(pd.concat(frames, ignore_index=True), where=where)
    if reference is not None and not (checked.rows["entry"] == reference).any():
        entries = ", ".join(sorted(checked.rows["entry"].unique()))
        raise ValueError(f"reference entry {reference!r} has no rows in {where} (entries: {entries}); "
                         "pass one of these as --reference")
    out_dir = Path(out_dir) if out_dir is not None else dirs[0]
    plots_dir = Path(plots_dir) if plots_dir is not None else out_dir / "plots"
    if command is None:
        command = f"wmbench report {' '.join(map(str, dirs))}"
        if out_dir != dirs[0]:
            command += f" --out {out_dir}"
        if reference is not None:
            command += f" --reference {reference}"
    levels_pooled = summarise(checked.rows, by=[c for c in GROUP if c != "level"])
    plots = {key: [Path(os.path.relpath(p, out_dir)).as_posix() for p in paths]
             for key, paths in plot_curves(levels_pooled, plots_dir).items()}
    overview = [Path(os.path.relpath(p, out_dir)).as_posix() for p in plot_overview(levels_pooled, plots_dir)]
    path = out_dir / "leaderboard.md"
    png = next((p for p in overview if p.endswith(".png")), None)
    text = render(checked, plots, command, reference or REFERENCE, overview=png)
    for folder in dirs:
        incomplete = manifest.check(folder).summary(folder)
        if incomplete:
            print(f"wmbench report: warning: {incomplete}", file=sys.stderr)
            title = "\n# wmbench leaderboard\n"
            text = text.replace(title, f"{title}\n> **Incomplete:** {incomplete}\n", 1)
    atomic_write_text(path, text)
    if summaries:
        _write_reproduction(checked.rows, out_dir, command)
    return path


def _report_scaling(dirs: list[Path], frames: list[pd.DataFrame], out_dir: Path, command: str | None,
                    plots_dir: str | Path | None) -> Path:
    """``out_dir/SCALING.md`` and ``scaling.png`` from the folders of ``wmbench reproduce scaling`` (one per
    dataset size and the Oracle's), each checked on its own: a curve never pools two dataset sizes."""
    rows = pd.concat([check(frame, where=str(d)).rows for d, frame in zip(dirs, frames, strict=True)],
                     ignore_index=True)
    plots_dir = Path(plots_dir) if plots_dir is not None else out_dir / "plots"
    command = command or f"wmbench report {' '.join(map(str, dirs))} --out {out_dir}"
    figure = next(p for p in plot_scaling(rows, plots_dir) if p.suffix == ".png")
    runs = " ".join(f"`{c}`" for c in sorted(rows["command"].unique()))
    path = out_dir / "SCALING.md"
    atomic_write_text(path, f"# Data scaling on this machine\n\nRuns: {runs} (rerunning it resumes). This "
                      f"file and its figure: `{command}`. Each size's curves, paired comparisons and "
                      f"leaderboard: `leaderboard.md` in its folder.\n\n"
                      f"![success vs training episodes]({Path(os.path.relpath(figure, out_dir)).as_posix()})"
                      f"\n\n{scaling_markdown(rows)}")
    return path


def _write_reproduction(rows: pd.DataFrame, out_dir: Path, command: str) -> list[Path]:
    """``TABLE1.md`` / ``BUDGET.md`` when all ``rows`` share one ``wmbench reproduce WHAT`` command, both and
    ``CLAIMS.md`` when they share one ``wmbench run`` command and hold Table 1's GD cells."""
    commands = rows["command"].unique()
    words = str(commands[0]).split() if len(commands) == 1 else []
    if words[:2] == ["wmbench", "reproduce"] and len(words) > 2 and words[2] in REPRODUCTIONS:
        summaries = [words[2]]
    elif words[:2] == ["wmbench", "run"] and rows["entry"].str.partition("@")[0].eq("GD").any():
        summaries = list(RUN_SUMMARIES)
    else:
        return []
    paths = []
    for summary in summaries:
        name, title, body = RUN_SUMMARIES[summary]
        paths.append(out_dir / name)
        atomic_write_text(paths[-1], f"# {title} on this machine\n\nRuns: `{commands[0]}` (rerunning it "
                          f"resumes). This file, `leaderboard.md` and `plots/`: `{command}`. Curves, paired "
                          f"comparisons and the Oracle ceiling: `leaderboard.md`.\n\n{body(rows)}")
    return paths
