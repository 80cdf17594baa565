#!/usr/bin/env python3
"""Mechanism check of the second design: one minibatch's synaptic tags against the twin's.

One minibatch of ``--batch-size`` training images (the first ones, or ``--offset``) goes
through the spiking learner twice (spike seeds 0 and 1) with its weights held
(:func:`stdpsim.spiking.run_tags`: every plastic synapse adds η·dV/dt, times the
postsynaptic gain factor, to its tag at each presynaptic spike, at the settings of ``stdpsim
train spiking``) and through its rate twin (:func:`stdpsim.plasticity.sdvdt_updates` with
the gain factor and the same INFERENCE settings).  Without corruption events
(``--noise-x 0``, the default) the twin is uncorrupted: the spikes' own noise is what the
tags add to it.  With ``--noise-x`` > 0 the visible units send corruption events and the
twin's update is its mean over ``--draws`` corruptions of f1's input, its presynaptic
factor included (the events' rate limit).  Both are in the same units (the twin's ΔW/ε
summed over the minibatch), so per layer (weights and biases apart) the cosine similarity
and the norm ratio spiking / twin say whether the summed tags point where the twin's update
points; the cosine between the two seeds' tags says how far one minibatch's spike noise
alone lets them agree with anything.

The check runs at each ``--model``: the training's initialisation (``init``: orthogonal,
seed 0) and trained weights (a model file, e.g. a spiking run's checkpointed model or the
shipped one).  Writes ``figures/spiking_tags_vs_twin.json``.

    python experiments/spiking_tags_vs_twin.py [--data DIR] [--model init --model M.npz]
        [--batch-size 100] [--offset 0] [--r-max HZ] [--tau-ff MS] [--noise-x 0.5]
        [--draws 20] [--out OUT.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from brian2 import Hz, ms

from stdpsim import plasticity, rate_model, rate_training, spiking, spiking_training
from stdpsim.corruption import Corruption
from stdpsim.data import load_mnist
from stdpsim.runs import shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Cosine similarity of two arrays (flattened) and the norm ratio |a| / |b|."""
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)), float(na / nb)


def starting_model(spec: str) -> rate_model.RateModel:
    """``init``: the training's initialisation; else a model file."""
    if spec == "init":
        cfg = rate_training.TrainConfig()
        return rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers,
                                     init=cfg.init)
    return rate_model.load_model(spec)


def twin_update(model: rate_model.RateModel, x: np.ndarray, params, learning,
                draws: int) -> tuple[dict, dict]:
    """The twin's update: uncorrupted, or with ``learning.noise_x`` its mean over ``draws``
    corruptions of f1's input (presynaptic factor included)."""
    args = (model, x, params.n_steps, params.delta, params.alpha)
    if not learning.corrupted:
        return plasticity.sdvdt_updates(*args, gain_factor=True)
    rng, levels = np.random.default_rng(0), Corruption(learning.noise_x, 0.0, 0.0, 0)
    runs = [plasticity.sdvdt_updates(*args, gain_factor=True, corruption=levels, rng=rng,
                                     noisy_pre=("f1",)) for _ in range(draws)]
    mean = {n: tuple(np.mean([r[0][n][k] for r in runs], axis=0) for k in (0, 1))
            for n in model.weights}
    return mean, runs[0][1]


def check(model: rate_model.RateModel, x: np.ndarray, params, learning,
          draws: int = 20) -> dict:
    """Per layer: cosine and norm ratio of the spiking tags (spike seed 0) against the
    twin's update, and the cosine between the tags of two spike seeds (0 and 1: how far
    one minibatch's spike noise alone lets the tags agree with anything)."""
    t0 = time.perf_counter()
    with spiking.tag_session(model, x.shape[0], params, learning, gain_factor=True) as s:
        runs = [spiking.run_tags(model, x, params, learning, gain_factor=True, seed=seed,
                                 session=s) for seed in (0, 1)]
    wall = time.perf_counter() - t0
    (tags, events, run_s), (again, _, _) = runs
    twin, errors = twin_update(model, x, params, learning, draws)
    layers = {}
    for name in model.weights:
        cos_w, ratio_w = similarity(tags[name][0], twin[name][0])
        cos_b, ratio_b = similarity(tags[name][1], twin[name][1])
        layers[name] = {"cosine": cos_w, "norm_ratio": ratio_w, "bias_cosine": cos_b,
                        "bias_norm_ratio": ratio_b,
                        "seeds_cosine": similarity(tags[name][0], again[name][0])[0],
                        "twin_prediction_error": errors[name]}
    return {"layers": layers, "run_s": run_s, "wall_s": wall,
            "synaptic_events_per_example": events["synaptic"] / x.shape[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", action="append", default=[],
                    help="'init' (the training's initialisation) or a model file; "
                         "several allowed [default: init]")
    ap.add_argument("--batch-size", type=int, default=100, help="examples in the minibatch")
    ap.add_argument("--offset", type=int, default=0, help="first training image used")
    ap.add_argument("--r-max", type=float, default=None, help="r_max (Hz) [training's]")
    ap.add_argument("--tau-ff", type=float, default=None,
                    help="settling time constant (ms) [training's]")
    ap.add_argument("--noise-x", type=float, default=0.0,
                    help="corruption s.d. of x sent as corruption events [0: none]")
    ap.add_argument("--draws", type=int, default=20,
                    help="corruption draws the twin's mean takes (with --noise-x)")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_tags_vs_twin.json"))
    args = ap.parse_args()
    if args.batch_size < 1 or args.offset < 0 or args.draws < 1:
        raise SystemExit("--batch-size and --draws must be ≥ 1, --offset ≥ 0")
    network = {}
    if args.r_max is not None:
        network["r_max"] = args.r_max * Hz
    if args.tau_ff is not None:
        network["tau_ff"] = args.tau_ff * ms
    params, learning = spiking_training.training_parameters(**network)
    learning = dataclasses.replace(learning, noise_x=args.noise_x)
    x = load_mnist("train", args.data)[0][args.offset:args.offset + args.batch_size]
    if x.shape[0] < args.batch_size:
        raise SystemExit(f"only {x.shape[0]} training images from --offset {args.offset}")
    rows = []
    for spec in args.model or ["init"]:
        row = {"model": spec if spec == "init" else shown_path(spec),
               **check(starting_model(spec), x, params, learning, args.draws)}
        rows.append(row)
        print(row["model"] + ": " + ", ".join(
            f"{k} cos {v['cosine']:.3f} (b {v['bias_cosine']:.3f}, seeds "
            f"{v['seeds_cosine']:.3f}) ratio {v['norm_ratio']:.2f}"
            for k, v in row["layers"].items()), flush=True)
    write_json(args.out, {
        "batch_size": args.batch_size, "offset": args.offset,
        "network": spiking.parameters_summary(params),
        "learning": spiking.learning_summary(spiking.learner.tag_unit(learning)),
        "rows": rows})
    print(f"wrote {shown_path(args.out)}")


if __name__ == "__main__":
    main()
