"""mkdocs hook: before each build, draw the guides' overview picture from the committed results.

``docs/assets/overview-quick.png`` is the report's overview figure of ``results/quick`` (the same bytes as
``results/quick/plots/overview.png``); ``tests/test_docs.py`` checks that the committed picture is what the
committed Parquet draws. The file is rewritten only when its bytes change.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from wmbench.harness.schema import read_results
from wmbench.report.integrity import check
from wmbench.report.overview import overview_figure
from wmbench.report.stats import GROUP, summarise
from wmbench.report.styles import save_figure

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "quick"
PICTURE = ROOT / "docs" / "assets" / "overview-quick.png"


def overview_png(results: Path = RESULTS) -> bytes:
    """The overview figure of the results folder ``results`` as PNG bytes, levels pooled as in the report."""
    rows = check(read_results(results), where=str(results)).rows
    figure = overview_figure(summarise(rows, by=[c for c in GROUP if c != "level"]))
    with tempfile.TemporaryDirectory() as tmp:
        [path] = save_figure(figure, Path(tmp) / "overview", ("png",))
        plt.close(figure)
        return path.read_bytes()


def on_pre_build(config: object, **_: object) -> None:
    """Redraw ``docs/assets/overview-quick.png`` when the committed results draw something else."""
    drawn = overview_png()
    if not PICTURE.is_file() or PICTURE.read_bytes() != drawn:
        PICTURE.write_bytes(drawn)
