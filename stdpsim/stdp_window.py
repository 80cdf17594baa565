"""The STDP window read from trials: each trial's nearest post spike, per-group and binned
means of ΔW against ΔT, exponential fits of the window, its shape checks and coverage.  Pure
numpy (and scipy's curve fit) on arrays, shared by the Figure-1 experiment
(:mod:`stdpsim.stdp_curve`) and its Bi & Poo calibration."""

from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit

BIN_WIDTH_MS = 4.0
"""Width of the ΔT bins of the binned single-trial curve."""
BIN_RANGE_MS = 100.0
"""The binned curve spans ΔT in ±BIN_RANGE_MS."""
N_SAMPLE_TRIALS = 3000
"""Single trials stored in the JSON for the figure's scatter."""
COVERAGE_RANGE_MS = 40.0
"""``|ΔT|`` up to which the curve must have no large gaps (reported by :func:`coverage`)."""


def nearest_spike_offsets(
    spike_i: np.ndarray, spike_t: np.ndarray, n: int, t_ref: float
) -> np.ndarray:
    """For each of ``n`` neurons, the spike time nearest ``t_ref`` minus ``t_ref``.

    Parameters
    ----------
    spike_i, spike_t
        Neuron indices and times of all spikes, shape (n_spikes,).
    n
        Number of neurons.
    t_ref
        Reference time (same unit as ``spike_t``).

    Returns
    -------
    numpy.ndarray
        Shape (n,); NaN for neurons that never spiked.  On a tie the later spike wins.
    """
    offsets = np.asarray(spike_t, dtype=float) - t_ref
    out = np.full(n, np.nan)
    if offsets.size == 0:
        return out
    # sort by neuron, then by |offset| (ties: later spike first), keep the first per neuron
    order = np.lexsort((-offsets, np.abs(offsets), spike_i))
    idx = np.asarray(spike_i)[order]
    first = np.ones(idx.size, dtype=bool)
    first[1:] = idx[1:] != idx[:-1]
    out[idx[first]] = offsets[order][first]
    return out


def per_group_means(
    keys: np.ndarray, delta_t: np.ndarray, delta_w: np.ndarray
) -> dict[str, np.ndarray]:
    """Mean ΔT and ΔW for each distinct key (e.g. the slope), ignoring NaN ΔT.

    Returns arrays sorted by mean ΔT: ``key``, ``delta_t``, ``delta_w``, ``n``.
    """
    ok = np.isfinite(delta_t)
    uniq, inv = np.unique(keys[ok], return_inverse=True)
    counts = np.bincount(inv, minlength=uniq.size)
    mean_t = np.bincount(inv, delta_t[ok], minlength=uniq.size) / counts
    mean_w = np.bincount(inv, delta_w[ok], minlength=uniq.size) / counts
    order = np.argsort(mean_t)
    return {"key": uniq[order], "delta_t": mean_t[order], "delta_w": mean_w[order],
            "n": counts[order]}


def binned_means(
    delta_t: np.ndarray, delta_w: np.ndarray, edges: np.ndarray
) -> dict[str, np.ndarray]:
    """Mean and standard error of ΔW in ΔT bins (empty bins are dropped)."""
    ok = np.isfinite(delta_t)
    t, w = delta_t[ok], delta_w[ok]
    b = np.digitize(t, edges) - 1
    inside = (b >= 0) & (b < edges.size - 1)
    b, t, w = b[inside], t[inside], w[inside]
    nb = edges.size - 1
    n = np.bincount(b, minlength=nb)
    keep = n > 1
    mean = np.bincount(b, w, minlength=nb)[keep] / n[keep]
    sq = np.bincount(b, w * w, minlength=nb)[keep] / n[keep]
    sem = np.sqrt(np.maximum(sq - mean**2, 0) / (n[keep] - 1))
    centre = np.bincount(b, t, minlength=nb)[keep] / n[keep]
    return {"delta_t": centre, "delta_w": mean, "sem": sem, "n": n[keep]}


def binned_trials(delta_t: np.ndarray, delta_w: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`binned_means` in the figure's bins: :data:`BIN_WIDTH_MS` wide, within
    ±:data:`BIN_RANGE_MS`."""
    edges = np.arange(-BIN_RANGE_MS, BIN_RANGE_MS + 1e-9, BIN_WIDTH_MS)
    return binned_means(delta_t, delta_w, edges)


def _exp_decay(x: np.ndarray, a: float, tau: float) -> np.ndarray:
    return a * np.exp(-x / tau)


def fit_window(delta_t: np.ndarray, delta_w: np.ndarray) -> dict[str, float]:
    """Least-squares fit of A+·exp(−ΔT/τ+) (ΔT > 0) and A−·exp(ΔT/τ−) (ΔT < 0).

    Returns ``A_plus``, ``tau_plus``, ``A_minus`` (signed), ``tau_minus`` in the units of the
    inputs; NaN for a side with fewer than 3 points.
    """
    out: dict[str, float] = {}
    for side, sign in (("plus", 1.0), ("minus", -1.0)):
        sel = np.isfinite(delta_t) & (sign * delta_t > 0)
        x, y = sign * delta_t[sel], delta_w[sel]
        if x.size < 3:
            out[f"A_{side}"], out[f"tau_{side}"] = np.nan, np.nan
            continue
        p0 = (y[np.argmin(x)], max(np.mean(x), 1e-3))
        (a, tau), _ = curve_fit(_exp_decay, x, y, p0=p0, maxfev=20000)
        out[f"A_{side}"], out[f"tau_{side}"] = float(a), float(abs(tau))
    return out


def fit_amplitudes(
    delta_t: np.ndarray, delta_w: np.ndarray, tau_plus: float, tau_minus: float
) -> tuple[float, float]:
    """Best amplitudes (A+, A−) of an exponential window with the τs held fixed."""
    amps = []
    for sign, tau in ((1.0, tau_plus), (-1.0, tau_minus)):
        sel = np.isfinite(delta_t) & (sign * delta_t > 0)
        basis = np.exp(-sign * delta_t[sel] / tau)
        amps.append(float(basis @ delta_w[sel] / max(basis @ basis, 1e-300)))
    return amps[0], amps[1]


def shape_checks(curve_t: np.ndarray, curve_w: np.ndarray, window: float = 20.0
                 ) -> dict[str, bool]:
    """The STDP-shape criteria on a curve sorted by ΔT.

    ``ltp``: ΔW > 0 wherever 0 < ΔT ≤ window; ``ltd``: ΔW < 0 wherever −window ≤ ΔT < 0;
    ``decay_plus``/``decay_minus``: ``|ΔW|`` non-increasing in ``|ΔT|`` on each side.
    """
    pos, neg = curve_t > 0, curve_t < 0
    near_pos, near_neg = pos & (curve_t <= window), neg & (curve_t >= -window)
    wp = np.abs(curve_w[pos][np.argsort(curve_t[pos])])
    wn = np.abs(curve_w[neg][np.argsort(-curve_t[neg])])
    return {
        "ltp": bool(near_pos.any() and np.all(curve_w[near_pos] > 0)),
        "ltd": bool(near_neg.any() and np.all(curve_w[near_neg] < 0)),
        "decay_plus": bool(np.all(np.diff(wp) <= 0)),
        "decay_minus": bool(np.all(np.diff(wn) <= 0)),
    }


def coverage(curve_t: np.ndarray) -> dict[str, float]:
    """How much of the ΔT axis a curve covers (ms): the points nearest zero on each side,
    the extremes, the gap across zero and the largest gap between points within
    ±COVERAGE_RANGE_MS."""
    pos, neg = curve_t[curve_t > 0], curve_t[curve_t < 0]
    if pos.size == 0 or neg.size == 0:
        raise ValueError("the curve needs points on both sides of ΔT = 0")
    inner = np.sort(curve_t[np.abs(curve_t) <= COVERAGE_RANGE_MS])
    return {
        "min_positive_ms": float(pos.min()),
        "max_positive_ms": float(pos.max()),
        "min_negative_ms": float(neg.max()),
        "max_negative_ms": float(neg.min()),
        "gap_across_zero_ms": float(pos.min() - neg.max()),
        "max_gap_within_40ms": float(np.diff(inner).max()) if inner.size > 1 else np.nan,
    }


def sample_trials(delta_t: np.ndarray, delta_w: np.ndarray, k: int, seed: int) -> dict[str, list]:
    """A random subset of single trials (for the scatter in the figure)."""
    ok = np.flatnonzero(np.isfinite(delta_t))
    pick = np.random.default_rng(seed).choice(ok, size=min(k, ok.size), replace=False)
    return {"delta_t_ms": delta_t[pick].round(3).tolist(),
            "delta_w_mv": delta_w[pick].round(7).tolist()}
