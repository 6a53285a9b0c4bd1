"""One look per entry in every figure (colour, marker, line style) and byte-reproducible figure files.

Colours are the colour-blind-safe Okabe-Ito hues; each entry also has its own marker, and sampling planners
are drawn dashed, so curves stay apart in grey-scale print too. The Oracle (an upper bound) is grey.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from wmbench.harness.entries import ENTRIES
from wmbench.io import atomic_write

SOLID, DASHED, DASHDOT = "-", (0, (4, 1.5)), "-."


@dataclass(frozen=True)
class EntryStyle:
    """How an entry's curve looks: matplotlib colour, marker and line style."""

    color: str
    marker: str
    linestyle: str | tuple


#: The named entries: gradient-based planners solid, sampling planners dashed, the hybrid dash-dotted.
NAMED_STYLES: dict[str, EntryStyle] = {
    "GBP": EntryStyle("#0072B2", "o", SOLID),
    "GBP+OWM": EntryStyle("#009E73", "s", SOLID),
    "GBP+AWM": EntryStyle("#CC79A7", "D", SOLID),
    "CEM": EntryStyle("#D55E00", "^", DASHED),
    "MPPI": EntryStyle("#E69F00", "v", DASHED),
    "GD": EntryStyle("#56B4E9", "P", SOLID),
    "iCEM": EntryStyle("#000000", "X", DASHED),
    "GBP-CEM": EntryStyle("#8C564B", "*", DASHDOT),
    "Oracle": EntryStyle("#7F7F7F", "", DASHED),
}
#: Looks for any other entry (plugins, NAME@variant, NAME(args)), handed out in name order.
EXTRA_COLORS = ("#332288", "#117733", "#882255", "#44AA99", "#999933", "#AA4499", "#661100", "#6699CC")
EXTRA_MARKERS = ("h", "p", "<", ">", "d", "8", "H", "o")


def entry_styles(entries: Iterable[str]) -> dict[str, EntryStyle]:
    """The style of each entry: fixed for the named entries, deterministic by name for the others."""
    names = sorted(set(entries), key=lambda e: (list(ENTRIES).index(e) if e in ENTRIES else len(ENTRIES), e))
    styles, k = {}, 0
    for name in names:
        if name in NAMED_STYLES:
            styles[name] = NAMED_STYLES[name]
        else:
            styles[name] = EntryStyle(EXTRA_COLORS[k % len(EXTRA_COLORS)],
                                      EXTRA_MARKERS[k % len(EXTRA_MARKERS)], SOLID if k % 2 == 0 else DASHED)
            k += 1
    return styles


#: rcParams that make SVG ids reproducible (matplotlib salts them randomly otherwise).
DETERMINISTIC_RC = {"svg.hashsalt": "wmbench", "svg.fonttype": "path", "pdf.fonttype": 42}
_METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
             "svg": {"Creator": None, "Date": None}}


def save_figure(fig: Figure, stem: Path, formats: Iterable[str] = ("png",), dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``stem.FORMAT`` per format (atomically) without timestamps or software versions, so the
    same data give the same bytes; returns the paths."""
    paths = []
    with mpl.rc_context(DETERMINISTIC_RC):
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            atomic_write(path, lambda fh, fmt=fmt: fig.savefig(fh, format=fmt, dpi=dpi,
                                                               metadata=_METADATA[fmt], bbox_inches="tight"))
            paths.append(path)
    return paths
