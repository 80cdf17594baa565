"""Figures of the supervised task: a confusion matrix, and test error against depth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import common

plt = common.plt


def plot_confusion(matrix: np.ndarray, path: str | Path, title: str) -> Path:
    """A confusion matrix (rows: true class, columns: predicted; counts), each cell's count
    written in it, the diagonal's share in the title's second line."""
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    # log scale of counts + 1: the diagonal's thousands and the few errors both readable
    im = ax.imshow(np.log10(matrix + 1), cmap="Blues")
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                dark = np.log10(matrix[i, j] + 1) > 0.6 * np.log10(matrix.max() + 1)
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted class", ylabel="true class")
    error = 1 - np.trace(matrix) / matrix.sum()
    ax.set_title(f"{title}\ntest error {100 * error:.2f} % of {matrix.sum():,} images",
                 fontsize=10)
    fig.colorbar(im, ax=ax, label="log10(count + 1)")
    fig.tight_layout()
    return common.save(fig, path)


def plot_error_against_depth(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Test error (%) against the number of hidden layers, one line per learner (``rows``:
    ``learner``, ``depth``, ``test_error``), single-depth learners as points; where a
    learner's rows name their hidden units (``setting["units"]``, softplus if not named),
    each point is labelled with them."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    markers = "osD^v"
    for k, learner in enumerate(sorted({r["learner"] for r in rows})):
        mine = sorted((r for r in rows if r["learner"] == learner), key=lambda r: r["depth"])
        line, = ax.plot([r["depth"] for r in mine], [100 * r["test_error"] for r in mine],
                        marker=markers[k % len(markers)], mfc="none",
                        label=learner.replace("_", "-"))
        if any("units" in r.get("setting", {}) for r in mine):
            for r in mine:
                ax.annotate(f"{r['setting'].get('units', 'softplus')} units",
                            (r["depth"], 100 * r["test_error"]), xytext=(0, 7),
                            textcoords="offset points", ha="center", fontsize=7,
                            color=line.get_color())
    # log scale: learners a fraction of a point apart and one near chance both readable
    ax.set_yscale("log")
    errors = [100 * r["test_error"] for r in rows]
    low, high = 0.85 * min(errors), 1.3 * max(errors)
    ticks = [t for t in (1, 1.5, 2, 2.5, 3, 4, 5, 7, 10, 15, 20, 30, 50, 70, 100)
             if low <= t <= high]
    ax.set_ylim(low, high)
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.grid(True, axis="y", alpha=0.3)
    ax.set(xlabel="hidden layers", ylabel="test error (%, 10,000 MNIST test images, log scale)",
           xticks=sorted({r["depth"] for r in rows}),
           title="Classifying MNIST from 20,000 training images")
    common.legend_below(ax, ncol=2)
    fig.tight_layout()
    return common.save(fig, path)
