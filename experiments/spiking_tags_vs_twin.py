#!/usr/bin/env python3
"""Mechanism check of the second design: one minibatch's synaptic tags against the twin's.

One minibatch of ``--batch-size`` training images (the first ones, or ``--offset``) goes
through the spiking learner twice (two sets of spike seeds) with its weights held, in
shards of ``--shard`` summed as the training sums them (:class:`stdpsim.shards.ShardRunner`:
every plastic synapse adds η·dV/dt, times the postsynaptic gain factor, to its tag at each
presynaptic spike, at the settings of ``stdpsim train spiking``), and through its rate twin
(:func:`stdpsim.plasticity.sdvdt_updates` with the gain factor and the same INFERENCE
settings).  Without corruption events (``--noise-x 0``, the default) the twin is
uncorrupted: the spikes' own noise is what the tags add to it.  With ``--noise-x`` > 0 the
visible units send corruption events, and the twin's f1 input and presynaptic factor are
corrupted by the same draws the network took (:func:`stdpsim.spiking.corruption_draws`;
the events' rate limit).  Both are in the same units (the twin's ΔW/ε summed over the
minibatch), so per layer (weights and biases apart) the cosine similarity and the norm ratio
spiking / twin say whether the summed tags point where the twin's update points; the cosine
between the two runs' tags says how much one minibatch's noise alone moves them.

The check runs at each ``--model``: the training's initialisation (``init``: orthogonal,
seed 0) and trained weights (a model file, e.g. a spiking run's checkpointed model or the
shipped one).  Writes ``figures/spiking_tags_vs_twin.json``.

    python experiments/spiking_tags_vs_twin.py [--data DIR] [--model init --model M.npz]
        [--batch-size 100] [--shard 50] [--offset 0] [--r-max HZ] [--tau-ff MS] [--noise-x 0.5]
        [--out OUT.json]
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
from brian2 import Hz, ms

from stdpsim import errors, plasticity, rate_model, rate_training, spiking, spiking_training
from stdpsim.corruption import Corruption
from stdpsim.data import load_mnist
from stdpsim.spiking import compare
from stdpsim.runs import shown_path, write_json
from stdpsim.shards import ShardNetwork, ShardRunner

ROOT = Path(__file__).resolve().parents[1]


def starting_model(spec: str) -> rate_model.RateModel:
    """``init``: the training's initialisation; else a model file."""
    if spec == "init":
        cfg = rate_training.TrainConfig()
        return rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers,
                                     init=cfg.init)
    return rate_model.load_model(spec)


def twin_update(model: rate_model.RateModel, x: np.ndarray, params, learning,
                seeds: list[int]) -> tuple[dict, dict]:
    """The twin's update on ``x``: uncorrupted, or with ``learning.noise_x`` f1's input and
    presynaptic factor corrupted by the very draws the spiking shards (spike seeds
    ``seeds``, one per shard) took (:func:`stdpsim.spiking.corruption_draws`)."""
    args = (model, x, params.n_steps, params.delta, params.alpha)
    if not learning.corrupted:
        return plasticity.sdvdt_updates(*args, gain_factor=True)
    shard = x.shape[0] // len(seeds)
    draws = np.concatenate([spiking.corruption_draws(s, (shard, x.shape[1])) for s in seeds])
    return plasticity.sdvdt_updates(*args, gain_factor=True, noisy_pre=("f1",),
                                    corruption=Corruption(learning.noise_x, 0.0, 0.0, 0),
                                    rng=np.random.default_rng(0), x_draws=draws)


def check(model: rate_model.RateModel, x: np.ndarray, params, learning, shard: int) -> dict:
    """Per layer: cosine and norm ratio of the minibatch's spiking tags (summed over its
    shards, as the training sums them; spike seeds 0, 1, …) against the twin's update on
    the same corruption draws, and the cosine between those tags and the tags of a second
    spike draw (the next seeds, so other corruption draws too: how much one minibatch's
    noise moves its tags)."""
    t0 = time.perf_counter()
    per = x.shape[0] // shard
    seeds = [list(range(k * per, (k + 1) * per)) for k in (0, 1)]
    with ShardRunner(ShardNetwork(params, learning, shard, True), "serial") as runner:
        (tags, events, run_s), (again, _, _) = (runner.minibatch(model, x, s) for s in seeds)
    wall = time.perf_counter() - t0
    twin, errors = twin_update(model, x, params, learning, seeds[0])
    layers = {}
    for name in model.weights:
        cos_w, ratio_w = compare.similarity(tags[name][0], twin[name][0])
        cos_b, ratio_b = compare.similarity(tags[name][1], twin[name][1])
        layers[name] = {"cosine": cos_w, "norm_ratio": ratio_w, "bias_cosine": cos_b,
                        "bias_norm_ratio": ratio_b,
                        "seeds_cosine": compare.similarity(tags[name][0], again[name][0])[0],
                        "twin_prediction_error": errors[name]}
    return {"layers": layers, "run_s": run_s, "wall_s": wall,
            "synaptic_events_per_example": events["synaptic"] / x.shape[0]}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", action="append", default=[],
                    help="'init' (the training's initialisation) or a model file; "
                         "several allowed [default: init]")
    ap.add_argument("--batch-size", type=errors.count, default=100,
                    help="examples in the minibatch")
    ap.add_argument("--shard", type=errors.count, default=50,
                    help="examples per simulation run (the training's; divides --batch-size)")
    ap.add_argument("--offset", type=errors.natural, default=0, help="first training image used")
    ap.add_argument("--r-max", type=errors.positive, default=None, help="r_max (Hz) [training's]")
    ap.add_argument("--tau-ff", type=errors.positive, default=None,
                    help="settling time constant (ms) [training's]")
    ap.add_argument("--noise-x", type=errors.non_negative, default=0.0,
                    help="corruption s.d. of x sent as corruption events [0: none]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_tags_vs_twin.json"))
    args = ap.parse_args()
    if args.batch_size < 1 or args.offset < 0:
        raise SystemExit("--batch-size must be ≥ 1 and --offset ≥ 0")
    if args.shard < 1 or args.batch_size % args.shard:
        raise SystemExit(f"--shard ({args.shard}) must divide --batch-size ({args.batch_size})")
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
               **check(starting_model(spec), x, params, learning, args.shard)}
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
    errors.run_script(main)
