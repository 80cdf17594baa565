#!/usr/bin/env python3
"""Mechanism check of the second design: one minibatch's synaptic tags against the twin's.

One minibatch of ``--batch-size`` training images (the first ones, or ``--offset``) goes
through the spiking learner ``--repeats`` times (as many sets of spike seeds) with its
weights held, in shards of ``--shard`` summed as the training sums them
(:class:`stdpsim.shards.ShardRunner`: every plastic synapse adds η·dV/dt, times the
postsynaptic gain factor, to its tag at each presynaptic spike, at the settings of
``stdpsim train spiking``), and through its rate twin (:func:`stdpsim.plasticity.sdvdt_updates`
with the gain factor and the same INFERENCE settings).  Without corruption events
(``--noise-x 0``, the default) the twin is uncorrupted: the spikes' own noise is what the
tags add to it.  With ``--noise-x`` > 0 the visible units send corruption events; every
repeat takes the corruption draws of the first (:func:`stdpsim.spiking.corruption_draws`
of its spike seeds), and the twin's f1 input and presynaptic factor are corrupted by the
same draws (the events' rate limit).  Both are in the same units (the twin's ΔW/ε summed
over the minibatch), so per layer (weights and biases apart):

* ``cosine``, ``norm_ratio``: the first repeat's summed tags against the twin's update, as
  one minibatch of training sees them;
* ``mean_cosine``: the mean of the repeats' tags against the twin's: spike noise averages
  out over repeats, a bias does not, so a mean that stays off the twin is a bias;
* ``seeds_cosine``: the first two repeats against each other (the same images and draws,
  other spikes): how much the spikes' noise alone moves the tags.

The check runs at each ``--model``: the training's initialisation (``init``: orthogonal,
seed 0) and trained weights (a model file, e.g. a spiking run's checkpointed model or the
shipped one), with the training network's settings or those given (``--r-max``,
``--tau-ff``, ``--tau-syn``, ``--t-settle``, ``--t-noisy``, ``--noise-rate``).  For f1 it
also fits the difference of the mean tags from the twin's update on x̃ ⊗ act′·h1, the
Hebbian part that h1's unsettled prediction adds (``hebbian``, :func:`unsettled_growth`);
the twin is the exact rate limit (``--twin bounded``): its hidden values stop at the top
value the units' spikes code, and with corruption events its upper encoders see x's
corruption through the layers below and take settling's clean step, as the spiking ones do
(``--twin propagated``: without the bound; ``--twin plain``: neither, the check as it was
first); the tags of each upper encoder are
fitted on the plain twin's update and that step (``settling_segment``,
:func:`settling_segment`); for the decoders whose target is a hidden layer, with the twin's
target capped at the top the learner's units code (``bounded_target``,
:func:`bounded_target`).  Writes ``figures/spiking_tags_vs_twin.json``.

    python experiments/spiking_tags_vs_twin.py [--data DIR] [--model init --model M.npz]
        [--batch-size 100] [--shard 50] [--offset 0] [--repeats 4] [--r-max HZ]
        [--tau-ff MS] [--tau-syn MS] [--t-settle MS] [--t-noisy MS] [--noise-x 0.5]
        [--noise-rate HZ] [--out OUT.json]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from stdpsim import (activations, errors, model_files, plasticity, rate_config, rate_model,
                     spiking)
from stdpsim.corruption import Corruption
from stdpsim.data import load_mnist
from stdpsim.spiking import compare
from stdpsim.runs import shown_path, write_json
from stdpsim.shards import ShardNetwork, ShardRunner
from stdpsim.tasks.network import add_learner_arguments, learner_settings

ROOT = Path(__file__).resolve().parents[1]


def starting_model(spec: str) -> rate_model.RateModel:
    """``init``: the training's initialisation; else a model file."""
    if spec == "init":
        cfg = rate_config.TrainConfig()
        return rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers,
                                     init=cfg.init)
    return model_files.load_model(spec)


TWINS = ("bounded", "propagated", "plain")
"""The twins the check compares with: the exact rate limit (x's corruption propagated, hidden
values bounded at the units' top value), without the bound, or neither (the check before)."""


def twin_update(model: rate_model.RateModel, x: np.ndarray, params, learning,
                draws: np.ndarray | None, twin: str = "bounded") -> tuple[dict, dict]:
    """The twin's update on ``x``: uncorrupted, or with ``learning.noise_x`` f1's input and
    presynaptic factor corrupted by ``draws``, the very draws the spiking shards took;
    ``twin`` (:data:`TWINS`): with the corruption reaching the upper encoders through the
    layers below and settling's clean step (``propagated``, ``bounded``), and hidden values
    stopping at the units' top value (``bounded``; :func:`stdpsim.plasticity.sdvdt_updates`)."""
    args = (model, x, params.n_steps, params.delta, params.alpha)
    cap = params.top_value if twin == "bounded" else None
    if not learning.corrupted:
        return plasticity.sdvdt_updates(*args, gain_factor=True, cap=cap)
    return plasticity.sdvdt_updates(*args, gain_factor=True, noisy_pre=("f1",),
                                    corruption=Corruption(learning.noise_x, 0.0, 0.0, 0),
                                    rng=np.random.default_rng(0), x_draws=draws,
                                    propagate=twin != "plain", cap=cap)


def check(model: rate_model.RateModel, x: np.ndarray, params, learning, shard: int,
          repeats: int, twin_kind: str = "bounded") -> dict:
    """Per layer: the first repeat's summed tags against the twin's update (cosine, norm
    ratio; weights and biases), the mean of the ``repeats`` against it, and the first two
    repeats against each other.  Repeat r runs shard k with spike seed r·K + k (K shards);
    every repeat takes the corruption draws of the first repeat's seeds."""
    t0 = time.perf_counter()
    per = x.shape[0] // shard
    seeds = [list(range(r * per, (r + 1) * per)) for r in range(repeats)]
    draws = (np.concatenate([spiking.corruption_draws(s, (shard, x.shape[1]))
                             for s in seeds[0]]) if learning.corrupted else None)
    with ShardRunner(ShardNetwork(params, learning, shard, True), "serial") as runner:
        runs = [runner.minibatch(model, x, s, draws) for s in seeds]
    wall = time.perf_counter() - t0
    twin, prediction_errors = twin_update(model, x, params, learning, draws, twin_kind)
    tags = runs[0][0]
    layers = {}
    for name in model.weights:
        cos_w, ratio_w = compare.similarity(tags[name][0], twin[name][0])
        cos_b, ratio_b = compare.similarity(tags[name][1], twin[name][1])
        mean = sum(run[0][name][0] for run in runs) / repeats
        mean_cos, mean_ratio = compare.similarity(mean, twin[name][0])
        layers[name] = {"cosine": cos_w, "norm_ratio": ratio_w, "bias_cosine": cos_b,
                        "bias_norm_ratio": ratio_b, "mean_cosine": mean_cos,
                        "mean_norm_ratio": mean_ratio,
                        "seeds_cosine": (compare.similarity(tags[name][0],
                                                            runs[1][0][name][0])[0]
                                         if repeats > 1 else None),
                        "twin_prediction_error": prediction_errors[name]}
        if name == "f1":
            layers[name]["hebbian"] = unsettled_growth(model, x, params, learning, draws,
                                                       mean, twin[name][0])
        elif name.startswith("f") and draws is not None:
            plain = twin_update(model, x, params, learning, draws, "plain")[0][name][0]
            layers[name]["settling_segment"] = settling_segment(model, x, learning, draws,
                                                                name, mean, plain)
            layers[name]["plain_twin_cosine"] = compare.similarity(tags[name][0], plain)[0]
        elif name.startswith("g") and name != "g1":
            layers[name]["bounded_target"] = bounded_target(model, x, params, name, mean,
                                                            twin[name][0])
    return {"layers": layers, "repeats": repeats, "run_s": sum(r[2] for r in runs),
            "wall_s": wall, "synaptic_events_per_example": runs[0][1]["synaptic"] / x.shape[0]}


def unsettled_growth(model: rate_model.RateModel, x: np.ndarray, params, learning,
                     draws: np.ndarray | None, mean_tags: np.ndarray, twin: np.ndarray) -> dict:
    """How much of f1's difference from the twin is the Hebbian part that unsettled
    settling adds: the least-squares coefficient (and cosine) of the difference of the
    repeats' mean from the twin on x̃ ⊗ act′·h1 (x̃ the corrupted input, h1 = f1(x̃), act′ at
    its pre-activation), beside the fraction of h1's prediction still unsettled when f1
    starts learning, 1 − ``spiking.settled_fraction`` (the coefficient it predicts for units
    in the linear range of the softplus)."""
    xt = x if draws is None else x + learning.noise_x * draws
    a = model.pre_activation("f1", xt)
    gain_h = activations.activation_slope(model.activations["f1"], a) * model.activate("f1", a)
    pattern = xt.T @ gain_h
    diff = mean_tags - twin
    start = learning.t_noisy if learning.corrupted else params.t_settle
    return {"coefficient": float((diff * pattern).sum() / (pattern * pattern).sum()),
            "cosine": compare.similarity(diff, pattern)[0],
            "unsettled_fraction": 1.0 - spiking.settled_fraction(start, params.tau_syn,
                                                                 params.tau_ff)}


def settling_segment(model: rate_model.RateModel, x: np.ndarray, learning,
                     draws: np.ndarray, name: str, mean_tags: np.ndarray,
                     twin: np.ndarray) -> dict:
    """What an upper encoder f_l (l ≥ 2) learns in settling's clean part: with corruption
    events its prediction settles on f_l of the *propagated* corrupted pass
    h̃_{l−1} = f_{l−1}(…f1(x̃)), then moves to f_l(h_{l−1}) as the layers below settle on the
    clean x, a denoising step the twin (whose f_l predicts from the clean h_{l−1}) does not
    take.  Its tag pattern is ½(h̃_{l−1} + h_{l−1}) ⊗ (f_l(h_{l−1}) − f_l(h̃_{l−1}))·act′;
    returns the cosine of the repeats' mean tags with it alone and the least-squares fit of
    the mean tags on (twin, segment): coefficients and the fit's cosine."""
    level = int(name[1:])
    noisy, clean = x + learning.noise_x * draws, x
    for l in range(1, level):
        noisy, clean = model.layer(f"f{l}", noisy), model.layer(f"f{l}", clean)
    a = model.pre_activation(name, noisy)
    slope = activations.activation_slope(model.activations[name], a)
    pattern = (0.5 * (noisy + clean)).T @ ((model.layer(name, clean) - model.activate(name, a))
                                          * slope)
    basis = np.stack([twin.ravel(), pattern.ravel()], axis=1)
    coef = np.linalg.lstsq(basis, mean_tags.ravel(), rcond=None)[0]
    return {"cosine": compare.similarity(mean_tags, pattern)[0],
            "coefficients_twin_segment": [float(c) for c in coef],
            "fit_cosine": compare.similarity(mean_tags, (basis @ coef).reshape(twin.shape))[0]}


def bounded_target(model: rate_model.RateModel, x: np.ndarray, params, name: str,
                   mean_tags: np.ndarray, twin: np.ndarray) -> dict:
    """A decoder g_l (l ≥ 2) whose target is a hidden layer, against the twin's update with
    that layer's values capped at the top its spikes can code (the learner's value bound,
    ``SpikingParameters.top_rate``): target min(h_{l−1}, top), prediction
    min(g_l(h_l), top), at the twin's inferred values.  Returns the cosine and norm ratio of
    the repeats' mean tags with it, and the fraction of h_{l−1} above the top."""
    level = int(name[1:])
    top = params.top_value
    hs = rate_model.inference(model, x, params.n_steps, params.delta, params.alpha)
    below, above = hs[level - 2], hs[level - 1]
    a = model.pre_activation(name, above)
    err = np.minimum(below, top) - np.minimum(model.activate(name, a), top)
    capped = above.T @ (err * activations.activation_slope(model.activations[name], a))
    cos, ratio = compare.similarity(mean_tags, capped)
    return {"top": top, "cosine": cos, "norm_ratio": ratio,
            "above_top": float((below > top).mean()),
            "twin_cosine": compare.similarity(mean_tags, twin)[0]}


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


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
    add_learner_arguments(ap, noise_x=0.0)
    ap.add_argument("--twin", choices=TWINS, default="bounded",
                    help="the twin: the exact rate limit (bounded: hidden values stop at "
                         "the units' top value; with --noise-x the upper encoders see x's "
                         "corruption through the layers below, with settling's clean "
                         "step), the same unbounded (propagated), or neither (plain: the "
                         "check as it was first)")
    ap.add_argument("--repeats", type=errors.count, default=2,
                    help="spike-seed sets of the minibatch, on the same corruption draws")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_tags_vs_twin.json"))
    args = ap.parse_args()
    if args.batch_size % args.shard:
        raise ValueError(f"--shard ({args.shard}) must divide --batch-size ({args.batch_size})")
    params, learning = learner_settings(args)
    x = load_mnist("train", args.data)[0][args.offset:args.offset + args.batch_size]
    if x.shape[0] < args.batch_size:
        raise ValueError(f"only {x.shape[0]} training images from --offset {args.offset}")
    rows = []
    for spec in args.model or ["init"]:
        row = {"model": spec if spec == "init" else shown_path(spec),
               **check(starting_model(spec), x, params, learning, args.shard, args.repeats,
                       args.twin)}
        rows.append(row)
        print(row["model"] + ": " + ", ".join(
            f"{k} cos {v['cosine']:.3f} (mean of {args.repeats} {v['mean_cosine']:.3f}, "
            f"seeds {_shown(v['seeds_cosine'])}) ratio {v['norm_ratio']:.2f}"
            for k, v in row["layers"].items()), flush=True)
        growth = row["layers"]["f1"]["hebbian"]
        print(f"  f1 - twin along x~ (x) act'.h1: coefficient {growth['coefficient']:.3f} "
              f"(cosine {growth['cosine']:.2f}); unsettled when f1 starts learning "
              f"{growth['unsettled_fraction']:.3f}", flush=True)
        for name, layer in row["layers"].items():
            if "settling_segment" in layer:
                seg = layer["settling_segment"]
                print(f"  {name}: one run's tags vs the plain twin "
                      f"{layer['plain_twin_cosine']:.3f}; mean tags vs settling's step: "
                      f"cosine {seg['cosine']:.3f}; fit on (plain twin, step): coefficients "
                      + " ".join(f"{c:.3f}" for c in seg["coefficients_twin_segment"])
                      + f", cosine {seg['fit_cosine']:.3f}", flush=True)
            if "bounded_target" in layer:
                bt = layer["bounded_target"]
                print(f"  {name} mean tags vs the twin with its target capped at "
                      f"{bt['top']:g}: cosine {bt['cosine']:.3f} (uncapped "
                      f"{bt['twin_cosine']:.3f}), ratio {bt['norm_ratio']:.2f}; "
                      f"{100 * bt['above_top']:.1f} % of the target above the top", flush=True)
    write_json(args.out, {
        "twin": args.twin if learning.corrupted else f"{args.twin}, uncorrupted",
        "batch_size": args.batch_size, "offset": args.offset, "repeats": args.repeats,
        "network": spiking.parameters_summary(params),
        "learning": spiking.learning_summary(spiking.learner.tag_unit(learning)),
        "rows": rows})
    print(f"wrote {shown_path(args.out)}")


if __name__ == "__main__":
    errors.run_script(main)
