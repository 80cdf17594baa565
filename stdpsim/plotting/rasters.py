"""Spike rasters of saved runs (Figure 1's trials, the spiking network's populations)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import common
from .common import plt


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
        picks = common.evenly_spaced(k, share)
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
    starts = starts[common.evenly_spaced(starts.size, max_ticks)]
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
    from ..runs import spike_groups

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
    return common.save(fig, path)


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
