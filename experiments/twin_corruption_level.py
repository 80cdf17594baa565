#!/usr/bin/env python3
"""How much corruption the spiking learner's rate limit tolerates: the exact twin trained at
several levels of x's corruption, with its validation score and its silent h1 units after
every epoch.

The twin is the learning curves' exact rate limit of the spiking learner
(:class:`stdpsim.rate_config.TrainConfig` with ``rule="sdvdt"``, minibatches of 100,
centred RMSprop at ``--lr``, the gain factor, x's corruption propagated to the upper
encoders, hidden values bounded at the ``training`` preset's top value) from the rate
model's initialisation (seed 0).  Only ``noise_x``, the s.d. of the Gaussian corruption of
f1's input, changes: the authors' 0.5, and the levels the spiking network's f1 prediction
carries when its corruption events' s.d. is 0.5, the events' own spike count noise on top
(``experiments/spiking_corruption.py``): 0.586 at the ``training`` preset, 0.71 at 2 kHz
with τ_ff 0.5 ms.  Silent h1 units (:func:`stdpsim.evaluation.silent_units`) are
counted on f1(x) of the first 2,000 training images, as
``experiments/spiking_weight_growth.py`` counts them.
Writes ``figures/twin_corruption_level.json``; a level already there at these settings is
not trained again.

    python experiments/twin_corruption_level.py [--noise-x 0.586 0.71 0.5] [--epochs 2]
        [--lr 2.5e-5] [--valid-samples 1000] [--data DIR] [--out FILE]
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from stdpsim import errors, evaluation, rate_config, rate_model, rate_training, spiking
from stdpsim.runs import results_to_continue, shown_path, write_json
from stdpsim.tasks.common import training_split

ROOT = Path(__file__).resolve().parents[1]
SILENT_IMAGES = 2000
"""The training images on which silent h1 units are counted."""


def config(noise_x: float, epochs: int, lr: float, samples: int) -> rate_config.TrainConfig:
    """The exact twin's settings at x's corruption ``noise_x``."""
    return rate_config.TrainConfig(rule="sdvdt", lr_encoders=lr, lr_decoders=lr,
                                   epochs=epochs, valid_every=1, valid_samples=samples,
                                   propagate=True, h_cap=spiking.preset("training").top_value,
                                   noise_x=noise_x)


def run(noise_x: float, x_train: np.ndarray, x_valid: np.ndarray, args) -> dict:
    """(epoch, validation score, silent h1 units) after every epoch, one epoch per call of
    the trainer, each resumed from the last one's checkpoint (the same run as one call)."""
    cfg = config(noise_x, args.epochs, args.lr, args.valid_samples)
    model = rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers, init=cfg.init)
    rows, t0 = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "twin.ckpt.npz"
        for epoch in range(1, args.epochs + 1):
            history = rate_training.train(model, x_train, dataclasses.replace(cfg, epochs=epoch),
                                          x_valid=x_valid, checkpoint=ckpt, resume=epoch > 1,
                                          progress=False)
            h1 = model.f1(x_train[:SILENT_IMAGES])
            rows.append({"epoch": epoch, "valid_parzen": history[-1]["valid_parzen"],
                         "h1_silent_units": evaluation.silent_units(h1)})
            print(f"noise_x {noise_x:g}, epoch {epoch}: validation "
                  f"{rows[-1]['valid_parzen']:.1f}, silent h1 units "
                  f"{rows[-1]['h1_silent_units']}", flush=True)
    return {"noise_x": noise_x, "epochs": rows, "seconds": time.perf_counter() - t0,
            "config": cfg.settings()}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--noise-x", type=errors.non_negative, nargs="+", default=[0.586, 0.71, 0.5],
                    help="s.d. of x's corruption, one run each")
    ap.add_argument("--epochs", type=errors.count, default=2)
    ap.add_argument("--lr", type=errors.positive, default=rate_config.SHIPPED_LR)
    ap.add_argument("--valid-samples", type=errors.count, default=1000)
    ap.add_argument("--out", default=str(ROOT / "figures" / "twin_corruption_level.json"))
    args = ap.parse_args()
    if args.valid_samples < 2:
        raise SystemExit("--valid-samples must be at least 2")
    settings = {"epochs": args.epochs, "lr": args.lr, "valid_samples": args.valid_samples}
    results = results_to_continue(Path(args.out), settings, "levels")
    data = None
    for noise_x in args.noise_x:
        key = f"{noise_x:g}"
        if key not in results["levels"]:
            data = data or training_split(args.data)
            results["levels"][key] = run(noise_x, *data, args)
            write_json(args.out, results)
    print(f"wrote {shown_path(args.out)}")


if __name__ == "__main__":
    errors.run_script(main)
