"""The STDP-curve experiment (Figure 1 of Bengio et al. 2015, arXiv 1502.04156, section 2).

Each *trial* is one postsynaptic LIF neuron (all trials are neurons of one group, so the
whole experiment is one compiled simulation).  A single presynaptic neuron spikes once at
``t_pre`` and projects to every trial through an S·dV/dt synapse (:mod:`stdpsim.plasticity`).

Around the presynaptic spike the trial's free membrane potential is a ramp

    V(t) = v_th − D + s · (t − t_pre),    clipped to v_th ± ramp_halfwidth,

with slope ``s`` (the "rest of its inputs") and ``D`` the distance below threshold at the
moment of the presynaptic spike, drawn uniformly from (0, distance_max].  A rising ramp
(s > 0) reaches threshold D/s after the presynaptic spike; a falling one (s < 0) left it
``|D/s|`` before, so the post spike nearest the pre spike is late when s is small and early when
it is large.  The drive ``u`` is chosen so that the noise-free LIF equation has exactly this
ramp as its solution (``u = V + tau_m·dV/dt``); Ornstein–Uhlenbeck noise of stationary
standard deviation ``sigma`` is added to the membrane.

ΔT is the time of the post spike nearest to ``t_pre`` minus ``t_pre``; ΔW is the change of
the synapse's weight, η · dV/dt at the presynaptic spike.  Per slope, the mean ΔW is
plotted against the mean ΔT (the paper's figure).  Trials also vary the noise level, the
slope range and the reset depth, so the sensitivity panels come from the same run.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import backend, neurons, plasticity, runs
from .stdp_window import (BIN_WIDTH_MS, N_SAMPLE_TRIALS, binned_trials, coverage,
                          fit_amplitudes, fit_window, nearest_spike_offsets, per_group_means,
                          sample_trials, shape_checks)

# Bi & Poo (2001, Annu. Rev. Neurosci. 24:139), exponential fits to their 1998 data.
BI_POO_TAU_PLUS_MS = 16.8
BI_POO_TAU_MINUS_MS = 33.7
BI_POO_A_PLUS = 0.777
BI_POO_A_MINUS = -0.273
"""The usual exponential fit to Bi & Poo's (1998) measured window: A+·exp(−ΔT/τ+) for
ΔT > 0, A−·exp(ΔT/τ−) for ΔT < 0 (amplitudes as fractions of the synaptic strength)."""

RAMP_DRIVE = """
ramp = v_th - D + s*(t - t_pre) : volt
u = clip(ramp, v_th - halfwidth, v_th + halfwidth) + tau_m*s*int(abs(ramp - v_th) < halfwidth) : volt
s : volt/second (constant)
D : volt (constant)
"""
"""Drive whose noise-free LIF solution is the clipped ramp V(t) (see module docstring)."""


@dataclasses.dataclass(frozen=True)
class Condition:
    """One family of trials: a slope range, a noise level and a reset depth.

    Attributes
    ----------
    name
        Label used in the figure and JSON.
    slope_min_mv_ms, slope_max_mv_ms
        Range of ``|dV/dt|`` in mV/ms; ``n_slopes`` log-spaced values on each sign.
    sigma_mv
        Stationary standard deviation of the membrane noise (mV).
    reset_depth_mv
        How far below threshold a spike resets the membrane (mV); ``None``: no reset, a
        threshold-crossing read-out (a spike every refractory period while above threshold).
    n_slopes, n_trials
        Slopes per sign, trials per slope.
    falling_slope_scale, falling_distance_scale
        Falling ramps (s < 0) have the rising ones' slopes times ``falling_slope_scale``
        and distances times ``falling_distance_scale`` (1, 1: the same; the Bi & Poo
        calibration makes falling ramps shallower, as a membrane repolarises more slowly
        than its inputs depolarise it).
    """

    name: str
    slope_min_mv_ms: float
    slope_max_mv_ms: float
    sigma_mv: float
    reset_depth_mv: float | None
    n_slopes: int
    n_trials: int
    falling_slope_scale: float = 1.0
    falling_distance_scale: float = 1.0

    @property
    def slopes_mv_ms(self) -> np.ndarray:
        """Signed slopes, shape (2·n_slopes,), mV/ms, negative ones first."""
        mag = np.geomspace(self.slope_min_mv_ms, self.slope_max_mv_ms, self.n_slopes)
        return np.concatenate([-self.falling_slope_scale * mag[::-1], mag])

    @property
    def n_neurons(self) -> int:
        return 2 * self.n_slopes * self.n_trials


@dataclasses.dataclass(frozen=True)
class STDPCurveConfig:
    """Everything the experiment depends on; units in the field names.

    The defaults are those of ``figures/fig1_stdp_curve.png``.

    Attributes
    ----------
    main, sweeps
        The condition of panel (a) and those of the sensitivity panels (b–d).
    distance_max_mv
        D, the distance of the free voltage below threshold at the pre spike, is uniform on
        (0, distance_max_mv].
    ramp_halfwidth_mv
        The ramp is linear within ±ramp_halfwidth_mv of threshold and flat outside, so that
        voltages stay physiological far from the pre spike.
    t_pre_ms, duration_ms, dt_ms
        Presynaptic spike time, simulated time and integration step.
    eta_ms
        Learning rate η of the S·dV/dt rule (ΔW in mV = η in ms × dV/dt in mV/ms); small, so
        the learned weight does not perturb the post spikes.
    tau_m_ms, v_th_mv, t_ref_ms
        Membrane time constant, threshold, refractory period of the LIF trials.
    seed
        Seed of the trial table and of the membrane noise.
    """

    main: Condition = Condition("main", 0.1, 2.0, 0.5, None, 20, 150)
    sweeps: tuple[Condition, ...] = (
        Condition("noise 0 mV", 0.1, 2.0, 0.0, None, 12, 40),
        Condition("noise 1 mV", 0.1, 2.0, 1.0, None, 12, 40),
        Condition("noise 2 mV", 0.1, 2.0, 2.0, None, 12, 40),
        Condition("slopes 0.3-2 mV/ms", 0.3, 2.0, 0.5, None, 12, 40),
        Condition("slopes 0.1-0.6 mV/ms", 0.1, 0.6, 0.5, None, 12, 40),
        Condition("slopes 0.1-4 mV/ms", 0.1, 4.0, 0.5, None, 12, 40),
        Condition("reset 2 mV", 0.1, 2.0, 0.5, 2.0, 12, 40),
        Condition("reset 5 mV", 0.1, 2.0, 0.5, 5.0, 12, 40),
        Condition("reset 15 mV (deep)", 0.1, 2.0, 0.5, 15.0, 12, 40),
    )
    distance_max_mv: float = 10.0
    ramp_halfwidth_mv: float = 30.0
    t_pre_ms: float = 120.0
    duration_ms: float = 240.0
    dt_ms: float = 0.1
    eta_ms: float = 0.01
    tau_m_ms: float = 20.0
    v_th_mv: float = -50.0
    t_ref_ms: float = 1.0
    seed: int = 1

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return (self.main,) + tuple(self.sweeps)

    def validate(self) -> None:
        """Raise ``ValueError`` with a one-line message for a meaningless configuration."""
        for name in ("duration_ms", "dt_ms", "eta_ms", "tau_m_ms", "distance_max_mv",
                     "ramp_halfwidth_mv"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.t_ref_ms < 0:
            raise ValueError(f"t_ref_ms must not be negative, got {self.t_ref_ms}")
        if not 0 < self.t_pre_ms < self.duration_ms:
            raise ValueError("t_pre_ms must lie inside (0, duration_ms)")
        if self.dt_ms > 0.1 * self.tau_m_ms:
            raise ValueError("dt_ms must be at most a tenth of tau_m_ms for Euler integration")
        for c in self.conditions:
            if not 0 < c.slope_min_mv_ms <= c.slope_max_mv_ms:
                raise ValueError(f"condition {c.name!r}: need 0 < slope_min <= slope_max")
            if c.sigma_mv < 0 or c.n_slopes < 1 or c.n_trials < 1:
                raise ValueError(f"condition {c.name!r}: negative noise or empty")
            if c.reset_depth_mv is not None and not c.reset_depth_mv > 0:
                raise ValueError(f"condition {c.name!r}: the reset (v_th − reset_depth_mv) "
                                 f"must lie below the threshold; reset_depth_mv must be "
                                 f"positive, got {c.reset_depth_mv}")
            if not (c.falling_slope_scale > 0 and c.falling_distance_scale > 0):
                raise ValueError(f"condition {c.name!r}: falling-ramp scales must be positive")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def trial_table(config: STDPCurveConfig) -> dict[str, np.ndarray]:
    """Per-trial parameters, shape (n_neurons,) each.

    Returns
    -------
    dict
        ``condition`` (index into ``config.conditions``), ``slope_mv_ms``, ``distance_mv``,
        ``sigma_mv``, ``reset_depth_mv``, ``resets`` (1 or 0).
    """
    rng = np.random.default_rng(config.seed)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                         ("condition", "slope_mv_ms", "distance_mv",
                                          "sigma_mv", "reset_depth_mv", "resets")}
    for ci, c in enumerate(config.conditions):
        slopes = np.repeat(c.slopes_mv_ms, c.n_trials)
        n = slopes.size
        cols["condition"].append(np.full(n, ci))
        cols["slope_mv_ms"].append(slopes)
        # stratified uniform distances on (0, distance_max]: every slope gets the same set
        # (in shuffled order), so slopes differ in nothing but their slope
        strata = config.distance_max_mv * (np.arange(c.n_trials) + 0.5) / c.n_trials
        scale = np.where(c.slopes_mv_ms < 0, c.falling_distance_scale, 1.0)
        cols["distance_mv"].append(
            np.concatenate([k * rng.permutation(strata) for k in scale]))
        cols["sigma_mv"].append(np.full(n, c.sigma_mv))
        cols["resets"].append(np.full(n, 0.0 if c.reset_depth_mv is None else 1.0))
        cols["reset_depth_mv"].append(np.full(n, c.reset_depth_mv or 0.0))
    return {k: np.concatenate(v) for k, v in cols.items()}


def _network_builder(config: STDPCurveConfig, n: int):
    """Return the ``build`` callable for :func:`stdpsim.backend.simulate`."""
    from brian2 import SpikeGeneratorGroup, SpikeMonitor, mV, ms

    def build() -> backend.Simulation:
        params = neurons.LIFParameters(
            tau_m=config.tau_m_ms * ms, v_th=config.v_th_mv * mV, t_ref=config.t_ref_ms * ms
        )
        post = neurons.lif_group(
            n,
            RAMP_DRIVE,
            params,
            extra_namespace={
                "t_pre": config.t_pre_ms * ms,
                "halfwidth": config.ramp_halfwidth_mv * mV,
            },
            name="post",
        )
        pre = SpikeGeneratorGroup(1, [0], [config.t_pre_ms] * ms, name="pre")
        syn = plasticity.sdvdt_synapses(pre, post, config.eta_ms * ms, name="sdvdt")
        syn.connect()
        mon = SpikeMonitor(post, name="post_spikes")

        def collect() -> dict[str, np.ndarray]:
            order = np.asarray(syn.j[:])
            w = np.empty(n)
            w[order] = np.asarray(syn.w[:] / mV)
            return {
                "spike_i": np.asarray(mon.i[:], dtype=np.int32),
                "spike_t_ms": np.asarray(mon.t[:] / ms, dtype=np.float64),
                "w_mv": w,
            }

        inputs = {
            "s": post.s,
            "D": post.D,
            "sigma": post.sigma,
            "reset_depth": post.reset_depth,
            "resets": post.resets,
            "v_free": post.v_free,
        }
        return backend.Simulation([pre, post, syn, mon], inputs, collect)

    return build


def initial_free_voltage_mv(config: STDPCurveConfig, slope_mv_ms, distance_mv) -> np.ndarray:
    """The clipped ramp at t = 0 (mV), where every trial's free potential starts."""
    ramp = config.v_th_mv - distance_mv + slope_mv_ms * (0.0 - config.t_pre_ms)
    h = config.ramp_halfwidth_mv
    return np.clip(ramp, config.v_th_mv - h, config.v_th_mv + h)


def simulate_trials(
    config: STDPCurveConfig,
    device: str | None = "auto",
    cache: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], backend.RunInfo]:
    """Run every trial of every condition in one simulation.

    Returns
    -------
    trials, raw, info
        The :func:`trial_table`; the raw results (``spike_i``, ``spike_t_ms``, ``w_mv``);
        timings.
    """
    from brian2 import mV, ms

    config.validate()
    trials = trial_table(config)
    n = trials["slope_mv_ms"].size
    values = {
        "s": trials["slope_mv_ms"] * mV / ms,
        "D": trials["distance_mv"] * mV,
        "sigma": trials["sigma_mv"] * mV,
        "reset_depth": trials["reset_depth_mv"] * mV,
        "resets": trials["resets"],
        "v_free": initial_free_voltage_mv(
            config, trials["slope_mv_ms"], trials["distance_mv"]) * mV,
    }
    raw, info = backend.simulate(
        _network_builder(config, n),
        values,
        config.duration_ms * ms,
        device=device,
        dt=config.dt_ms * ms,
        seed=config.seed,
        cache=cache,
    )
    return trials, raw, info


def analyse(
    config: STDPCurveConfig, trials: dict[str, np.ndarray], raw: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Turn trials and raw spikes into the curves, fits and checks of the figure/JSON."""
    n = trials["slope_mv_ms"].size
    delta_t = nearest_spike_offsets(raw["spike_i"], raw["spike_t_ms"], n, config.t_pre_ms)
    delta_w = raw["w_mv"]  # initial weight 0: the final weight is ΔW
    conditions = []
    for ci, c in enumerate(config.conditions):
        sel = trials["condition"] == ci
        curve = per_group_means(trials["slope_mv_ms"][sel], delta_t[sel], delta_w[sel])
        fit = fit_window(curve["delta_t"], curve["delta_w"])
        conditions.append({
            "name": c.name,
            "params": dataclasses.asdict(c),
            "slope_mv_ms": curve["key"].tolist(),
            "delta_t_ms": curve["delta_t"].tolist(),
            "delta_w_mv": curve["delta_w"].tolist(),
            "n_per_slope": curve["n"].tolist(),
            "n_trials": int(sel.sum()),
            "n_without_spike": int(np.sum(~np.isfinite(delta_t[sel]))),
            "fit": {"A_plus_mv": fit["A_plus"], "tau_plus_ms": fit["tau_plus"],
                    "A_minus_mv": fit["A_minus"], "tau_minus_ms": fit["tau_minus"]},
        })
    main_sel = trials["condition"] == 0
    main = conditions[0]
    curve_t, curve_w = np.array(main["delta_t_ms"]), np.array(main["delta_w_mv"])
    binned = binned_trials(delta_t[main_sel], delta_w[main_sel])
    fit_b = fit_window(binned["delta_t"], binned["delta_w"])
    fit = main["fit"]
    bp_plus, bp_minus = fit_amplitudes(curve_t, curve_w, BI_POO_TAU_PLUS_MS,
                                       BI_POO_TAU_MINUS_MS)
    return {
        "delta_t_ms": main["delta_t_ms"],
        "delta_w": main["delta_w_mv"],
        "delta_w_unit": "mV",
        "slope_mv_ms": main["slope_mv_ms"],
        "fit": {"A_plus": fit["A_plus_mv"], "tau_plus_ms": fit["tau_plus_ms"],
                "A_minus": fit["A_minus_mv"], "tau_minus_ms": fit["tau_minus_ms"],
                "A_unit": "mV"},
        "bi_poo": {"tau_plus_ms": BI_POO_TAU_PLUS_MS, "tau_minus_ms": BI_POO_TAU_MINUS_MS,
                   "A_plus_fitted_mv": bp_plus, "A_minus_fitted_mv": bp_minus},
        "binned": {**{k: v.tolist() for k, v in binned.items()}, "width_ms": BIN_WIDTH_MS,
                   "fit": {"A_plus": fit_b["A_plus"], "tau_plus_ms": fit_b["tau_plus"],
                           "A_minus": fit_b["A_minus"], "tau_minus_ms": fit_b["tau_minus"]},
                   "coverage": coverage(binned["delta_t"])},
        "trials_sample": sample_trials(delta_t[main_sel], delta_w[main_sel], N_SAMPLE_TRIALS,
                                 config.seed),
        "checks": shape_checks(curve_t, curve_w),
        "coverage": coverage(curve_t),
        "n_trials": int(n),
        "n_trials_main": int(main_sel.sum()),
        "conditions": conditions,
    }


# ------------------------------------------------------------------ Bi & Poo calibration


def readout_trials(condition: Condition, distance_max_mv: float, eta_ms: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """ΔT (ms) and ΔW (mV) of every trial of ``condition`` for the noise-free threshold
    read-out, in closed form: a rising ramp crosses threshold D/s after the pre spike, a
    falling one left it ``D/|s|`` before, and ΔW = η·s.  Shape (n_trials_total,) each; the
    distances are the trial table's strata (uniform on (0, distance_max])."""
    strata = distance_max_mv * (np.arange(condition.n_trials) + 0.5) / condition.n_trials
    slopes = np.repeat(condition.slopes_mv_ms, condition.n_trials)
    scale = np.where(slopes < 0, condition.falling_distance_scale, 1.0)
    distance = scale * np.tile(strata, condition.slopes_mv_ms.size)
    return distance / slopes, eta_ms * slopes  # D/s: after the pre spike when s > 0


def window_of_trials(delta_t: np.ndarray, delta_w: np.ndarray) -> dict[str, float]:
    """The exponential fit to single trials binned in ΔT
    (:data:`stdpsim.stdp_window.BIN_WIDTH_MS` bins within
    ±:data:`stdpsim.stdp_window.BIN_RANGE_MS`), as a single-pairing experiment such as Bi & Poo's sees them;
    ``ratio`` is A−/A+."""
    b = binned_trials(delta_t, delta_w)
    f = fit_window(b["delta_t"], b["delta_w"])
    return {**f, "ratio": f["A_minus"] / f["A_plus"]}


def bi_poo_mismatch(fit: dict[str, float]) -> float:
    """Sum of squared log-ratios of τ+, τ− and A−/A+ to Bi & Poo's; inf for a window
    without LTP and LTD."""
    target = BI_POO_A_MINUS / BI_POO_A_PLUS
    values = np.array([fit["tau_plus"], fit["tau_minus"], fit["ratio"]])
    if not np.all(np.isfinite(values)) or fit["ratio"] >= 0:
        return np.inf
    return float(np.log(fit["tau_plus"] / BI_POO_TAU_PLUS_MS) ** 2
                 + np.log(fit["tau_minus"] / BI_POO_TAU_MINUS_MS) ** 2
                 + np.log(fit["ratio"] / target) ** 2)


def fit_bi_poo(start: Condition, distance_max_mv: float = 10.0, eta_ms: float = 0.01
               ) -> Condition:
    """The slope range and the falling ramps' slope and distance scales with which the
    noise-free threshold read-out (:func:`readout_trials`) has Bi & Poo's window
    (:func:`bi_poo_mismatch`, Nelder–Mead on the logarithms, from ``start``); noise, reset
    and the other fields stay as in ``start``."""
    from scipy.optimize import minimize

    def cond(p: np.ndarray) -> Condition:
        lo, hi, k, m = np.exp(p)
        return dataclasses.replace(start, slope_min_mv_ms=float(min(lo, hi)),
                                   slope_max_mv_ms=float(max(lo, hi)),
                                   falling_slope_scale=float(k),
                                   falling_distance_scale=float(m))

    def loss(p: np.ndarray) -> float:
        return bi_poo_mismatch(window_of_trials(*readout_trials(cond(p), distance_max_mv,
                                                                eta_ms)))

    p0 = np.log([start.slope_min_mv_ms, start.slope_max_mv_ms, start.falling_slope_scale,
                 start.falling_distance_scale])
    simplex = np.vstack([p0, p0 + 0.3 * np.eye(p0.size)])  # steps of about 35 % each
    best = minimize(loss, p0, method="Nelder-Mead",
                    options={"maxiter": 800, "xatol": 1e-4, "fatol": 1e-10,
                             "initial_simplex": simplex})
    return cond(best.x)


def run_experiment(
    config: STDPCurveConfig = STDPCurveConfig(),
    device: str | None = "auto",
    cache: str | None = None,
    spikes_path: str | Path | None = None,
) -> dict[str, Any]:
    """Simulate, analyse and (optionally) save the spikes; returns the results dict.

    The dict holds the curve (``delta_t_ms``, ``delta_w``), the fit, per-condition curves,
    shape checks, the configuration with units in its field names, the device and the wall
    time of the whole call (``wall_s``).
    """
    t0 = time.perf_counter()
    trials, raw, info = simulate_trials(config, device=device, cache=cache)
    results = analyse(config, trials, raw)
    if spikes_path is not None:
        # display order: condition first, so each condition is one block of rows
        counts = np.bincount(trials["condition"], minlength=len(config.conditions))
        edges = np.concatenate(([0], np.cumsum(counts))).tolist()
        groups = [{"name": c.name, "start": edges[k], "stop": edges[k + 1]}
                  for k, c in enumerate(config.conditions)]
        runs.save_spikes(spikes_path, raw["spike_i"], raw["spike_t_ms"],
                    n=trials["slope_mv_ms"].size,
                    duration_ms=config.duration_ms,
                    order=np.lexsort((trials["distance_mv"], trials["slope_mv_ms"],
                                      trials["condition"])),
                    meta={"experiment": "fig1_stdp_curve", "t_pre_ms": config.t_pre_ms,
                          "display_order": "condition (main first), slope, distance",
                          "main_rows": [0, int(np.sum(trials["condition"] == 0))],
                          "groups": groups},
                    **{k: v for k, v in trials.items()})
        results["spikes_file"] = str(spikes_path)
    results.update({
        "config": config.to_json(),
        "device": info.device,
        "build_cached": info.cached,
        "build_s": info.build_s,
        "sim_s": info.run_s,
        "wall_s": time.perf_counter() - t0,
    })
    return results
