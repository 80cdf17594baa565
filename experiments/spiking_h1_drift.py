#!/usr/bin/env python3
"""Where the spiking learner's h1 parts from its exact rate twin within one training example.

The learner's network (the settings of ``stdpsim train spiking``, or those given) runs the
first ``--images`` training images with ``--model``'s weights held, once per spike seed
(``--seeds``), with h1's value, its two input traces and the visible units' x̂ recorded
every time step; the exact twin (:func:`stdpsim.rate_model.inference` with the units' top
value as its cap, f1's prediction from the same corruption draws) runs the same images.
Means over images and h1 units of spiking minus twin, over all units and over the live
ones (the twin's inferred value above 0.5):

* ``prediction``: h1 at the end of settling's corrupted part against f1(x̃), the prediction
  f1 learns from; ``settled``: after settling, against f1(x); ``step_5/10/15``: through
  INFERENCE, against the twin's trajectory;
* ``recon_input``: h1's reconstruction trace plus its bias over INFERENCE against f1's
  pre-activation of the twin's g1(h1); ``x_hat``: x̂ over INFERENCE against the twin's
  g1(h1), per pixel;
* ``x_hat_vs_own_values``: x̂ against g1 of the spiking h1's own values, as they are and
  with the values below ``--dead-zone`` read as 0 (what a unit that fires nothing there
  shows g1).

Writes ``figures/spiking_h1_drift.json`` (``--out``).

    python experiments/spiking_h1_drift.py --model runs/ninth/spiking_mnist.npz
        [--images 10] [--seeds 2] [--dead-zone 0.1] [--data DIR] [--out OUT.json]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from brian2 import StateMonitor

from stdpsim import backend, errors, model_files, rate_model, spiking
from stdpsim.data import load_mnist
from stdpsim.runs import shown_path, write_json
from stdpsim.spiking import learner
from stdpsim.tasks.network import add_learner_arguments, learner_settings

ROOT = Path(__file__).resolve().parents[1]


def recorded_builder(model: rate_model.RateModel, n: int, params, learning):
    """The learner's network for ``n`` images with h1's ``v_free``, ``i_recon`` and the
    visible units' ``x_recon`` recorded every time step."""
    base = learner.learning_builder(model, n, params, learner.tag_unit(learning),
                                    learner.Mechanisms(learn=True, tags=True,
                                                       gain_factor=True))

    def build() -> backend.Simulation:
        sim = base()
        groups = {getattr(o, "name", ""): o for o in sim.objects}
        h1 = StateMonitor(groups["h1"], ["v_free", "i_recon"], record=True, name="h1_rec")
        vis = StateMonitor(groups["visible"], "x_recon", record=True, name="visible_rec")

        def collect() -> dict[str, np.ndarray]:
            return {**sim.collect(), "v_free": np.asarray(h1.v_free[:]),
                    "i_recon": np.asarray(h1.i_recon[:]), "x_recon": np.asarray(vis.x_recon[:])}

        return backend.Simulation([*sim.objects, h1, vis], sim.inputs, collect)

    return build


def per_example(trace: np.ndarray, n: int, steps: int) -> np.ndarray:
    """A recorded (neurons, time) array as (examples, time in the example, neurons)."""
    return trace[:, :n * steps].reshape(trace.shape[0], n, steps).transpose(1, 2, 0)


def one_seed(model, x, params, learning, seed: int, dead_zone: float) -> dict:
    """The differences of one spike seed (see the module docstring)."""
    n = x.shape[0]
    draws = spiking.corruption_draws(seed, x.shape)
    values = learner.learning_inputs(model, x, params, learner.tag_unit(learning), seed=seed,
                                     draws=draws)
    steps = int(round(float(learning.t_example(params) / params.dt)))
    res, _ = backend.simulate(recorded_builder(model, n, params, learning), values,
                              n * learning.t_example(params), dt=params.dt, seed=seed,
                              progress=False)
    h = (per_example(res["v_free"], n, steps) - float(params.v_zero)) / (
        float(params.v_span) / params.h_max)
    cap = params.top_value
    pred = np.minimum(model.layer("f1", x + learning.noise_x * draws), cap)
    *_, states = rate_model.inference(model, x, params.n_steps, params.delta, params.alpha,
                                      trace=True, cap=cap)
    twin = np.stack([s[0] for s in states], axis=1)  # (examples, step, units)
    live = twin[:, -1] > 0.5
    at = {name: int(round(float(t / params.dt))) - 1
          for name, t in (("noisy", learning.t_noisy), ("settled", params.t_settle))}
    step = int(round(float(params.step_time / params.dt)))

    def diff(a, b):
        d = a - b
        return {"all": float(d.mean()), "live": float(d[live].mean())}

    out = {"prediction": diff(h[:, at["noisy"]], pred),
           "settled": diff(h[:, at["settled"]], twin[:, 0])}
    for k in (5, 10, 15):
        out[f"step_{k}"] = diff(h[:, at["settled"] + k * step], twin[:, k])
    window = slice(at["settled"] + 2 * step, at["settled"] + params.n_steps * step)
    recon = per_example(res["i_recon"], n, steps)[:, window].mean(axis=1) + model.biases["f1"]
    twin_recon = np.mean([model.pre_activation("f1", model.g1(s[0])) for s in states[2:]],
                         axis=0)
    out["recon_input"] = diff(recon, twin_recon)
    x_hat = per_example(res["x_recon"], n, steps)[:, window].mean(axis=1)
    out["x_hat"] = float((x_hat - np.mean([model.g1(s[0]) for s in states[2:]], axis=0)).mean())
    own = h[:, window]
    flat = own.reshape(-1, own.shape[-1]).astype(np.float32)
    for label, hv in (("as_they_are", flat), ("dead_zone", np.where(flat < dead_zone, 0, flat))):
        g = model.g1(hv).reshape(own.shape[0], own.shape[1], -1).mean(axis=1)
        out[f"x_hat_vs_own_values_{label}"] = float((x_hat - g).mean())
    return out


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a model file (e.g. a spiking run's)")
    ap.add_argument("--images", type=errors.count, default=10)
    ap.add_argument("--seeds", type=errors.count, default=2)
    ap.add_argument("--dead-zone", type=errors.positive, default=0.1,
                    help="values below this read as 0 in the last comparison")
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_h1_drift.json"))
    add_learner_arguments(ap)
    args = ap.parse_args()
    params, learning = learner_settings(args)
    if not learning.corrupted:
        raise SystemExit("the drift is measured with the corruption events: --noise-x above 0")
    model = model_files.load_model(args.model)
    x = load_mnist("train", args.data)[0][:args.images].astype(np.float64)
    seeds = [one_seed(model, x, params, learning, s, args.dead_zone)
             for s in range(args.seeds)]

    def mean(key):
        if isinstance(seeds[0][key], dict):
            return {k: float(np.mean([s[key][k] for s in seeds])) for k in seeds[0][key]}
        return float(np.mean([s[key] for s in seeds]))

    results = {"model": shown_path(args.model), "images": args.images, "seeds": args.seeds,
               "dead_zone": args.dead_zone,
               "network": spiking.parameters_summary(params),
               "learning": spiking.learning_summary(learning),
               "mean": {k: mean(k) for k in seeds[0]}, "per_seed": seeds}
    for k, v in results["mean"].items():
        print(f"{k}: {v}")
    write_json(args.out, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    errors.run_script(main)
