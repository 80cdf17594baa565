"""Figure 1: the STDP curve of the S·dV/dt rule, its sensitivity panels and its fit to Bi &
Poo."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..plasticity import classical_window
from . import common
from .common import plt


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
    common.legend_below(ax)


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
                 label=f"fit: τ+ = {fit['tau_plus_ms']:.1f} ms, "
                       f"τ− = {fit['tau_minus_ms']:.1f} ms")
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
    common.legend_below(ax)

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
    return common.save(fig, path)


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
    common.legend_below(ax, ncol=1)

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
    return common.save(fig, path)
