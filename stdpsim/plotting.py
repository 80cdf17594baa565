"""Figures, drawn from saved results only (JSON dicts and spike files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .plasticity import classical_window  # noqa: E402
from .runs import atomic_write  # noqa: E402


def _save(fig: plt.Figure, path: str | Path) -> Path:
    try:
        with atomic_write(path, Path(path).suffix) as tmp:
            fig.savefig(tmp, dpi=130, bbox_inches="tight")
    finally:
        plt.close(fig)
    return Path(path)


def _window_line(ax: plt.Axes, fit: dict[str, float], t_min_ms: float = 0.3,
                 **kw: Any) -> None:
    """The exponential window of ``fit`` for t_min_ms ≤ |ΔT| ≤ 100 ms."""
    for sign, a, tau in ((1, fit["A_plus"], fit["tau_plus_ms"]),
                         (-1, fit["A_minus"], fit["tau_minus_ms"])):
        if np.isfinite(a) and np.isfinite(tau):
            x = sign * np.linspace(t_min_ms, 100, 300)
            ax.plot(x, classical_window(x, fit["A_plus"], fit["tau_plus_ms"],
                                        fit["A_minus"], fit["tau_minus_ms"]), **kw)
            kw.pop("label", None)


def _condition_panel(ax: plt.Axes, conditions: Sequence[dict[str, Any]], names: Sequence[str],
                     title: str) -> None:
    by_name = {c["name"]: c for c in conditions}
    # conditions often coincide: hollow markers of shrinking size, each its own shape, and
    # dash patterns, so that every series stays visible on top of the others
    for k, name in enumerate(names):
        c = by_name[name]
        f = c["fit"]
        label = (f"{name}: τ+ {f['tau_plus_ms']:.1f}, τ− {f['tau_minus_ms']:.1f} ms")
        t, w = np.asarray(c["delta_t_ms"]), np.asarray(c["delta_w_mv"])
        style = dict(marker="osD^v"[k % 5], ms=8 - 1.5 * k, mfc="none", mew=1.1,
                     lw=0.9, ls=("-", "--", ":", "-.")[k % 4], color=f"C{k}", zorder=2 + k)
        ax.plot(t[t < 0], w[t < 0], label=label, **style)
        ax.plot(t[t > 0], w[t > 0], **style)
    ax.axhline(0, color="0.6", lw=0.5)
    ax.axvline(0, color="0.6", lw=0.5)
    ax.set_xlim(-100, 100)
    ax.set_xlabel("mean ΔT = t_post − t_pre (ms)")
    ax.set_ylabel("mean ΔW (mV)")
    ax.set_title(title, fontsize=10)
    _legend_below(ax)


def _legend_below(ax: plt.Axes, ncol: int = 2) -> None:
    """The legend under the axes, outside the data."""
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol,
              frameon=False)


def plot_stdp_curve(results: dict[str, Any], path: str | Path) -> Path:
    """Figure 1: the S·dV/dt rule's ΔW against ΔT, its fits and sensitivity panels.

    ``results`` is the dict written to ``figures/fig1_stdp_curve.json``.
    """
    fig, axes = plt.subplots(2, 2, figsize=(11, 10.5))
    ax = axes[0, 0]
    sample = results.get("trials_sample")
    if sample:
        ax.plot(sample["delta_t_ms"], sample["delta_w_mv"], ".", color="0.8", ms=1.5,
                label="single trials (sample)", zorder=0)
    b = results["binned"]
    ax.errorbar(b["delta_t"], b["delta_w"], yerr=b["sem"], fmt="s", ms=3, color="0.4",
                lw=0.8, label=f"binned trials (mean ± s.e., {b['width_ms']:g} ms bins)")
    ax.plot(results["delta_t_ms"], results["delta_w"], "o", color="C0", ms=5, mfc="none",
            mew=1, label="per-slope average (the paper's figure)", zorder=3)
    fit = results["fit"]
    nearest = float(np.min(np.abs(results["delta_t_ms"])))  # the fit is drawn where data are
    _window_line(ax, fit, nearest, color="C3", lw=1.5, zorder=5,  # above the markers
                 label=f"fit: τ+ = {fit['tau_plus_ms']:.1f} ms, τ− = {fit['tau_minus_ms']:.1f} ms")
    bp = results["bi_poo"]
    _window_line(ax, {"A_plus": bp["A_plus_fitted_mv"], "tau_plus_ms": bp["tau_plus_ms"],
                      "A_minus": bp["A_minus_fitted_mv"], "tau_minus_ms": bp["tau_minus_ms"]},
                 nearest, color="k", ls="--", lw=1, zorder=4,
                 label=f"Bi & Poo window (τ+ {bp['tau_plus_ms']}, τ− {bp['tau_minus_ms']} ms; "
                       "amplitudes fitted)")
    ax.axhline(0, color="0.6", lw=0.5)
    ax.axvline(0, color="0.6", lw=0.5)
    ax.set_xlim(-100, 100)
    at_nearest = classical_window(np.array([-nearest, nearest]), fit["A_plus"],
                                  fit["tau_plus_ms"], fit["A_minus"], fit["tau_minus_ms"])
    lim = 1.15 * np.nanmax(np.abs(np.concatenate((results["delta_w"], at_nearest))))
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("ΔT = t_post − t_pre (ms)")
    ax.set_ylabel("ΔW = η·dV/dt (mV)")
    cfg = results["config"]
    ax.set_title(f"(a) ΔW ∝ S_pre·dV_post/dt, LIF, {results['n_trials_main']} trials, "
                 f"η = {cfg['eta_ms']} ms", fontsize=10)
    _legend_below(ax)

    conds = results["conditions"]
    main = conds[0]["name"]
    names = [c["name"] for c in conds]
    _condition_panel(axes[0, 1], conds, [main] + [n for n in names if n.startswith("noise")],
                     "(b) membrane noise σ (main: 0.5 mV)")
    _condition_panel(axes[1, 0], conds, [main] + [n for n in names if n.startswith("slopes")],
                     "(c) range of |dV/dt| sampled (main: 0.1–2 mV/ms)")
    _condition_panel(axes[1, 1], conds, [main] + [n for n in names if n.startswith("reset")],
                     "(d) reset depth (main: no reset, threshold-crossing read-out)")
    # one y-range for the three panels that compare conditions
    lim = 1.1 * max(np.max(np.abs(c["delta_w_mv"])) for c in conds)
    for ax in (axes[0, 1], axes[1, 0], axes[1, 1]):
        ax.set_ylim(-lim, lim)
    fig.suptitle("STDP from ΔW ∝ S·dV/dt (Bengio et al. 2015, Fig. 1), "
                 f"device {results['device']}", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def _evenly_spaced(k: int, m: int) -> np.ndarray:
    """Indices of at most ``m`` of ``k`` items, evenly spaced from the first to the last."""
    return np.unique(np.linspace(0, k - 1, min(k, m)).astype(int))


def _shown_rows(groups: Sequence[dict[str, Any]], start: int, stop: int,
                max_neurons: int) -> list[tuple[str, np.ndarray]]:
    """Display rows to draw, per group (its rows within ``start:stop``): an equal share of
    ``max_neurons`` for each group, evenly spaced through it."""
    parts = [(g["name"], max(start, g["start"]), min(stop, g["stop"])) for g in groups]
    parts = [(name, lo, hi) for name, lo, hi in parts if hi > lo]
    share = max(1, max_neurons // max(1, len(parts)))
    shown = []
    for name, lo, hi in parts:
        k = hi - lo
        picks = _evenly_spaced(k, share)
        shown.append((name, lo + picks))
    return shown


def _default_window(spikes: dict[str, Any], drawn: np.ndarray) -> tuple[float, float]:
    """The time window (ms) a raster shows by default: the whole run, unless its busiest
    drawn neuron would then fire more than about :data:`RASTER_TOP_SPIKES` spikes, packed
    into a solid bar; then as long as that neuron takes for them, from the end of the first
    feed-forward settling (the start of INFERENCE) when the run has one."""
    duration = float(spikes["duration_ms"])
    i = np.asarray(spikes["spike_i"])
    counts = np.bincount(i[drawn[i]], minlength=drawn.size) if i.size else np.zeros(1)
    busiest_hz = counts.max() / duration * 1000.0
    if busiest_hz * duration / 1000.0 <= 2 * RASTER_TOP_SPIKES:
        return 0.0, duration
    settling = spikes.get("meta", {}).get("settling_ms") or [[0.0, 0.0]]
    start = float(settling[0][1])
    return start, min(duration, start + 1000.0 * RASTER_TOP_SPIKES / busiest_hz)


def _slope_axis(ax: plt.Axes, spikes: dict[str, Any], order: np.ndarray, row: np.ndarray,
                n_shown: int, max_ticks: int = 14) -> None:
    """Figure-1 runs: a right-hand axis with each drawn row's voltage slope (mV/ms), ticked
    where the slope changes; within a slope the rows run over the distances D from
    threshold (named in the label)."""
    neuron_at = np.full(n_shown, -1)
    drawn = row >= 0
    neuron_at[row[drawn]] = np.flatnonzero(drawn)
    slope = np.asarray(spikes["neuron_slope_mv_ms"])[neuron_at]
    starts = np.flatnonzero(np.r_[True, np.diff(slope) != 0])
    starts = starts[_evenly_spaced(starts.size, max_ticks)]
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(starts, [f"{slope[k]:+.2g}" for k in starts], fontsize=7)
    label = "slope dV/dt (mV/ms) where it starts"
    if "neuron_distance_mv" in spikes:
        label += "; within a slope, D from threshold grows downwards"
    right.set_ylabel(label, fontsize=8)


def plot_raster(spikes: dict[str, Any], path: str | Path, *, max_neurons: int = 300,
                rows: tuple[int, int] | None = None, t_min_ms: float | None = None,
                t_max_ms: float | None = None, title: str | None = None) -> Path:
    """Spike raster: neuron (display order) against time in ms.

    ``spikes`` is what :func:`stdpsim.runs.load_spikes` returns.  ``rows`` = (start, stop)
    selects a slice of the display order (default: all).  The file's labelled groups of rows
    (conditions, populations: :func:`stdpsim.runs.spike_groups`) are drawn as separate,
    named blocks, each with an equal share of the ``max_neurons`` rows drawn, evenly spaced.
    Markers from the file's ``meta`` (a presynaptic spike time ``t_pre_ms``, digit starts,
    settling spans) are drawn and explained in a legend above the axes.
    """
    from .runs import spike_groups

    n = int(spikes["n"])
    order = np.asarray(spikes["order"])
    if max_neurons < 1:
        raise ValueError("max_neurons must be at least 1")
    start, stop = rows if rows is not None else (0, n)
    if not 0 <= start < stop <= n:
        raise ValueError(f"rows {start}:{stop} outside the run's 0:{n}")
    blocks = _shown_rows(spike_groups(spikes), start, stop, max_neurons)
    row = np.full(n, -1)
    centres, bounds, y = [], [], 0
    for name, display_rows in blocks:
        row[order[display_rows]] = y + np.arange(display_rows.size)
        centres.append((y + (display_rows.size - 1) / 2, name))
        y += display_rows.size
        bounds.append(y - 0.5)
    n_shown = y
    i, t = np.asarray(spikes["spike_i"]), np.asarray(spikes["spike_t_ms"])
    meta = spikes.get("meta", {})
    chosen = t_min_ms is None and t_max_ms is None
    t_min, t_max = (_default_window(spikes, row >= 0) if chosen
                    else (0.0 if t_min_ms is None else t_min_ms,
                          float(spikes["duration_ms"]) if t_max_ms is None else t_max_ms))
    chosen = chosen and (t_min, t_max) != (0.0, float(spikes["duration_ms"]))
    sel = (row[i] >= 0) & (t >= t_min) & (t <= t_max)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    ax.plot(t[sel], row[i[sel]], "|", color="k", ms=2, mew=0.6)
    # only what falls inside the window is drawn, so the legend lists only what shows
    spans = [(lo, hi) for lo, hi in meta.get("settling_ms", []) if hi > t_min and lo < t_max]
    for k, (lo, hi) in enumerate(spans):
        ax.axvspan(lo, hi, color="C1", alpha=0.15, lw=0,
                   label="feed-forward settling" if k == 0 else None)
    starts = [t0 for t0 in meta.get("digit_starts_ms", [])[1:] if t_min <= t0 <= t_max]
    for k, t0 in enumerate(starts):
        ax.axvline(t0, color="C0", lw=1, ls="--", label="next digit" if k == 0 else None)
    if meta.get("t_pre_ms") is not None and t_min <= meta["t_pre_ms"] <= t_max:
        ax.axvline(meta["t_pre_ms"], color="C3", lw=1, label="presynaptic spike")
    for b in bounds[:-1]:
        ax.axhline(b, color="0.5", lw=0.8)
    ylabel = f"neuron ({n_shown} of rows {start}:{stop} of {n}, display order)"
    if len(centres) > 1:  # several named blocks: each named at its centre
        ax.set_yticks([c for c, _ in centres], [name for _, name in centres], fontsize=7)
        ax.tick_params(axis="y", length=0)
    else:  # one block: its name goes in the label, not where a tick would be
        ax.set_yticks([])
        if centres and centres[0][1]:
            ylabel = f"{centres[0][1]}: " + ylabel
    ax.set_xlim(t_min, t_max)
    ax.set_ylim(-1, n_shown)
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(ylabel)
    if "neuron_slope_mv_ms" in spikes and len(centres) == 1:  # one condition's slopes
        _slope_axis(ax, spikes, order, row, n_shown)
    how = meta.get("display_order")
    ax.set_title(title or f"spike raster, {int(sel.sum())} spikes shown"
                 + (f"; rows sorted by {how}" if how else "")
                 + (f"; {t_max - t_min:.3g} ms window, short enough for single spikes "
                    "(--t-min-ms/--t-max-ms to change)" if chosen else ""),
                 fontsize=10, loc="left")
    if ax.get_legend_handles_labels()[0]:  # below the axes: never over the title or data
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=3,
                  frameon=False)
    fig.tight_layout()
    return _save(fig, path)


# ----------------------------------------------------------------------------- MNIST figures

IMAGE_SIDE = 28
"""MNIST images are 28 × 28 pixels."""


def _tile(images: np.ndarray, n_cols: int) -> np.ndarray:
    """(n, 784) images -> one (rows·28, n_cols·28) mosaic; empty cells are black (0)."""
    n = images.shape[0]
    n_rows = -(-n // n_cols)
    padded = np.zeros((n_rows * n_cols, IMAGE_SIDE * IMAGE_SIDE), dtype=np.float32)
    padded[:n] = images
    grid = padded.reshape(n_rows, n_cols, IMAGE_SIDE, IMAGE_SIDE)
    return grid.transpose(0, 2, 1, 3).reshape(n_rows * IMAGE_SIDE, n_cols * IMAGE_SIDE)


def plot_digit_grid(images: np.ndarray, path: str | Path, *, n_cols: int = 10,
                    title: str = "") -> Path:
    """Mosaic of (n, 784) images in [0, 1], ``n_cols`` per row."""
    mosaic = _tile(np.asarray(images, np.float32), n_cols)
    fig, ax = plt.subplots(figsize=(0.6 * mosaic.shape[1] / IMAGE_SIDE + 0.4,
                                    0.6 * mosaic.shape[0] / IMAGE_SIDE + 0.6))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


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
        ax_mean.plot(steps, m, style, color=color, ms=3, label=label, mfc="none")
        ax_step.plot(steps[1:], np.diff(m), style, color=color, ms=3, label=label, mfc="none")
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
    return _save(fig, path)


def _wrapped(text: str, width_in: float, fontsize: float) -> str:
    """``text`` broken into lines about ``width_in`` inches wide at ``fontsize`` points."""
    import textwrap

    return "\n".join(textwrap.wrap(text, max(20, int(width_in * 144 / fontsize)),
                                   break_on_hyphens=False))


def _outline_hidden(ax: plt.Axes, hidden: np.ndarray, n: int) -> None:
    """A dashed outline around the hidden pixels (a (784,) bool mask, one half of the
    image) of each of ``n`` tiles in a row."""
    from matplotlib.patches import Rectangle

    rows, cols = np.nonzero(np.asarray(hidden, bool).reshape(IMAGE_SIDE, IMAGE_SIDE))
    for k in range(n):
        ax.add_patch(Rectangle((k * IMAGE_SIDE + cols.min() - 0.5, rows.min() - 0.5),
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
        axes[2].set_xticks((np.arange(n) + 0.5) * IMAGE_SIDE - 0.5,
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
        axes[0].set_title("\n".join(_wrapped(line, width - 1.2, 8) for line in lines),
                          fontsize=8)
    fig.subplots_adjust(hspace=0.05)
    return _save(fig, path)


RASTER_WINDOW_MS = 4.0
"""Shortest time window of the spiking-inference rasters: at rates of kHz, a few ms are what
shows single spikes."""
RASTER_TOP_SPIKES = 32
"""The rasters' window is long enough for a neuron at the top of its range to fire this many
spikes (4 ms at 8 kHz; at cortical rates the whole of INFERENCE)."""
RASTER_NEURONS = 25
"""Neurons drawn per population in the spiking-inference rasters."""


def raster_window_ms(r_max_hz: float, inference_ms: float) -> float:
    """The spiking-inference rasters' window (ms): the time in which a neuron at ``r_max_hz``
    fires :data:`RASTER_TOP_SPIKES` spikes, at least :data:`RASTER_WINDOW_MS`, at most
    ``inference_ms``, the whole of INFERENCE."""
    return min(max(RASTER_WINDOW_MS, 1000.0 * RASTER_TOP_SPIKES / r_max_hz), inference_ms)


def plot_spiking_inference(results: dict[str, Any], spikes: dict[str, Any],
                           path: str | Path) -> Path:
    """Spikes of each population in a short window of the first digit, and log p(x, h)
    along spiking INFERENCE beside the rate model's on the same digits.

    ``results`` is what ``stdpsim infer spiking`` writes (``t_settle_ms``, ``step_ms``,
    ``n_digits``, ``params.r_max_hz``, ``spiking``/``rate`` with ``mean`` and ``sem`` per
    step, ``spiking_minus_rate`` with the paired ``mean`` and ``sem``); ``spikes`` is its spike
    file as :func:`stdpsim.runs.load_spikes` returns it, one labelled group per population.
    The rasters show :data:`RASTER_NEURONS` neurons of each population (evenly spaced among
    those that fire in the window) from the start of INFERENCE, over the time in which a
    neuron at r_max fires :data:`RASTER_TOP_SPIKES` spikes (:func:`raster_window_ms`).
    """
    from .runs import spike_groups

    groups = spike_groups(spikes)
    t0 = float(results["t_settle_ms"])
    window = raster_window_ms(float(results["params"]["r_max_hz"]),
                              float(results["step_ms"]) * int(results["params"]["n_steps"]))
    t1 = t0 + window
    i, t = np.asarray(spikes["spike_i"]), np.asarray(spikes["spike_t_ms"])
    fig = plt.figure(figsize=(11, 6))
    grid = fig.add_gridspec(len(groups), 2, width_ratios=(1.3, 1), wspace=0.3)
    for row, g in enumerate(groups):
        ax = fig.add_subplot(grid[row, 0])
        sel = (i >= g["start"]) & (i < g["stop"]) & (t >= t0) & (t < t1)
        active = np.unique(i[sel])
        picks = active[_evenly_spaced(active.size, RASTER_NEURONS)]
        rank = {n: k for k, n in enumerate(picks)}
        keep = sel & np.isin(i, picks)
        ax.plot(t[keep], [rank[n] for n in i[keep]], "|", color="k", ms=4, mew=0.8)
        ax.set_xlim(t0, t1)
        ax.set_ylim(-1, max(1, picks.size))
        ax.set_ylabel(f"{g['name']}\n{picks.size} of {g['stop'] - g['start']}", fontsize=8)
        ax.set_yticks([])
        if row == 0:
            ax.set_title(f"a  spikes for the first test image, the first {window:g} ms of "
                         f"INFERENCE (top rate {results['params']['r_max_hz']:g} Hz)",
                         fontsize=9, loc="left")
        if row < len(groups) - 1:
            ax.set_xticklabels([])
        else:
            ax.set_xlabel("time (ms)")
    half = len(groups) // 2 or 1
    ax = fig.add_subplot(grid[:half, 1])
    for key, colour, label in (("rate", "C0", "rate model"), ("spiking", "C3", "spiking")):
        mean, sem = np.asarray(results[key]["mean"]), np.asarray(results[key]["sem"])
        steps = np.arange(mean.size)
        ax.fill_between(steps, mean - sem, mean + sem, color=colour, alpha=0.25, lw=0)
        ax.plot(steps, mean, "o-", color=colour, ms=3, label=label)
    ax.set_ylabel("log p(x, h) (nats)")
    ax.set_title(f"b  mean ± s.e. over {results['n_digits']} test digits", fontsize=9,
                 loc="left")
    ax.legend(fontsize=8, loc="best")  # where it covers the fewest points
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlim(-0.5, steps[-1] + 0.5)
    diff = results.get("spiking_minus_rate")
    if diff is not None:
        ax.set_xticklabels([])
        ax = fig.add_subplot(grid[half:, 1])
        mean, sem = np.asarray(diff["mean"]), np.asarray(diff["sem"])
        steps = np.arange(mean.size)
        ax.fill_between(steps, mean - sem, mean + sem, color="C3", alpha=0.25, lw=0)
        ax.plot(steps, mean, "o-", color="C3", ms=3)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_ylabel("spiking − rate (nats)")
        ax.set_title("c  difference on the same digits, mean ± paired s.e.", fontsize=9,
                     loc="left")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_xlim(-0.5, steps[-1] + 0.5)
    ax.set_xlabel(f"INFERENCE step ({results['step_ms']:g} ms each)")
    if results.get("model"):
        fig.suptitle(f"spiking INFERENCE, model {results['model']}", fontsize=10)
    return _save(fig, path)


def plot_spiking_fidelity(results: dict[str, Any], path: str | Path) -> Path:
    """How closely spiking INFERENCE follows the rate model's, against the rate per neuron:
    the correlation of the h2 trajectories (top) and the log p(x, h) gain over the 20 steps
    (bottom), one column per kind of unit (LIF; LIF ensembles whose members have their own
    membrane noise, where the grid has them, beside LIF single units; Poisson), one colour
    per τ, one line style per number of neurons per unit.

    ``results`` is what ``experiments/spiking_vs_rate.py`` writes (``rows`` with
    ``ensemble``, ``rate_per_neuron_hz`` and, for noisy members, ``member_noise``, and
    ``goals``; rows without them are drawn as single units)."""
    rows = [{"ensemble": 1, "rate_per_neuron_hz": r["r_max_hz"], "neuron": "poisson", **r}
            for r in results["rows"]]
    noisy = sorted({r["member_noise"] for r in rows if r.get("member_noise")})
    columns = [("LIF units", lambda r: r["neuron"] == "lif" and not r.get("member_noise"))]
    if noisy:
        columns.append(("LIF units, noisy members",
                        lambda r: r["neuron"] == "lif" and (r.get("member_noise")
                                                            or r["ensemble"] == 1)))
    columns.append(("Poisson units", lambda r: r["neuron"] == "poisson"))
    letters = "abcdefgh"
    goals = results.get("goals", {"corr_h2": 0.95, "max_rate_per_neuron_hz": 200.0})
    taus = sorted({r["tau_ms"] for r in rows})
    sizes = sorted({r["ensemble"] for r in rows})
    styles = {n: s for n, s in zip(sizes, ("o-", "s--", "^:", "d-."))}
    rate_gain = rows[0]["log_p_gain_rate"]
    gains = [r["log_p_gain_spiking"] for r in rows] + [rate_gain]
    n_cols = len(columns)
    fig, axes = plt.subplots(2, n_cols, figsize=(4.6 * n_cols, 8.6), sharex=True,
                             squeeze=False)
    for col, (name, chosen) in enumerate(columns):
        for row, key in enumerate(("corr_h2", "log_p_gain_spiking")):
            ax = axes[row, col]
            for k, tau in enumerate(taus):
                for n in sizes:
                    sel = sorted((r for r in rows if chosen(r) and r["tau_ms"] == tau
                                  and r["ensemble"] == n), key=lambda r: r["rate_per_neuron_hz"])
                    if sel:  # τ curves often coincide: hollow markers shrinking with τ
                        ax.plot([r["rate_per_neuron_hz"] for r in sel], [r[key] for r in sel],
                                styles[n], color=f"C{k}", ms=max(3.0, 8 - 1.6 * k),
                                lw=max(0.8, 1.8 - 0.3 * k), mfc="none", mew=1.1,
                                zorder=2 + k)
            ax.axvspan(1, goals["max_rate_per_neuron_hz"], color="C2", alpha=0.08, lw=0)
            ax.set_xscale("log")
            ax.set_xlim(max(1.0, 0.7 * min(r["rate_per_neuron_hz"] for r in rows)),
                        1.4 * max(r["rate_per_neuron_hz"] for r in rows))
            if key == "corr_h2":
                ax.axhline(goals["corr_h2"], color="0.3", lw=0.8, ls=":")
                ax.set_ylim(min(0.7, min(r["corr_h2"] for r in rows) - 0.02), 1.005)
                ax.set_ylabel("h2: correlation with the rate trajectory")
                ax.set_title(f"{letters[col]}  {name}: h2 vs rate model", fontsize=9.5,
                             loc="left")
            else:  # losses span 1 to 10⁴ nats: linear within ±10, logarithmic beyond
                ax.axhline(rate_gain, color="k", lw=1)
                ax.axhline(0, color="0.5", lw=0.5)
                ax.set_yscale("symlog", linthresh=10)
                ax.set_ylim(1.5 * min(gains), max(0.0, max(gains)) + 2)
                ax.set_ylabel("log p(x, h): end − start (nats; symlog)")
                ax.set_xlabel("rate per neuron at the top of its range (Hz)")
                ax.set_title(f"{letters[n_cols + col]}  {name}: log p gain, 20 steps, "
                             f"{results['n_digits']} digits", fontsize=9.5, loc="left")
    t_inf = {tau: min(r.get("t_inference_ms", 0) for r in rows if r["tau_ms"] == tau)
             for tau in taus}
    handles = [plt.Line2D([], [], color=f"C{k}", lw=2, marker="o", mfc="none",
                          ms=max(3.0, 8 - 1.6 * k),
                          label=f"τ = {tau:g} ms" + (f" ({t_inf[tau]:g} ms per inference)"
                                                     if t_inf[tau] else ""))
               for k, tau in enumerate(taus)]
    handles += [plt.Line2D([], [], color="0.3", marker=styles[n][0], ls=styles[n][1:],
                           mfc="none", label=f"{n} neuron{'s' if n > 1 else ''} per unit")
                for n in sizes]
    handles += [plt.Line2D([], [], color="0.3", ls=":", label=f"goal: {goals['corr_h2']}"),
                plt.Rectangle((0, 0), 1, 1, color="C2", alpha=0.15,
                              label=f"≤ {goals['max_rate_per_neuron_hz']:g} Hz per neuron "
                                    "(cortical)"),
                plt.Line2D([], [], color="k", lw=1, label="rate model's log p gain")]
    paper = results.get("paper_corruption", {}).get("r_max_hz_at_h2_0.5")
    if paper:
        for ax in axes[:, -1]:  # Poisson
            ax.axvline(paper, color="C3", lw=0.8, ls=":")
        handles.append(plt.Line2D([], [], color="C3", ls=":",
                                  label=f"the paper's 3-Bernoulli corruption ({paper:.0f} Hz, "
                                        "1 Poisson neuron per unit)"))
    tau_m = results.get("ensemble_tau_m_ms")
    if tau_m:
        handles.append(plt.Line2D([], [], color="none",
                                  label=f"LIF ensembles: members' τ_m = {tau_m:g} ms"))
    if noisy:
        handles.append(plt.Line2D([], [], color="none", label=(
            f"noisy members: own σ = {', '.join(f'{f:g}' for f in noisy)} reset depths "
            f"(single LIF units drawn as in a)")))
    fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=8.5, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    return _save(fig, path)


def plot_rule_vs_rate(results: dict[str, Any], path: str | Path) -> Path:
    """The spiking S·dV/dt learner's weight change against its rate twin's, per layer
    (columns): cosine similarity (top) and norm ratio spiking / twin (bottom) against the
    top rate per unit, one line per τ; the training's settings as stars, and the same at
    cortical rates (an ensemble per unit, drawn at its rate per unit) as crosses, and with
    members that have their own membrane noise as diamonds and squares.
    ``results`` is what ``experiments/spiking_rule_vs_rate.py`` writes."""
    rows = [r for r in results["rows"] if r.get("kind", "grid") == "grid"]
    training = [r for r in results["rows"] if r.get("kind") == "training"]
    cortical = sorted((r for r in results["rows"]
                       if r.get("kind") in ("cortical", "cortical_noisy")),
                      key=lambda r: (r["kind"], r["tau_ms"]))
    layers = list(results["rows"][0]["layers"]) if results["rows"] else []
    taus = sorted({r["tau_ms"] for r in rows})
    ticks = sorted({r["r_max_hz"] for r in rows + training})
    fig, axes = plt.subplots(2, max(len(layers), 1), figsize=(11, 5.2), sharex=True,
                             squeeze=False)
    for col, layer in enumerate(layers):
        ax_c, ax_r = axes[0, col], axes[1, col]
        for k, tau in enumerate(taus):
            sel = sorted((r for r in rows if r["tau_ms"] == tau), key=lambda r: r["r_max_hz"])
            r_max = [r["r_max_hz"] for r in sel]
            first = sel[0]
            label = (f"τ = {tau:g} ms (sweep: {first['n_steps']} steps, {first['t_example_ms']:g}"
                     f" ms per example, dt {first['dt_ms']:g} ms)")
            ax_c.plot(r_max, [r["layers"][layer]["cosine"] for r in sel], "o-", ms=3,
                      color=f"C{k}", label=label)
            ax_r.plot(r_max, [r["layers"][layer]["norm_ratio"] for r in sel], "o-", ms=3,
                      color=f"C{k}", label=label)
        for r in training:
            label = (f"training's settings (τ = {r['tau_ms']:g} ms, {r['n_steps']} steps, "
                     f"{r['t_example_ms']:g} ms per example, dt {r['dt_ms']:g} ms): "
                     "off the line where its coarser dt and shorter phases matter")
            ax_c.plot(r["r_max_hz"], r["layers"][layer]["cosine"], "*", color="k", ms=9,
                      label=label)
            ax_r.plot(r["r_max_hz"], r["layers"][layer]["norm_ratio"], "*", color="k", ms=9)
        for k, r in enumerate(cortical):
            # drawn at the rate per unit: ensemble × rate per neuron
            noise = r.get("member_sigma_mv")
            label = (f"the same at cortical rates, τ = {r['tau_ms']:g} ms: {r['ensemble']} "
                     f"neurons per unit at up to {r['r_max_hz']:g} Hz each, "
                     f"τ_m = {r['tau_m_ms']:g} ms"
                     + (f", own noise σ = {noise:g} mV" if noise else ""))
            x = r["ensemble"] * r["r_max_hz"]
            style = dict(marker="PXDs"[k % 4], color=f"C{3 + k}", ms=8, mfc="none",
                         ls="none")
            ax_c.plot(x, r["layers"][layer]["cosine"], label=label, **style)
            ax_r.plot(x, r["layers"][layer]["norm_ratio"], **style)
        ax_c.axhline(0.9, color="0.4", lw=0.8, ls=":", label="goal: cosine 0.9")
        ax_r.axhline(1.0, color="0.4", lw=0.8, ls=":")
        ax_c.set_title(f"{layer}: {'encoder' if layer.startswith('f') else 'decoder'}")
        ax_c.set_ylim(min(0.5, ax_c.get_ylim()[0]), 1.01)
        for ax in (ax_c, ax_r):
            ax.set_xscale("log")
            ax.set_xticks(ticks, [f"{t / 1000:g}k" for t in ticks])
            ax.minorticks_off()
        ax_r.set_xlabel("r_max per unit (Hz)")
    if layers:
        axes[0, 0].set_ylabel("cosine(spiking ΔW, twin ΔW)")
        axes[1, 0].set_ylabel("|spiking ΔW| / |twin ΔW|")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    setup = results.get("setup", {})
    start = setup.get("start", "initialisation")
    weights = ("the training's initial weights" if start == "initialisation"
               else f"the weights of {start}")
    fig.suptitle(f"S·dV/dt in LIF neurons against its rate twin: {setup.get('n_examples')} "
                 f"training images, {weights}", fontsize=10)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return _save(fig, path)


def plot_learning_curves(results: dict[str, Any], path: str | Path) -> Path:
    """Validation Parzen log-likelihood against training examples seen, one line per learner
    (``results["curves"]``: each with ``label`` and ``points``, a list of ``examples`` /
    ``valid_parzen``), and the shipped rate model as a reference line
    (``reference_valid_parzen``).  ``results`` is what
    ``experiments/spiking_learning_curve.py`` writes."""
    n_lines = len(results["curves"]) + (results.get("reference_valid_parzen") is not None)
    fig, ax = plt.subplots(figsize=(8, 4.4 + 0.22 * n_lines))
    markers = "osD^vx"
    for k, curve in enumerate(results["curves"]):
        pts = curve["points"]
        last = pts[-1]
        # hollow markers of growing size: points that coincide stay visible
        ax.plot([p["examples"] for p in pts], [p["valid_parzen"] for p in pts],
                marker=markers[k % len(markers)], ms=4 + 2 * k, mfc="none", mew=1.3,
                ls=curve.get("line", "-"),
                label=f"{curve['label']}: {last['valid_parzen']:.1f} at {last['examples']:,}")
    ref = results.get("reference_valid_parzen")
    if ref is not None:
        ax.axhline(ref, color="k", lw=1, label=f"shipped rate model, 20 epochs ({ref:.0f})")
    ax.set(xlabel="training examples seen",
           ylabel=f"validation Parzen log-likelihood\n(nats, {results.get('valid_samples')} "
                  "GENERATE samples)",
           title="Learning the MNIST model: spiking S·dV/dt learners and rate references")
    # below the axes: the curves cross the whole plot, a legend inside would cover some
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1,
              frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def plot_bi_poo(results: dict[str, Any], path: str | Path) -> Path:
    """Figure 1, calibrated to Bi & Poo: (a) the model's window from single trials binned in
    ΔT, its exponential fit and Bi & Poo's fit, each divided by its own A+ (the shapes
    compared); (b) where the asymmetry comes from: a typical rising and falling ramp around
    the presynaptic spike; (c) the slopes of rising and falling ramps.

    ``results`` is what ``experiments/fig1_bi_poo.py`` writes (``binned``, ``config`` and
    ``calibration`` with ``targets``, ``fitted``, ``window`` and ``checks``).
    """
    cal = results["calibration"]
    target, window, fitted = cal["targets"], cal["window"], cal["fitted"]
    fig = plt.figure(figsize=(12, 4.6))
    grid = fig.add_gridspec(2, 2, width_ratios=(1.25, 1), height_ratios=(2.2, 1),
                            hspace=0.55, wspace=0.25)
    ax = fig.add_subplot(grid[:, 0])
    b = results["binned"]
    a_plus = window["A_plus"]
    ax.errorbar(b["delta_t"], np.asarray(b["delta_w"]) / a_plus,
                yerr=np.asarray(b["sem"]) / a_plus, fmt="o", ms=3, color="0.35", lw=0.8,
                label=f"model: single trials in {b['width_ms']:g} ms bins (mean ± s.e.)")
    _window_line(ax, {"A_plus": 1.0, "tau_plus_ms": window["tau_plus"],
                      "A_minus": window["ratio"], "tau_minus_ms": window["tau_minus"]},
                 color="C3", lw=1.8,
                 label=f"model fit: τ+ {window['tau_plus']:.1f} ms, τ− "
                       f"{window['tau_minus']:.1f} ms, A−/A+ {window['ratio']:.2f}")
    _window_line(ax, {"A_plus": 1.0, "tau_plus_ms": target["tau_plus_ms"],
                      "A_minus": target["ratio"], "tau_minus_ms": target["tau_minus_ms"]},
                 color="k", ls="--", lw=1.2,
                 label=f"Bi & Poo: τ+ {target['tau_plus_ms']:g} ms, τ− "
                       f"{target['tau_minus_ms']:g} ms, A−/A+ {target['ratio']:.2f}")
    ax.axhline(0, color="0.6", lw=0.5)
    ax.axvline(0, color="0.6", lw=0.5)
    ax.set_xlim(-100, 100)
    ax.set_xlabel("ΔT = t_post − t_pre (ms)")
    ax.set_ylabel("ΔW / A+ (each window by its own A+)")
    ax.set_title("a  the S·dV/dt window, calibrated, against Bi & Poo (1998)", fontsize=10,
                 loc="left")
    _legend_below(ax, ncol=1)

    # b: a typical rising and falling ramp (median slope, median distance)
    ax = fig.add_subplot(grid[0, 1])
    cfg = results["config"]
    rising = float(np.sqrt(fitted["slope_min_mv_ms"] * fitted["slope_max_mv_ms"]))
    falling = rising * fitted["falling_slope_scale"]
    d_up = cfg["distance_max_mv"] / 2
    d_down = d_up * fitted["falling_distance_scale"]
    t = np.linspace(-40, 40, 200)
    for slope, dist, colour, name in ((rising, d_up, "C3", "rising"),
                                      (-falling, d_down, "C0", "falling")):
        ax.plot(t, -dist + slope * t, color=colour, lw=1.5,
                label=f"{name}: |dV/dt| {abs(slope):.2f} mV/ms → ΔW = η·dV/dt")
        cross = dist / slope
        ax.plot([cross], [0], "o", color=colour, ms=5)
        ax.annotate(f"ΔT = {cross:+.0f} ms", (cross, 0),
                    # beside the crossing, on the side the ramp does not run through
                    xytext=(cross + (8 if slope > 0 else -4), -3 if slope > 0 else 2),
                    fontsize=7, color=colour, ha="center")
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(0, color="C2", lw=1, label="presynaptic spike")
    ax.set_xlim(-40, 40)
    ax.set_ylim(-12, 8)
    ax.set_xlabel("t − t_pre (ms)")
    ax.set_ylabel("V − threshold (mV)")
    ax.set_title("b  falling voltages are shallower: small LTD, reached from farther away",
                 fontsize=9, loc="left")
    # beside the panel: inside, some ramp would run under it
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)

    # c: the slope distributions
    ax = fig.add_subplot(grid[1, 1])
    mags = np.geomspace(fitted["slope_min_mv_ms"], fitted["slope_max_mv_ms"],
                        fitted["n_slopes"])
    ax.plot(mags, np.ones_like(mags), "|", color="C3", ms=12, mew=1.5)
    ax.plot(mags * fitted["falling_slope_scale"], np.zeros_like(mags), "|", color="C0",
            ms=12, mew=1.5)
    ax.set_xscale("log")
    ax.set_yticks([0, 1], ["falling", "rising"])
    ax.set_ylim(-0.7, 1.7)
    ax.set_xlabel("|dV/dt| at the presynaptic spike (mV/ms), fitted")
    ax.set_title(f"c  falling ramps ×{fitted['falling_slope_scale']:.2f} as steep, start "
                 f"×{fitted['falling_distance_scale']:.2f} as far below threshold", fontsize=9,
                 loc="left")
    return _save(fig, path)


def plot_depth_fidelity(results: dict[str, Any], path: str | Path) -> Path:
    """Spiking INFERENCE against the rate model's for stacks of several depths: (a) the
    correlation of each hidden layer's trajectory with the rate model's (solid: the states;
    dashed: their change since the start of INFERENCE), one colour per layer counted from the
    bottom; (b) the log p(x, h) gain over the INFERENCE steps of both models, with standard
    errors.  ``results`` is what ``experiments/spiking_depth.py`` writes."""
    rows = sorted(results["rows"].values(), key=lambda r: r["depth"])
    depths = [r["depth"] for r in rows]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.5, 4.2))
    for l in range(1, max(depths) + 1):
        have = [r for r in rows if r["depth"] >= l]
        (line,) = ax.plot([r["depth"] for r in have], [r["corr"][l - 1] for r in have], "o-",
                          ms=5, label=f"h{l}")
        ax.plot([r["depth"] for r in have], [r["corr_change"][l - 1] for r in have], "s--",
                ms=4, color=line.get_color())
    ax.plot([], [], "k-", label="states")
    ax.plot([], [], "k--", label="change since the start")
    ax.set(xlabel="hidden layers", ylabel="correlation with the rate model's trajectory",
           title="(a) fidelity per layer", xticks=depths)
    ax.margins(x=0.15, y=0.1)
    _legend_below(ax, ncol=3)
    width = 0.35
    for k, (key, label) in enumerate((("spiking", "spiking INFERENCE"),
                                      ("rate", "rate INFERENCE"))):
        xs = np.asarray(depths) + (k - 0.5) * width
        ys = [r[f"log_p_gain_{key}"] for r in rows]
        es = [r[f"log_p_gain_{key}_sem"] for r in rows]
        bx.bar(xs, ys, width, yerr=es, capsize=3, label=label)
    bx.axhline(0, color="0.5", lw=0.6)
    n = rows[0].get("n_digits")
    bx.set(xlabel="hidden layers", ylabel="log p(x, h): end − start of 20 steps (nats)",
           title=f"(b) what INFERENCE gains ({n} test digits)", xticks=depths)
    _legend_below(bx)
    sizes = "; ".join("-".join(map(str, r["sizes"])) for r in rows)
    fig.suptitle(f"Spiking INFERENCE (LIF, 8 kHz, α = 0.001) against depth: {sizes}",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
