#!/usr/bin/env python3
"""Fidelity study: spiking INFERENCE against the rate model's, over a grid of r_max and τ.

For every kind of unit (LIF, Poisson) and (r_max, τ) the same test digits run through spiking INFERENCE
(:func:`stdpsim.spiking_network.run_inference`, one compiled simulation per setting) and
through the rate model; recorded per setting: the correlation and mean squared difference
of the h1 and h2 trajectories (all digits, steps and units; also of their change since the
start), and the log p(x, h) gain over the 20 steps of both.  Each finished setting is saved
at once, so a stopped run continues where it stopped (rows of another model, recognised by
the model file's SHA-256, are discarded).

Which setting is the paper's spike-like corruption (h̃2 = mean of 3 Bernoulli(h2) draws,
variance h2(1 − h2)/3)?  A unit firing Poisson spikes at r_max·h2, read through a trace of
time constant τ_syn and gain 1/(r_max·τ_syn), has mean h2 and variance h2/(2·r_max·τ_syn)
(Campbell's theorem).  The two variances match at r_max·τ_syn = 3/(2(1 − h2)): 3 at
h2 = 0.5, i.e. r_max = 3 kHz for τ_syn = 1 ms
(:func:`stdpsim.spiking_network.bernoulli_equivalent_r_max`); the JSON records it and the
figure marks it.

Writes ``figures/spiking_vs_rate.json`` and ``figures/spiking_vs_rate.png``.

    python experiments/spiking_vs_rate.py [--data DIR] [--digits 20] [--r-max 1000,2000,...]
                                          [--tau 10,20,40] [--neuron lif,poisson]
                                          [--device cpp_standalone]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from brian2 import Hz, ms

from stdpsim import plotting, rate_model, spiking_network
from stdpsim.data import load_mnist
from stdpsim.runs import file_digest, read_json, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"))
    ap.add_argument("--digits", type=int, default=20, help="first test digits")
    ap.add_argument("--r-max", default="1000,2000,4000,8000,16000", help="Hz, comma-separated")
    ap.add_argument("--tau", default="10,20,40", help="ms, comma-separated")
    ap.add_argument("--neuron", default=",".join(spiking_network.NEURONS),
                    help="kinds of unit, comma-separated (lif, poisson)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_vs_rate.json"))
    args = ap.parse_args()

    model = rate_model.load_model(args.model)
    x = load_mnist("test", args.data)[0][:args.digits]
    rates = [float(v) for v in args.r_max.split(",")]
    taus = [float(v) for v in args.tau.split(",")]
    out = Path(args.out)
    results = read_json(out) if out.exists() else {}
    model_sha = file_digest(args.model)
    if results.get("n_digits") != args.digits or results.get("model_sha256_16") != model_sha:
        # rows of other digits or of another model (even one saved under the same path)
        results = {"model": shown_path(args.model), "model_sha256_16": model_sha,
                   "n_digits": args.digits, "rows": []}
    tau_syn = spiking_network.SpikingParameters().tau_syn
    results["paper_corruption"] = {
        "r_max_hz_at_h2_0.5": float(spiking_network.bernoulli_equivalent_r_max(tau_syn) / Hz),
        "rule": "r_max * tau_syn = 3 / (2 (1 - h2))", "tau_syn_ms": float(tau_syn / ms)}
    kinds = args.neuron.split(",")
    for kind in kinds:
        if kind not in spiking_network.NEURONS:
            raise SystemExit(f"--neuron: {kind!r} is not one of {spiking_network.NEURONS}")
    for row in results["rows"]:  # rows from before LIF units existed are Poisson units
        row.setdefault("neuron", "poisson")
    done = {(r["neuron"], r["r_max_hz"], r["tau_ms"]) for r in results["rows"]}
    for kind, tau, r_max in ((k, t, r) for k in kinds for t in taus for r in rates):
        if (kind, r_max, tau) in done:
            continue
        params = spiking_network.sweep_parameters(r_max, tau, neuron=kind)
        dt = params.dt
        res = spiking_network.run_inference(model, x, params, device=args.device,
                                            record_spikes=False)
        cmp = spiking_network.compare_with_rate(res, model, x)
        row = {"neuron": kind, "r_max_hz": r_max, "tau_ms": tau, "dt_ms": float(dt / ms),
               **{k: v for k, v in cmp.items() if k not in ("spiking", "rate")},
               "log_p_gain_spiking": cmp["spiking"]["gain"],
               "log_p_gain_rate": cmp["rate"]["gain"],
               "log_p_spiking": cmp["spiking"]["mean"], "run_s": res.info.run_s}
        results["rows"].append(row)
        write_json(out, results)
        print(f"{kind}, r_max {r_max:g} Hz, tau {tau:g} ms: corr h1 {row['corr_h1']:.3f} h2 "
              f"{row['corr_h2']:.3f}; log p gain {row['log_p_gain_spiking']:+.1f} "
              f"(rate {row['log_p_gain_rate']:+.1f}); run {row['run_s']:.1f} s", flush=True)
    plotting.plot_spiking_fidelity(read_json(out), out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
