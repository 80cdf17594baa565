#!/usr/bin/env python3
"""Watch a spiking training for the growth that ends it: the norms of f1 and g2 and how many
of h1's values are above what its units can code.

For each ``--run`` (a training's checkpoint ``RUN.ckpt.npz``, read as it stands, so the
script can be run while the training goes on) or model file: the Frobenius norms of every
layer's weights, and, over a feed-forward pass of the first ``--images`` training images
(h1 = f1(x)), the share of h1's values above h_max = 4 (the value r_max codes) and above the
top the training network's units can code (``SpikingParameters.top_rate``/r_max × h_max, 5
at r_max = 4 kHz and dt = 0.2 ms; ``--r-max``), h1's 99th percentile, and how many h1 units
are silent (:func:`stdpsim.evaluation.silent_units`) or often at the top (above it on
more than :data:`OFTEN` of them).  Each reading is
appended to ``--out`` (default ``figures/spiking_weight_growth.json``) under the run's path
and the examples its checkpoint has seen, so repeated readings during a run make a series.

    python experiments/spiking_weight_growth.py --run runs/fifth/spiking_mnist.npz
        [--run OTHER] [--images 500] [--r-max 4000] [--data DIR] [--out OUT.json]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from brian2 import Hz

from stdpsim import errors, evaluation, model_files, rate_model, spiking, training
from stdpsim.data import load_mnist
from stdpsim.runs import read_json, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]


def read_weights(path: str) -> tuple[rate_model.RateModel, int | None]:
    """The weights of a checkpoint (``path`` with ``.ckpt.npz``, or given directly) or of a
    model file, in a model of the shipped architecture, and the examples seen (None for a
    model file)."""
    ckpt = Path(path) if str(path).endswith(".ckpt.npz") else Path(path).with_suffix(".ckpt.npz")
    if ckpt.exists():
        state, data = training.read_checkpoint(ckpt, needs=("history",))
        model = model_files.load_model(ROOT / "models" / "rate_mnist.npz")
        training.restore_weights(model, data)
        done = [r["examples"] for r in state["history"]]
        return model, (max(done) if done else 0)
    return model_files.load_model(path), None


OFTEN = 0.1
"""An h1 unit is often at the top when it is above the top on more than this share of the
images."""


def reading(model: rate_model.RateModel, x: np.ndarray, top: float) -> dict:
    """Norms and h1's values for one set of weights."""
    h1 = model.activate("f1", model.pre_activation("f1", x))
    return {"norms": {n: float(np.linalg.norm(w)) for n, w in model.weights.items()},
            "h1_above_h_max": float(np.mean(h1 > 4.0)),
            "h1_above_top": float(np.mean(h1 > top)),
            "h1_p99": float(np.percentile(h1, 99)),
            "h1_silent_units": evaluation.silent_units(h1),
            "h1_units_often_above_top": int(np.sum(np.mean(h1 > top, axis=0) > OFTEN))}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", required=True,
                    help="a training's model path (its checkpoint RUN.ckpt.npz is read) "
                         "or a model file; several allowed")
    ap.add_argument("--images", type=errors.count, default=500)
    ap.add_argument("--r-max", type=errors.positive, default=4000.0,
                    help="the training network's r_max (Hz), for the top its units code")
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_weight_growth.json"))
    args = ap.parse_args()
    params = spiking.preset("training", r_max=args.r_max * Hz)
    top = params.top_value
    weights = [read_weights(run) for run in args.run]  # a bad file: before any work
    x = load_mnist("train", args.data)[0][:args.images]
    out = Path(args.out)
    results = read_json(out) if out.exists() else {"runs": {}}
    for run, (model, examples) in zip(args.run, weights):
        row = {"examples": examples, "images": args.images, "top": top,
               **reading(model, x, top)}
        series = results["runs"].setdefault(shown_path(run), [])
        series[:] = [r for r in series if r["examples"] != examples] + [row]
        series.sort(key=lambda r: -1 if r["examples"] is None else r["examples"])
        seen = "(a model file)" if examples is None else f"after {examples} examples"
        print(f"{shown_path(run)} {seen}: f1 {row['norms']['f1']:.1f}, "
              f"g2 {row['norms']['g2']:.1f}; h1 above 4: {row['h1_above_h_max']:.1%}, above "
              f"the top {top:g}: {row['h1_above_top']:.1%}; 99th percentile "
              f"{row['h1_p99']:.2f}; silent units {row['h1_silent_units']}, often above "
              f"the top {row['h1_units_often_above_top']}", flush=True)
    write_json(out, results)
    print(f"wrote {shown_path(out)}")


if __name__ == "__main__":
    errors.run_script(main)
