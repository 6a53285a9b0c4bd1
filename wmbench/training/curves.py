"""Learning curves: training loss and validation metric against the step, as a PNG beside the checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from wmbench.io import atomic_write


def curve_path(checkpoint: Path) -> Path:
    """``NAME.pt`` -> ``NAME.curve.png`` in the same directory."""
    return checkpoint.with_suffix(".curve.png")


def save_curve(path: Path, history: list[list[float]], title: str, metric_name: str) -> Path:
    """Plot ``history`` rows ``(step, mean training loss, validation value)`` on log axes; write atomically.

    The best validation value is marked. An empty history gives a figure that says so.
    """
    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    ax = fig.add_subplot()
    rows = np.asarray(history, dtype=np.float64).reshape(-1, 3)
    if len(rows):
        steps, train, val = rows.T
        ax.plot(steps, train, marker=".", label="train loss (mean since the previous evaluation)")
        ax.plot(steps, val, marker=".", label=metric_name)
        best = int(np.argmin(val))
        ax.plot(steps[best], val[best], "k*", markersize=10,
                label=f"best {val[best]:.3g} at step {steps[best]:.0f}")
        if np.all(rows[:, 1:][np.isfinite(rows[:, 1:])] > 0):
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no evaluations (no training steps)", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel("training step")
    ax.set_ylabel("MSE (latent space)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return atomic_write(Path(path), lambda fh: fig.savefig(fh, format="png", metadata={"Software": None}))
