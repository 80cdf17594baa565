#!/usr/bin/env python3
"""Mechanism check: the spiking S·dV/dt learner's weight change against its rate twin's.

The same minibatch (the first 100 training images) and the same starting weights (the
training's initialisation: orthogonal, seed 0) go through the spiking learner
(:func:`stdpsim.spiking.run_learning`: LIF units, every synapse changing by η·dV/dt at
each presynaptic spike, one simulation per setting) and through the rate twin
(:func:`stdpsim.plasticity.sdvdt_updates`, the same INFERENCE settings).  With a small
learning rate the weights hardly move during the minibatch, so the spiking change summed over
the 100 examples, w_after − w_before, estimates ε × the twin's summed update.  Per layer (and
per layer's biases): the cosine similarity of the two and the ratio of their norms, over a
grid of r_max and phase duration (τ sets the INFERENCE steps, δ·τ each; the reconstruction
phase lasts τ and its membranes move with τ/5), at the settings the first design trained
with (the ``first_design`` preset, :func:`stdpsim.spiking_training.training_parameters`;
rows of kind ``training``), and at those
settings at cortical rates (10 LIF neurons per unit at up to 200 Hz each, τ_m = 20 ms; and 40
at up to 50 Hz each with their own membrane noise, σ = 2 mV; τ = 10 and 40 ms).

Each finished setting is saved at once (a stopped run continues; rows of another model or
minibatch are discarded).  Writes ``figures/spiking_rule_vs_rate.json`` and ``.png``.

    python experiments/spiking_rule_vs_rate.py [--data DIR] [--n 100]
                                               [--r-max 1000,2000,4000,8000] [--tau 10,20,40]
                                               [--start MODEL --out OTHER.json]

``--start`` compares at a trained model's weights instead of the initialisation (write it to
another ``--out``); ``--r-max ''`` leaves the grid out and runs the training's settings only;
``--no-cortical`` leaves out the cortical-rate settings.  The figure at the shipped spiking
model's weights: ``--start models/spiking_mnist.npz --tau 10 --no-cortical --out
figures/spiking_rule_vs_rate_trained.json``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from brian2 import Hz, mV, ms

from stdpsim import (errors, model_files, plasticity, plotting, rate_config, rate_model,
                     spiking, spiking_training)
from stdpsim.data import load_mnist
from stdpsim.spiking import compare
from stdpsim.runs import read_json, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]
LEARNING_RATE = 1e-6
"""ε of every layer: so small that 100 examples hardly move the weights (each row records
|ΔW| / |W|).  With ε = 1e-4 the decoders' weights moved enough that the later examples had
smaller errors, and the summed change fell to about 0.6 of the twin's at the starting
weights."""


CORTICAL_ENSEMBLE = 10
CORTICAL_HZ = 200.0
CORTICAL_TAU_M_MS = 20.0
CORTICAL_TAUS_MS = (10.0, 40.0)
"""The cortical-rate settings: the training's rate per unit from 10 LIF neurons at up to
200 Hz each, with a cortical membrane time constant (as in the fidelity study,
``experiments/spiking_vs_rate.py``), at the training's τ and at τ = 40 ms, where the
members' rate, which follows h + τ_m·dh/dt, lags the value less (τ_m/τ = 0.5, not 2)."""
NOISY_ENSEMBLE = 40
NOISY_HZ = 50.0
NOISY_SIGMA_MV = 2.0
"""The same rate per unit from 40 LIF neurons at up to 50 Hz each with their own membrane
noise of 2 mV (0.2 reset depths; the fidelity study's lowest-rate LIF setting)."""


def describe(params: spiking.SpikingParameters,
             learning: spiking.LearningParameters) -> dict:
    """A setting as plain numbers (the row's key fields)."""
    return {"r_max_hz": float(params.r_max / Hz), "tau_ms": float(params.tau / ms),
            "dt_ms": float(params.dt / ms), "n_steps": params.n_steps,
            "t_example_ms": float(learning.t_example(params) / ms),
            "ensemble": params.ensemble, "tau_m_ms": float(params.tau_m / ms),
            "rate_per_unit_hz": float(params.ensemble * params.r_max / Hz),
            # (only when set: the rows saved before it existed keep their keys)
            **({"member_sigma_mv": float(params.member_sigma / mV)}
               if float(params.member_sigma) > 0 else {})}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--n", type=errors.count, default=100, help="training images in the minibatch")
    ap.add_argument("--r-max", type=errors.numbers(errors.positive), default="1000,2000,4000,8000",
                    help="Hz, comma-separated")
    ap.add_argument("--tau", type=errors.numbers(errors.positive), default="10,20,40",
                    help="ms, comma-separated")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=errors.natural, default=0, help="spike-timing seed")
    ap.add_argument("--start", default=None,
                    help="model file (.npz) whose weights both learners start from "
                         "[default: the training's initialisation]")
    ap.add_argument("--no-cortical", action="store_true",
                    help="leave out the settings at cortical rates (ensembles)")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_rule_vs_rate.json"))
    args = ap.parse_args()
    if args.n < 1:
        raise SystemExit("--n must be positive")

    cfg = rate_config.TrainConfig()
    model = rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers, init=cfg.init)
    if args.start is not None:
        model = model_files.load_model(args.start)
    x = load_mnist("train", args.data)[0][:args.n]
    out = Path(args.out)
    results = read_json(out) if out.exists() else {}
    setup = {"n_examples": args.n, "init": cfg.init, "init_seed": cfg.seed,
             **({} if args.start is None else {"start": shown_path(args.start)}),
             "learning_rate": LEARNING_RATE, "seed": args.seed}
    if results.get("setup") != setup:
        results = {"setup": setup, "rows": []}
    settings = []
    for tau in args.tau:
        for r_max in args.r_max:
            params = spiking.sweep_parameters(r_max, tau)
            learning = spiking.LearningParameters(
                t_recon=tau * ms, tau_nudge=tau / 5 * ms, eps_encoders=LEARNING_RATE,
                eps_decoders=LEARNING_RATE)
            settings.append(("grid", params, learning))
    # the settings the first design trained with, with this ε, and the same at cortical
    # rates: the same rate per unit from CORTICAL_ENSEMBLE neurons at up to CORTICAL_HZ each
    lr = {"eps_encoders": LEARNING_RATE, "eps_decoders": LEARNING_RATE}
    settings.append(("training", *spiking_training.training_parameters("first_design", **lr)))
    for tau in () if args.no_cortical else CORTICAL_TAUS_MS:
        settings.append(("cortical", *spiking_training.training_parameters(
            "first_design", **lr, ensemble=CORTICAL_ENSEMBLE, r_max=CORTICAL_HZ * Hz,
            tau_m=CORTICAL_TAU_M_MS * ms, tau=tau * ms)))
        settings.append(("cortical_noisy", *spiking_training.training_parameters(
            "first_design", **lr, ensemble=NOISY_ENSEMBLE, r_max=NOISY_HZ * Hz,
            tau_m=CORTICAL_TAU_M_MS * ms, member_sigma=NOISY_SIGMA_MV * mV, tau=tau * ms)))
    # a row of those settings is kept only while they are the current ones
    current = {(kind, float(params.tau / ms)): describe(params, learning)
               for kind, params, learning in settings if kind != "grid"}
    results["rows"] = [r for r in results["rows"] if r.get("kind", "grid") == "grid"
                       or all(r.get(k) == v for k, v in
                              current.get((r["kind"], r["tau_ms"]), {"-": 0}).items())]
    done = {(r.get("kind", "grid"), r["r_max_hz"], r["tau_ms"]) for r in results["rows"]}
    for kind, params, learning in settings:
        r_max, tau = float(params.r_max / Hz), float(params.tau / ms)
        if (kind, r_max, tau) in done:
            continue
        learned, events, info = spiking.run_learning(
            model, x, params, learning, device=args.device, seed=args.seed)
        twin, _ = plasticity.sdvdt_updates(model, x, params.n_steps, params.delta,
                                              params.alpha)
        row = {"kind": kind, **describe(params, learning), "run_s": info.run_s,
               "events": events, "layers": {}}
        for name in model.weights:
            cos_w, ratio_w = compare.similarity(learned.weights[name] - model.weights[name],
                                                LEARNING_RATE * twin[name][0])
            cos_b, ratio_b = compare.similarity(learned.biases[name] - model.biases[name],
                                                LEARNING_RATE * twin[name][1])
            moved = float(np.linalg.norm(learned.weights[name] - model.weights[name])
                          / np.linalg.norm(model.weights[name]))
            row["layers"][name] = {"cosine": cos_w, "norm_ratio": ratio_w,
                                   "bias_cosine": cos_b, "bias_norm_ratio": ratio_b,
                                   "relative_change": moved}
        results["rows"].append(row)
        write_json(out, results)
        print(f"{kind}: r_max {r_max:g} Hz, tau {tau:g} ms: " + ", ".join(
            f"{k} cos {v['cosine']:.3f} ratio {v['norm_ratio']:.2f}"
            for k, v in row["layers"].items()) + f"; run {info.run_s:.0f} s", flush=True)
    plotting.plot_rule_vs_rate(read_json(out), out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    errors.run_script(main)
