#!/usr/bin/env python3
"""Fidelity study: spiking INFERENCE against the rate model's, over the rate per neuron, the
neurons per unit and τ.

Two grids, for both kinds of unit (LIF, Poisson): single neurons per unit over r_max × τ,
and ensembles (n neurons per unit, ``SpikingParameters.ensemble``, simulated as n neurons)
over n × the rate per neuron × τ; LIF members with a cortical membrane time constant
(``--ensemble-tau-m``, 20 ms), without and with their own membrane noise
(``--member-noise``: σ in reset depths, ``SpikingParameters.member_sigma``).  For every
setting the same test digits run through spiking INFERENCE
(:func:`stdpsim.spiking.run_inference`, one compiled simulation per setting) and
through the rate model; recorded per setting: the correlation and mean squared
difference of the h1 and h2 trajectories (all digits, steps and units; also of their change
since the start), the log p(x, h) gain over the 20 steps of both, the biological time of one
inference and, for ensembles, the synapses and events it costs.  Each finished setting is
saved at once as its own file (``runs/spiking_vs_rate/``), so a stopped run continues where
it stopped; points of another model (recognised by the model file's SHA-256) or other digits
are never reused.  The points run in parallel on dask.distributed
(:func:`stdpsim.sweeps.run_grid`: one worker per core, or ``--scheduler ADDRESS``).

Which setting is the paper's spike-like corruption (h̃2 = mean of 3 Bernoulli(h2) draws,
variance h2(1 − h2)/3)?  A unit firing Poisson spikes at r_max·h2, read through a trace of
time constant τ_syn and gain 1/(r_max·τ_syn), has mean h2 and variance h2/(2·r_max·τ_syn)
(Campbell's theorem).  The two variances match at r_max·τ_syn = 3/(2(1 − h2)): 3 at
h2 = 0.5, i.e. r_max = 3 kHz for τ_syn = 1 ms
(:func:`stdpsim.spiking.bernoulli_equivalent_r_max`); the JSON records it and the
figure marks it.

Writes ``figures/spiking_vs_rate.json`` and ``figures/spiking_vs_rate.png``.

    python experiments/spiking_vs_rate.py [--data DIR] [--digits 20] [--r-max 1000,2000,...]
                                          [--tau 10,20,40] [--neuron lif,poisson]
                                          [--ensembles 10,40] [--ensemble-rates 20,50,...]
                                          [--ensemble-tau 10,40] [--ensemble-tau-m 20]
                                          [--member-noise 0,0.2]
                                          [--device cpp_standalone]
                                          [--scheduler ADDRESS | serial] [--workers N]
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from brian2 import Hz, mV, ms

from stdpsim import errors, model_files, plotting, spiking, sweeps
from stdpsim.data import load_mnist
from stdpsim.runs import file_digest, read_json, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]


CORR_GOAL = 0.95
"""The h2 correlation with the rate trajectory that counts as faithful."""
CORTICAL_HZ = 200.0
"""The largest rate per neuron that counts as cortical (peaks of about 100–200 Hz)."""
MAX_INFERENCE_MS = 500.0
"""The longest biological time one INFERENCE may take."""


def variant(row: dict) -> str:
    """The kind of unit of a row: ``lif``, ``poisson``, or ``lif_noisy`` (LIF ensemble
    members with their own membrane noise)."""
    return row["neuron"] + ("_noisy" if row.get("member_noise") else "")


def best_cortical(rows: list[dict]) -> dict:
    """Per kind of unit (:func:`variant`), the row with the lowest rate per neuron whose h2
    correlation reaches :data:`CORR_GOAL` within :data:`MAX_INFERENCE_MS` (ties: the smaller
    ensemble, then the shorter inference); None where no row does."""
    out = {}
    for kind in sorted({variant(r) for r in rows}):
        ok = [r for r in rows if variant(r) == kind and r["corr_h2"] >= CORR_GOAL
              and r["t_inference_ms"] <= MAX_INFERENCE_MS]
        out[kind] = min(ok, key=lambda r: (r["rate_per_neuron_hz"], r["ensemble"],
                                           r["t_inference_ms"])) if ok else None
    return out


def point_parameters(point: dict) -> spiking.SpikingParameters:
    """The network parameters of a grid point (single units carry no ``ensemble`` key, and
    points without member noise no ``member_noise`` key, so their cached results stay
    valid).  ``member_noise``: the members' own noise σ in reset depths."""
    extra = {"ensemble": point["ensemble"]} if "ensemble" in point else {}
    if point.get("tau_m_ms") is not None:
        extra["tau_m"] = point["tau_m_ms"] * ms
    params = spiking.sweep_parameters(point["r_max_hz"], point["tau_ms"],
                                              neuron=point["neuron"], **extra)
    if point.get("member_noise"):
        params = dataclasses.replace(params,
                                     member_sigma=point["member_noise"] * params.reset_depth)
    return params


def fidelity_point(point: dict) -> dict:
    """One grid point: spiking INFERENCE of the first ``digits`` test images at this unit
    kind, ensemble, rate and τ, compared with the rate model (runs in a dask worker)."""
    model = model_files.load_model(point["model"])
    x = load_mnist("test", point["data"])[0][:point["digits"]]
    params = point_parameters(point)
    res = spiking.run_inference(model, x, params, device=point["device"],
                                        record_spikes=False)
    cmp = spiking.compare_with_rate(res, model, x)
    row = {"neuron": point["neuron"], "r_max_hz": point["r_max_hz"],
           "tau_ms": point["tau_ms"], "dt_ms": float(params.dt / ms),
           **{k: v for k, v in cmp.items() if k not in ("spiking", "rate",
                                                        "spiking_minus_rate")},
           "log_p_gain_spiking": cmp["spiking"]["gain"],
           "log_p_gain_rate": cmp["rate"]["gain"],
           "log_p_spiking": cmp["spiking"]["mean"], "run_s": res.info.run_s}
    if "ensemble" in point:
        n_syn = sum(w.size for w in model.weights.values()) * params.ensemble
        if point.get("member_noise"):
            row.update({"member_noise": point["member_noise"],
                        "member_sigma_mv": float(params.member_sigma / mV)})
        row.update({"ensemble": params.ensemble, "tau_m_ms": float(params.tau_m / ms),
                    "synapses": int(n_syn),
                    "synaptic_events_per_digit": res.events["synaptic"] / len(x),
                    "spikes_per_digit": sum(v for k, v in res.events.items()
                                            if k.startswith("spikes_")) / len(x)})
    return row


def with_costs(row: dict) -> dict:
    """A row with its ensemble size (1 for single units), rate per neuron, synapse factor
    and the biological time of one INFERENCE (settling + 20 steps)."""
    n = row.get("ensemble", 1)
    point = {k: row[k] for k in ("neuron", "r_max_hz", "tau_ms")}
    for key in ("tau_m_ms", "member_noise"):
        if key in row:
            point[key] = row[key]
    params = point_parameters({**point, "ensemble": n})
    return {**row, "ensemble": n, "rate_per_neuron_hz": row["r_max_hz"],
            "population_rate_hz": n * row["r_max_hz"], "synapse_factor": n,
            "t_inference_ms": float(params.t_digit / ms)}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"))
    ap.add_argument("--digits", type=errors.count, default=20, help="first test digits")
    ap.add_argument("--r-max", type=errors.numbers(errors.positive),
                    default="1000,2000,4000,8000,16000", help="Hz, comma-separated")
    ap.add_argument("--tau", type=errors.numbers(errors.positive), default="10,20,40",
                    help="ms, comma-separated")
    ap.add_argument("--neuron", default=",".join(spiking.NEURONS),
                    help="kinds of unit, comma-separated (lif, poisson)")
    ap.add_argument("--ensembles", type=errors.numbers(errors.count), default="10,40",
                    help="neurons per unit of the ensemble grid, comma-separated ('' for none)")
    ap.add_argument("--ensemble-rates", type=errors.numbers(errors.positive),
                    default="20,50,100,200",
                    help="ensemble grid: rates per neuron at the top of the range, Hz")
    ap.add_argument("--ensemble-tau", type=errors.numbers(errors.positive), default="10,40",
                    help="ensemble grid: τ, ms")
    ap.add_argument("--ensemble-tau-m", type=errors.positive, default=20.0,
                    help="membrane time constant of LIF members, ms [default: 20]")
    ap.add_argument("--member-noise", type=errors.numbers(errors.non_negative), default="0,0.2",
                    help="LIF ensembles: each member's own membrane noise σ in reset depths, "
                         "comma-separated (0: none) [default: 0,0.2]")
    ap.add_argument("--device", default="auto")
    sweeps.add_arguments(ap, "the grid points")
    ap.add_argument("--cache", default=str(ROOT / "runs" / "spiking_vs_rate"),
                    help="folder of the per-point results (a re-run computes only the "
                         "missing points)")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_vs_rate.json"))
    ap.add_argument("--replot", action="store_true",
                    help="only redraw the PNG from the existing --out JSON")
    args = ap.parse_args()
    if args.replot:
        out = Path(args.out)
        plotting.plot_spiking_fidelity(read_json(out), out.with_suffix(".png"))
        print(f"wrote {out.with_suffix('.png')} from {out}")
        return

    kinds = args.neuron.split(",")
    for kind in kinds:
        if kind not in spiking.NEURONS:
            raise SystemExit(f"--neuron: {kind!r} is not one of {spiking.NEURONS}")
    model_path = str(Path(args.model).resolve())
    data = str(Path(args.data).resolve()) if args.data else None
    load_mnist("test", data)  # a missing data folder fails here, not in every worker
    model_sha = file_digest(model_path)
    rates, taus = args.r_max, args.tau
    # the model's digest and the digits are part of every point: results of another model
    # or other digits are never reused
    common = {"digits": args.digits, "model_sha256_16": model_sha, "model": model_path,
              "data": data, "device": args.device}
    points = [{"neuron": kind, "tau_ms": tau, "r_max_hz": r_max, **common}
              for kind in kinds for tau in taus for r_max in rates]
    sizes = args.ensembles
    if any(n < 2 for n in sizes):
        raise SystemExit("--ensembles: sizes must be at least 2 (single units are --r-max)")
    noise = args.member_noise
    lif_extras = [{"tau_m_ms": args.ensemble_tau_m, **({"member_noise": f} if f else {})}
                  for f in noise or [0.0]]
    points += [{"neuron": kind, "tau_ms": float(tau), "r_max_hz": float(r), "ensemble": n,
                **extra, **common}
               for kind in kinds for extra in (lif_extras if kind == "lif" else [{}])
               for n in sizes for tau in args.ensemble_tau for r in args.ensemble_rates]
    rows = sweeps.run_grid(fidelity_point, points, args.cache, scheduler=args.scheduler,
                           n_workers=args.workers, log=print)
    rows = [with_costs(row) for row in rows]
    best = best_cortical(rows)
    tau_syn = spiking.SpikingParameters().tau_syn
    out = Path(args.out)
    write_json(out, {
        "model": shown_path(args.model), "model_sha256_16": model_sha,
        "n_digits": args.digits, "rows": rows, "ensemble_sizes": [1, *sizes],
        "ensemble_tau_m_ms": args.ensemble_tau_m, "member_noise": noise,
        "lowest_rate_per_neuron": best,
        "goals": {"corr_h2": CORR_GOAL, "max_rate_per_neuron_hz": CORTICAL_HZ,
                  "max_inference_ms": MAX_INFERENCE_MS},
        "paper_corruption": {
            "r_max_hz_at_h2_0.5": float(spiking.bernoulli_equivalent_r_max(tau_syn)
                                        / Hz),
            "rule": "r_max * tau_syn = 3 / (2 (1 - h2))", "tau_syn_ms": float(tau_syn / ms)}})
    for r in rows:
        print(f"{variant(r)} x{r['ensemble']}, {r['r_max_hz']:g} Hz per neuron, tau "
              f"{r['tau_ms']:g} ms: corr h1 "
              f"{r['corr_h1']:.3f} h2 {r['corr_h2']:.3f}; log p gain "
              f"{r['log_p_gain_spiking']:+.1f} (rate {r['log_p_gain_rate']:+.1f}); run "
              f"{r['run_s']:.1f} s")
    for kind, r in best.items():
        if r is None:
            print(f"{kind}: no setting reaches h2 correlation {CORR_GOAL}")
            continue
        print(f"{kind}: lowest rate per neuron with h2 correlation >= {CORR_GOAL} "
              f"within {MAX_INFERENCE_MS:g} ms: {r['rate_per_neuron_hz']:g} Hz (ensemble "
              f"{r['ensemble']}, r_max {r['r_max_hz']:g} Hz, tau {r['tau_ms']:g} ms, one "
              f"inference {r['t_inference_ms']:g} ms; corr {r['corr_h2']:.3f}; synapses "
              f"x{r['synapse_factor']})")
    plotting.plot_spiking_fidelity(read_json(out), out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    errors.run_script(main)
