"""The MNIST figures of the rate model: digit grids (Figure 3), log p(x, h) along INFERENCE
(Figure 4), in-painting (Figure 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import common
from .common import plt


def _tile(images: np.ndarray, n_cols: int) -> np.ndarray:
    """(n, 784) images -> one (rows·28, n_cols·28) mosaic; empty cells are black (0)."""
    n = images.shape[0]
    n_rows = -(-n // n_cols)
    padded = np.zeros((n_rows * n_cols, common.IMAGE_SIDE * common.IMAGE_SIDE), dtype=np.float32)
    padded[:n] = images
    grid = padded.reshape(n_rows, n_cols, common.IMAGE_SIDE, common.IMAGE_SIDE)
    side = common.IMAGE_SIDE
    return grid.transpose(0, 2, 1, 3).reshape(n_rows * side, n_cols * side)


def plot_digit_grid(images: np.ndarray, path: str | Path, *, n_cols: int = 10,
                    title: str = "") -> Path:
    """Mosaic of (n, 784) images in [0, 1], ``n_cols`` per row."""
    mosaic = _tile(np.asarray(images, np.float32), n_cols)
    fig, ax = plt.subplots(figsize=(0.6 * mosaic.shape[1] / common.IMAGE_SIDE + 0.4,
                                    0.6 * mosaic.shape[0] / common.IMAGE_SIDE + 0.6))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return common.save(fig, path)


def plot_inference_loglik(results: dict[str, Any], path: str | Path) -> Path:
    """log p(x, h) against INFERENCE iteration: mean ± s.e., individual traces and the
    change per iteration.

    ``results`` holds ``curves`` (each ``alpha``, ``prior_alpha``, ``mean``, ``sem``: one
    value per iteration, index 0 = feed-forward start; the first is the chosen setting),
    ``traces`` (a few test images under the first setting) and ``n_images``.  Results of
    older runs with a single ``mean``/``sem`` are drawn as one curve.
    """
    curves = results.get("curves") or [{"alpha": 0.001, "prior_alpha": 0.0,
                                          "mean": results["mean"], "sem": results["sem"]}]
    steps = np.arange(len(curves[0]["mean"]))
    fig, (ax_mean, ax_ind, ax_step) = plt.subplots(1, 3, figsize=(14, 3.8))
    styles = ("o-", "s--", "^:", "d-.")  # curves that coincide stay visible
    for k, c in enumerate(curves):
        m, s = np.asarray(c["mean"]), np.asarray(c["sem"])
        label = f"α = {c['alpha']:g}" + (f", prior term β = {c['prior_alpha']:g}"
                                         if c["prior_alpha"] else ", Algorithm 2")
        color, style = f"C{k}", styles[k % len(styles)]
        ax_mean.fill_between(steps, m - s, m + s, color=color, alpha=0.25, lw=0)
        # hollow markers shrinking with k, thinner lines: a curve on top of an earlier one
        # leaves the earlier one's rings and line showing around it
        look = dict(color=color, ms=max(2.5, 7 - 2 * k), lw=max(0.8, 2.2 - 0.6 * k),
                    mfc="none", zorder=2 + k)
        ax_mean.plot(steps, m, style, label=label, **look)
        ax_step.plot(steps[1:], np.diff(m), style, label=label, **look)
    ax_mean.set(xlabel="INFERENCE iteration", ylabel="log p(x, h) (nats)",
                title=f"a  mean ± s.e. over {results['n_images']} test images")
    ax_mean.legend(fontsize=7, loc="best")
    for trace in results["traces"]:
        trace = np.asarray(trace)
        ax_ind.plot(steps, trace - trace[0], lw=0.8, alpha=0.7)
    ax_ind.axhline(0, color="k", lw=0.5)
    first = curves[0]
    setting = f"α = {first['alpha']:g}" + (f", prior term β = {first['prior_alpha']:g}"
                                           if first["prior_alpha"] else ", Algorithm 2")
    ax_ind.set(xlabel="INFERENCE iteration", ylabel="log p(x, h) − start (nats)",
               title=f"b  {len(results['traces'])} test images, {setting}")
    ax_ind.legend(handles=[plt.Line2D([], [], color="0.5", lw=0.8,
                                      label="one test image per line (colours: images)")],
                  fontsize=7, loc="upper left")
    ax_step.axhline(0, color="k", lw=0.8)
    ax_step.set(xlabel="INFERENCE iteration", ylabel="change of the mean per iteration (nats)",
                title="c  above 0: log p rises at that iteration")
    for ax in (ax_mean, ax_ind, ax_step):
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_xlim(-0.5, steps[-1] + 0.5)
    if results.get("model"):
        fig.suptitle(f"log p(x, h) along INFERENCE, model {results['model']}", fontsize=10)
    fig.tight_layout()
    return common.save(fig, path)


def _outline_hidden(ax: plt.Axes, hidden: np.ndarray, n: int) -> None:
    """A dashed outline around the hidden pixels (a (784,) bool mask, one half of the
    image) of each of ``n`` tiles in a row."""
    from matplotlib.patches import Rectangle

    rows, cols = np.nonzero(np.asarray(hidden, bool).reshape(common.IMAGE_SIDE, common.IMAGE_SIDE))
    for k in range(n):
        ax.add_patch(Rectangle((k * common.IMAGE_SIDE + cols.min() - 0.5, rows.min() - 0.5),
                               cols.max() - cols.min() + 1, rows.max() - rows.min() + 1,
                               fill=False, ec="C1", lw=0.8, ls="--"))


def plot_inpainting(original: np.ndarray, corrupted: np.ndarray, filled: np.ndarray,
                    path: str | Path, *, title: str = "", hidden: np.ndarray | None = None,
                    model: str = "", errors: dict[str, float] | None = None) -> Path:
    """Three rows of (n, 784) images: original, corrupted (the start of in-painting),
    filled by inference.

    ``hidden``: the (784,) bool mask of the hidden pixels, outlined (dashed) in the start
    and filled rows, and each filled image's squared error per hidden pixel written under
    it.  ``model`` (the model file) and ``errors`` (name: squared error per hidden pixel,
    over all the images in-painted) go under the title, which is wrapped to the grid's
    width.
    """
    rows = [("original", original), ("start", corrupted), ("filled", filled)]
    n = original.shape[0]
    width = 0.62 * n + 1.2
    fig, axes = plt.subplots(3, 1, figsize=(width, 2.6))
    for ax, (name, imgs) in zip(axes, rows):
        ax.imshow(_tile(np.asarray(imgs, np.float32), n), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        if hidden is not None and name != "original":
            _outline_hidden(ax, hidden, n)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    if hidden is not None:
        h = np.asarray(hidden, bool)
        each = np.mean((np.asarray(filled)[:, h] - np.asarray(original)[:, h]) ** 2, axis=1)
        axes[2].set_xticks((np.arange(n) + 0.5) * common.IMAGE_SIDE - 0.5,
                           [f"{e:.3f}" for e in each], fontsize=6)
        axes[2].tick_params(axis="x", length=0)
        axes[2].set_xlabel("squared error per hidden pixel (hidden part: dashed)", fontsize=7)
    lines = [title] if title else []
    if model:
        lines.append(f"model {model}")
    if errors:
        lines.append("squared error per hidden pixel, all images: " + "; ".join(
            f"{name}\u00a0{value:.4f}" for name, value in errors.items()))
    if lines:
        axes[0].set_title("\n".join(common.wrapped(line, width - 1.2, 8) for line in lines),
                          fontsize=8)
    fig.subplots_adjust(hspace=0.05)
    return common.save(fig, path)
