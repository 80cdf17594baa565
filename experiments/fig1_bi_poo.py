#!/usr/bin/env python3
"""Figure 1, calibrated: the S·dV/dt rule's window fitted to Bi & Poo's measured one (writes
figures/fig1_bi_poo.{png,json}).

Bi & Poo (1998) paired single pre and post spikes at many ΔT; the usual exponential fit to
their data is A+ = 0.777, τ+ = 16.8 ms, A− = −0.273, τ− = 33.7 ms (A−/A+ = −0.351).
The model's free parameters here are the distribution of the voltage slopes around the
presynaptic spike: the range of rising slopes, how much shallower falling ramps are, and how
far below threshold they start.  They are fitted in two stages:

1. in closed form: the noise-free threshold read-out gives each trial ΔT = D/s and
   ΔW = η·s (:func:`stdpsim.stdp_curve.fit_bi_poo`, Nelder–Mead, from Figure 1's main
   condition);
2. in the simulation itself: the same search, a few steps, each one compiled Brian2 run of
   all trials with the membrane noise (0.5 mV) and refractory period of Figure 1 (the
   network does not change, so every run reuses one build).

The window is fitted, as in a pairing experiment, to single trials binned in ΔT (4 ms bins).
Noise, reset and threshold stay those of Figure 1's main condition.

    python experiments/fig1_bi_poo.py [--device cpp_standalone] [--refine-steps 24]
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from stdpsim import errors, plotting, stdp_curve
from stdpsim.runs import read_json, write_json

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"tau_plus_ms": (stdp_curve.BI_POO_TAU_PLUS_MS, 0.2),
         "tau_minus_ms": (stdp_curve.BI_POO_TAU_MINUS_MS, 0.2),
         "ratio": (stdp_curve.BI_POO_A_MINUS / stdp_curve.BI_POO_A_PLUS, 0.2)}
"""Bi & Poo's values and the relative tolerance of the goal."""
MAX_GAP_MS = 10.0
"""The binned window may have no gap wider than this around ΔT = 0."""


def simulated_window(cfg: stdp_curve.STDPCurveConfig, cond: stdp_curve.Condition,
                     device: str) -> tuple[dict, dict]:
    """(results of the simulation, its binned window with ``ratio``) for ``cond``."""
    run = dataclasses.replace(cfg, main=cond, sweeps=())
    res = stdp_curve.run_experiment(run, device=device)
    f = res["binned"]["fit"]
    return res, {"tau_plus": f["tau_plus_ms"], "tau_minus": f["tau_minus_ms"],
                 "A_plus": f["A_plus"], "A_minus": f["A_minus"],
                 "ratio": f["A_minus"] / f["A_plus"]}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--refine-steps", type=errors.count, default=24,
                    help="simulations of the second stage (0: the closed-form fit only)")
    ap.add_argument("--out", default=str(ROOT / "figures" / "fig1_bi_poo.json"))
    args = ap.parse_args()

    cfg = stdp_curve.STDPCurveConfig()
    start = dataclasses.replace(cfg.main, name="Bi & Poo fit")
    closed = stdp_curve.fit_bi_poo(start, cfg.distance_max_mv, cfg.eta_ms)
    closed_fit = stdp_curve.window_of_trials(
        *stdp_curve.readout_trials(closed, cfg.distance_max_mv, cfg.eta_ms))
    print(f"closed form: slopes {closed.slope_min_mv_ms:.3f}-{closed.slope_max_mv_ms:.3f} "
          f"mV/ms, falling x{closed.falling_slope_scale:.3f} slope, "
          f"x{closed.falling_distance_scale:.3f} distance; tau+ {closed_fit['tau_plus']:.1f}, "
          f"tau- {closed_fit['tau_minus']:.1f} ms, A-/A+ {closed_fit['ratio']:.3f}")

    history = []

    def cond_of(p: np.ndarray) -> stdp_curve.Condition:
        lo, hi, k, m = np.exp(p)
        return dataclasses.replace(closed, slope_min_mv_ms=float(lo), slope_max_mv_ms=float(hi),
                                   falling_slope_scale=float(k), falling_distance_scale=float(m))

    def loss(p: np.ndarray) -> float:
        _, w = simulated_window(cfg, cond_of(p), args.device)
        value = stdp_curve.bi_poo_mismatch(w)
        history.append({"params": np.exp(p).tolist(), "mismatch": value, **w})
        print(f"  simulation {len(history)}: tau+ {w['tau_plus']:.1f}, tau- "
              f"{w['tau_minus']:.1f} ms, A-/A+ {w['ratio']:.3f} (mismatch {value:.4f})",
              flush=True)
        return value

    p0 = np.log([closed.slope_min_mv_ms, closed.slope_max_mv_ms, closed.falling_slope_scale,
                 closed.falling_distance_scale])
    best_p = p0
    if args.refine_steps > 0:
        simplex = np.vstack([p0, p0 + 0.1 * np.eye(p0.size)])
        best = minimize(loss, p0, method="Nelder-Mead",
                        options={"maxfev": args.refine_steps, "initial_simplex": simplex})
        if best.fun < history[0]["mismatch"]:
            best_p = best.x
    final = cond_of(best_p)
    results, window = simulated_window(cfg, final, args.device)
    coverage = results["binned"]["coverage"]
    checks = {k: abs(window[k.replace("_ms", "")] / target - 1) <= tol
              for k, (target, tol) in GOALS.items()}
    checks["gap_around_zero"] = coverage["gap_across_zero_ms"] <= MAX_GAP_MS
    results["calibration"] = {
        "targets": {"A_plus": stdp_curve.BI_POO_A_PLUS, "A_minus": stdp_curve.BI_POO_A_MINUS,
                    "tau_plus_ms": stdp_curve.BI_POO_TAU_PLUS_MS,
                    "tau_minus_ms": stdp_curve.BI_POO_TAU_MINUS_MS,
                    "ratio": GOALS["ratio"][0]},
        "closed_form": {"condition": dataclasses.asdict(closed), "window": closed_fit},
        "refinement": history,
        "fitted": dataclasses.asdict(final),
        "window": window, "checks": checks, "max_gap_ms": MAX_GAP_MS}
    out = Path(args.out)
    write_json(out, results)
    plotting.plot_bi_poo(read_json(out), out.with_suffix(".png"))
    print(f"fitted: slopes {final.slope_min_mv_ms:.3f}-{final.slope_max_mv_ms:.3f} mV/ms, "
          f"falling ramps x{final.falling_slope_scale:.3f} as steep and start "
          f"x{final.falling_distance_scale:.3f} as far below threshold")
    print(f"simulated window: tau+ {window['tau_plus']:.1f} ms (Bi & Poo 16.8), tau- "
          f"{window['tau_minus']:.1f} ms (33.7), A-/A+ {window['ratio']:.3f} (-0.351); gap "
          f"around 0: {coverage['gap_across_zero_ms']:.1f} ms; checks {checks}")
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    errors.run_script(main)
