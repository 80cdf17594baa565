"""What the figures share: the matplotlib back-end (Agg: files, no screen), the atomic save,
legends below the axes, evenly spaced picks, title wrapping, the MNIST image side."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..runs import atomic_write  # noqa: E402


def save(fig: plt.Figure, path: str | Path) -> Path:
    try:
        with atomic_write(path, Path(path).suffix) as tmp:
            fig.savefig(tmp, dpi=130, bbox_inches="tight")
    finally:
        plt.close(fig)
    return Path(path)


def legend_below(ax: plt.Axes, ncol: int = 2) -> None:
    """The legend under the axes, outside the data."""
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol,
              frameon=False)


def evenly_spaced(k: int, m: int) -> np.ndarray:
    """Indices of at most ``m`` of ``k`` items, evenly spaced from the first to the last."""
    return np.unique(np.linspace(0, k - 1, min(k, m)).astype(int))


def wrapped(text: str, width_in: float, fontsize: float) -> str:
    """``text`` broken into lines about ``width_in`` inches wide at ``fontsize`` points."""
    import textwrap

    return "\n".join(textwrap.wrap(text, max(20, int(width_in * 144 / fontsize)),
                                   break_on_hyphens=False))


IMAGE_SIDE = 28
"""MNIST images are 28 × 28 pixels."""
