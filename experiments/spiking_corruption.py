#!/usr/bin/env python3
"""How corrupted are the spiking learner's predictions? The equivalent Gaussian s.d. per
pathway, beside the authors' corruption levels.

In Algorithm 2 each layer's prediction sees a corrupted input: x + N(0, 0.5²) for f1,
h_{l−1} + N(0, 0.5²) for the upper encoders, h_l + N(0, 0.3²) for the decoders below the top
and the mean of 3 Bernoulli draws for the top decoder.  In the spiking learner the
predictions are read from spikes: an encoder's from the feed-forward pre-activation that
settling leaves (``a_ff``), a decoder's from the top-down pre-activation it follows
(``a_td``).  For each of ``--examples`` training images, one example per run (so every
value is the one that example left), this script reads those pre-activations and compares
them with the clean ones the rate model computes from the same inputs: x for f1, the rate
model's feed-forward h_{l−1} for the upper encoders, and the spiking network's own held
values h_l for the decoders.  A Gaussian corruption of s.d. σ on the input moves unit j's
pre-activation by N(0, σ²‖W_j‖²), so the equivalent s.d. of the spike noise is

    σ_eq = sqrt( Σ_j E[(a_j − a_clean_j)²] / Σ_j ‖W_j‖² ),

where the mean squared deviation includes the systematic part (its mean over examples is
reported as ``bias_share``: the fraction of the squared deviation that the per-unit mean
deviation explains).  The authors' top decoder corruption is converted the same way: the
mean of n Bernoulli(h) draws has variance h(1 − h)/n.  Settings go through ``--r-max`` (Hz)
and ``--tau-ff`` (ms, settling's time constant) lists, and ``--noise-x``, the s.d. of the
visible units' corruption events (:class:`stdpsim.spiking.LearningParameters`; with them
h1's prediction is read at the end of settling's corrupted part, and f1's deviation holds
the events' n as the authors' holds their Gaussian draw), sent at ``--noise-rate`` per unit
of abs(n) and timed as ``--event-timing`` says (``poisson`` or ``regular``,
:func:`stdpsim.spiking.equations.corruption_events`); every combination is one row, the
rest of the network as ``--preset`` says (``training``, the learner's network, by default;
``first_design``: τ_syn 1 ms, 5 ms of settling, 3 ms of it corrupted, the leaky spike
generator).  Writes ``figures/spiking_corruption.json``.

    python experiments/spiking_corruption.py [--data DIR] [--model MODEL] [--examples 50]
        [--preset training|first_design] [--r-max 2000 1000 500] [--tau-ff 2]
        [--noise-x 0 0.5] [--noise-rate HZ] [--event-timing poisson|regular]
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
from brian2 import Hz, ms

from stdpsim import backend, errors, model_files, rate_model, spiking, spiking_training
from stdpsim.corruption import Corruption
from stdpsim.data import load_mnist
from stdpsim.runs import shown_path, write_json
from stdpsim.shipped import model_path
from stdpsim.spiking.parameters import EVENT_TIMINGS
from stdpsim.spiking.presets import LEARNING_PHASES

ROOT = Path(__file__).resolve().parents[1]


def equivalent_sd(deviations: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """σ_eq of pre-activation deviations (examples, units) for weights (n_in, units), and
    the share of the mean squared deviation that the per-unit mean deviation explains."""
    msd = float(np.mean(np.sum(deviations ** 2, axis=1)))
    bias = float(np.sum(np.mean(deviations, axis=0) ** 2))
    return float(np.sqrt(msd / np.sum(w.astype(float) ** 2))), bias / msd


def authors_levels(model: rate_model.RateModel, x: np.ndarray) -> dict[str, float]:
    """The authors' corruption as an equivalent s.d. per pathway (the top decoder's
    Bernoulli noise converted on the rate model's own top values)."""
    levels = Corruption()
    top = rate_model.feed_forward(model, x)[-1]
    bern = float(np.sqrt(np.mean(top * (1 - top)) / levels.n_spikes))
    out = {"f1": levels.noise_x}
    for l in range(2, model.depth + 1):
        out[f"f{l}"] = levels.noise_h
    for l in range(1, model.depth):
        out[f"g{l}"] = levels.noise_g
    out[f"g{model.depth}"] = bern
    return out


def measure(model: rate_model.RateModel, x: np.ndarray, params, learning) -> dict:
    """σ_eq per pathway for one network setting (one example per run, in one session)."""
    names = spiking.layers(model, params)
    runs = []
    with spiking.tag_session(model, 1, params, learning, gain_factor=True) as s:
        unit = spiking.learner.tag_unit(learning)
        for k, row in enumerate(x):
            res, _ = s.run(spiking.learning_inputs(model, row[None], params, unit, seed=k),
                           seed=k)
            runs.append(res)
    ff = rate_model.feed_forward(model, x)  # the rate model's h1, ..., hL
    out = {}
    for layer in names[1:]:
        l = layer.index
        clean_in = x if l == 1 else ff[l - 2]
        a_clean = model.pre_activation(f"f{l}", clean_in.astype(np.float32))
        a_spk = np.stack([r[f"a_ff_{layer.name}"] for r in runs])
        out[f"f{l}"] = equivalent_sd(a_spk - a_clean, model.weights[f"f{l}"])
    for layer in names[:-1]:
        l = layer.index + 1
        h_spk = np.stack([r[f"h_h{l}"] for r in runs]).astype(np.float32)
        a_clean = model.pre_activation(f"g{l}", h_spk)
        a_spk = np.stack([r[f"a_td_{layer.name}"] for r in runs])
        out[f"g{l}"] = equivalent_sd(a_spk - a_clean, model.weights[f"g{l}"])
    return out


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", default=None,
                    help="weights [default: the shipped rate model]")
    ap.add_argument("--examples", type=errors.count, default=50)
    ap.add_argument("--preset", choices=sorted(LEARNING_PHASES), default="training",
                    help="the network's settings, before --r-max and --tau-ff")
    ap.add_argument("--r-max", type=errors.positive, nargs="+", default=None,
                    help="top rates (Hz) [default: the preset's]")
    ap.add_argument("--tau-ff", type=errors.positive, nargs="+", default=None,
                    help="settling time constants (ms) [default: the preset's]")
    ap.add_argument("--noise-x", type=errors.non_negative, nargs="+", default=[0.0],
                    help="s.d. of the visible units' corruption events (0: none)")
    ap.add_argument("--noise-rate", type=errors.positive, default=None,
                    help="the corruption events' rate per unit of abs(n) (Hz) [default: the "
                         "preset's]")
    ap.add_argument("--event-timing", choices=EVENT_TIMINGS,
                    default=spiking.LearningParameters.event_timing,
                    help="how the corruption events are timed")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_corruption.json"))
    args = ap.parse_args()
    if args.examples < 2:
        raise SystemExit("--examples must be at least 2")
    path = args.model or model_path()
    model = model_files.load_model(path)
    x = load_mnist("train", args.data)[0][:args.examples]
    authors = authors_levels(model, x)
    rows = []
    base = spiking.preset(args.preset)
    r_maxes = args.r_max or [float(base.r_max / Hz)]
    tau_ffs = args.tau_ff or [float(base.tau_ff / ms)]
    for r_max, tau_ff, noise_x in itertools.product(r_maxes, tau_ffs, args.noise_x):
        params, learning = spiking_training.training_parameters(
            args.preset, r_max=r_max * Hz, tau_ff=tau_ff * ms)
        events = {} if args.noise_rate is None else {"noise_rate": args.noise_rate * Hz}
        learning = dataclasses.replace(learning, noise_x=noise_x, event_timing=args.event_timing,
                                       **events)
        sd = measure(model, x, params, learning)
        rows.append({"r_max_hz": r_max, "tau_ff_ms": tau_ff, "noise_x": noise_x,
                     "event_timing": args.event_timing,
                     "noise_rate_hz": float(learning.noise_rate / Hz),
                     "sigma_eq": {k: v[0] for k, v in sd.items()},
                     "bias_share": {k: v[1] for k, v in sd.items()}})
        print(f"r_max {r_max:g} Hz, tau_ff {tau_ff:g} ms, noise_x {noise_x:g}: " + ", ".join(
            f"{k} {v[0]:.3f} (authors {authors[k]:.3f})" for k, v in sd.items()), flush=True)
    write_json(args.out, {"model": shown_path(path), "examples": args.examples,
                          "preset": args.preset, "device": backend.resolve_device("auto"),
                          "authors_sigma_eq": authors, "settings": rows})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    errors.run_script(main)
