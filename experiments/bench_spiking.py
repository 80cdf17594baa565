#!/usr/bin/env python3
"""Benchmark: spiking INFERENCE throughput, against a plain LIF network of the same size and
against Brian2's numpy target on the same workload, all in one run.

1. the plain 784 → 1000 → 100 LIF network with feedback (984,000 synapses,
   :mod:`stdpsim.bench_networks`), 1 s of biological time, cpp_standalone, run
   ``--reference-repeats`` times (same seed, so the same spikes); the fastest run is the
   reference, which makes the share of (2) a conservative figure;
2. spiking INFERENCE (:mod:`stdpsim.spiking`, default parameters: LIF units) on ``--digits``
   test digits in one compiled simulation, cpp_standalone;
3. spiking INFERENCE at the cortical-rate setting (10 LIF neurons per unit at up to 200 Hz
   each, τ = 40 ms, τ_m = 20 ms) on ``--cortical-digits`` digits;
4. the same spiking INFERENCE as (2) on ``--numpy-digits`` digits, once with cpp_standalone and
   once with the numpy target: the ratio of their run times.

Reported: wall time (building, compiling when not cached, running and reading results), run
time (simulation only; compilation separately), real-time factor (run time per
second of biological time), synaptic events per second (events × fan-out / run time), and
the throughput of (2) as a share of (1).  Writes ``figures/bench_spiking.json``.

    python experiments/bench_spiking.py [--data DIR] [--digits 1000] [--numpy-digits 2]
                                        [--cortical-digits 100]
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from brian2 import second

from stdpsim import backend, bench_networks, errors, model_files, spiking
from stdpsim.data import load_mnist
from stdpsim.runs import write_json

ROOT = Path(__file__).resolve().parents[1]


def cortical_parameters() -> spiking.SpikingParameters:
    """The ``cortical`` preset: 10 LIF neurons per unit at up to 200 Hz each, τ = 40 ms,
    τ_m = 20 ms (the fidelity study's cortical-rate LIF point)."""
    return spiking.preset("cortical")


def spiking_row(model, x, device: str,
                params: spiking.SpikingParameters | None = None) -> dict:
    params = params or spiking.preset("inference")
    res = spiking.run_inference(model, x, params, device=device, record_spikes=False)
    bio = float(x.shape[0] * params.t_digit / second)
    return {"device": device, "neuron": params.neuron,
            "parameters": spiking.parameters_summary(params),
            "n_digits": int(x.shape[0]), "biological_s": bio,
            "wall_s": res.info.wall_s, "run_s": res.info.run_s, "build_s": res.info.build_s,
            "cached_build": res.info.cached, "realtime_factor": res.info.run_s / bio,
            "synaptic_events": res.events["synaptic"],
            "synaptic_events_per_s": res.events["synaptic"] / res.info.run_s,
            "events": res.events}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"))
    ap.add_argument("--digits", type=errors.count, default=1000)
    ap.add_argument("--numpy-digits", type=errors.count, default=2)
    ap.add_argument("--cortical-digits", type=errors.count, default=100,
                    help="digits at the cortical-rate setting (0: none)")
    ap.add_argument("--reference-repeats", type=errors.count, default=5,
                    help="runs of the plain LIF network; the fastest is the reference")
    ap.add_argument("--out", default=str(ROOT / "figures" / "bench_spiking.json"))
    args = ap.parse_args()

    model = model_files.load_model(args.model)
    x_all = load_mnist("test", args.data)[0]
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}

    if args.reference_repeats < 1:
        raise SystemExit("--reference-repeats must be at least 1")
    runs_s, build_s = [], []
    for _ in range(args.reference_repeats):  # short and noisy: keep the fastest
        res, info = backend.simulate(bench_networks.plain_lif_builder(), {}, 1 * second,
                                     device="cpp_standalone")
        runs_s.append(info.run_s)
        build_s.append(info.build_s)
    best = min(runs_s)
    ref = {"biological_s": 1.0, "run_s": best, "run_s_repeats": runs_s,
           "build_s": build_s[0], "realtime_factor": best,
           "synaptic_events": int(res["synaptic"]),
           "synaptic_events_per_s": float(res["synaptic"]) / best,
           "spikes": {k[7:]: int(v) for k, v in res.items() if k.startswith("spikes_")}}
    results["plain_lif_reference"] = ref
    print(f"plain LIF 784-1000-100 with feedback: 1 s in {best:.2f} s (fastest of "
          f"{', '.join(f'{t:.2f}' for t in runs_s)}), "
          f"{ref['synaptic_events_per_s'] / 1e6:.0f} M synaptic events/s", flush=True)

    row = spiking_row(model, x_all[:args.digits], "cpp_standalone")
    results["spiking_inference"] = row
    share = row["synaptic_events_per_s"] / ref["synaptic_events_per_s"]
    results["throughput_share_of_reference"] = share
    print(f"spiking INFERENCE, {row['n_digits']} digits ({row['biological_s']:.1f} s): wall "
          f"{row['wall_s']:.1f} s, run {row['run_s']:.1f} s, "
          f"{row['synaptic_events_per_s'] / 1e6:.0f} M synaptic "
          f"events/s = {100 * share:.0f} % of the plain LIF network", flush=True)

    if args.cortical_digits > 0:
        row = spiking_row(model, x_all[:args.cortical_digits], "cpp_standalone",
                          cortical_parameters())
        results["cortical_setting"] = row
        print(f"the same at cortical rates (10 LIF neurons per unit at up to 200 Hz, tau 40 ms), "
              f"{row['n_digits']} digits ({row['biological_s']:.1f} s): run "
              f"{row['run_s']:.1f} s, {row['synaptic_events_per_s'] / 1e6:.0f} M synaptic "
              f"events/s = {100 * row['synaptic_events_per_s'] / ref['synaptic_events_per_s']:.0f}"
              f" % of the plain LIF network", flush=True)

    small = x_all[:args.numpy_digits]
    cpp, npy = spiking_row(model, small, "cpp_standalone"), spiking_row(model, small, "numpy")
    results["same_workload"] = {"cpp_standalone": cpp, "numpy": npy,
                                "numpy_over_cpp_run_time": npy["run_s"] / cpp["run_s"]}
    print(f"{args.numpy_digits} digits: cpp_standalone run {cpp['run_s']:.2f} s, numpy "
          f"{npy['run_s']:.2f} s → {npy['run_s'] / cpp['run_s']:.1f}×", flush=True)
    write_json(args.out, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    errors.run_script(main)
