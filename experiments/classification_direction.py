#!/usr/bin/env python3
"""Which way rate targetprop moves f1, against backprop's gradient, while it trains.

Rate targetprop with one hidden layer (the grid's chosen setting at depth 1 unless given)
trains on the first 20,000 training images for ``--epochs`` epochs.  At the initial weights
and after every epoch, on ``--batches`` minibatches of 100 training images, f1's local
gradient (:func:`stdpsim.rate_training.layer_gradients` on the problem of
:func:`stdpsim.rate_training.local_problems`, label clamped) is compared with backprop's
gradient of the cross-entropy at the same weights
(:func:`stdpsim.classifiers.backprop.loss_and_gradients`).  The local gradient is split in
two with the same corruption draws: the *label's part*, clamped at the label minus clamped
at the network's own output f2(f1(x)), and the *rest* (what f1 learns with the label
already predicted: the reconstruction pull and the denoising).  Printed and written per
reading: the cosines of the whole, the label's part and the rest with backprop's gradient
(positive: the same way), the norm of the label's part over the rest's, and the validation
error.

Writes ``figures/classification_direction.json`` (``--out``).

    python experiments/classification_direction.py [--epochs 3] [--alpha 0.1]
        [--noise 0.1] [--batches 5] [--data DIR] [--out OUT.json]
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from stdpsim import errors, rate_training
from stdpsim.classifiers import ClassifyConfig
from stdpsim.classifiers.backprop import loss_and_gradients
from stdpsim.classifiers.targetprop import TargetpropTrainer
from stdpsim.classifiers.training import new_model
from stdpsim.data import load_mnist
from stdpsim.labels import error_rate, one_hot
from stdpsim.rate_model import feed_forward
from stdpsim.runs import shown_path, write_json
from stdpsim.spiking.compare import similarity
from stdpsim.tasks.common import N_TRAIN

ROOT = Path(__file__).resolve().parents[1]
BATCH = 100
"""Images per measured minibatch (the training's batch size)."""


def f1_gradient(trainer: TargetpropTrainer, x: np.ndarray, top: np.ndarray,
                seed: int) -> np.ndarray:
    """f1's local gradient (dW) with the label layer clamped at ``top`` and the corruption
    drawn from ``seed``."""
    cfg = trainer.cfg
    problems = rate_training.local_problems(trainer.model, x, np.random.default_rng(seed),
                                            trainer.local.cfg, top=top, pull=cfg.pull,
                                            predict_from=cfg.predict_from)
    return rate_training.layer_gradients(trainer.model, "f1", *problems["f1"], cfg.loss)[0]


def reading(trainer: TargetpropTrainer, x: np.ndarray, y: np.ndarray, n_batches: int
            ) -> dict[str, float]:
    """Mean cosines with backprop and norm ratio over the first ``n_batches`` minibatches
    of ``x`` (see the module docstring)."""
    rows = []
    for k in range(n_batches):
        xb, yb = x[k * BATCH:(k + 1) * BATCH], y[k * BATCH:(k + 1) * BATCH]
        backprop = loss_and_gradients(trainer.model, xb, yb)[1]["f1"][0]
        labelled = f1_gradient(trainer, xb, yb, seed=k)
        rest = f1_gradient(trainer, xb, feed_forward(trainer.model, xb)[-1], seed=k)
        label = labelled - rest
        rows.append([similarity(labelled, backprop)[0], similarity(label, backprop)[0],
                     similarity(rest, backprop)[0], similarity(label, rest)[1]])
    mean = np.mean(rows, axis=0)
    return {"cos_whole": float(mean[0]), "cos_label": float(mean[1]),
            "cos_rest": float(mean[2]), "label_over_rest": float(mean[3])}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=errors.count, default=3,
                    help="epochs of targetprop training [default: 3]")
    ap.add_argument("--alpha", type=errors.non_negative, default=0.1,
                    help="INFERENCE's pull α [default: 0.1, the grid's choice at depth 1]")
    ap.add_argument("--noise", type=errors.non_negative, default=0.1,
                    help="corruption s.d. of every layer's input [default: 0.1]")
    ap.add_argument("--batches", type=errors.count, default=5,
                    help=f"minibatches of {BATCH} measured per reading [default: 5]")
    ap.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    ap.add_argument("--out", type=Path,
                    default=ROOT / "figures" / "classification_direction.json")
    args = ap.parse_args()
    log = functools.partial(print, flush=True)
    cfg = ClassifyConfig(learner="targetprop", hidden=(1000,), epochs=args.epochs, lr=3e-4,
                         alpha=args.alpha, noise=args.noise)
    x, labels = load_mnist("train", args.data)
    x_train, y_train = x[:N_TRAIN], one_hot(labels[:N_TRAIN], 10)
    x_valid, y_valid = x[N_TRAIN:], labels[N_TRAIN:]
    trainer = TargetpropTrainer(new_model(cfg, x.shape[1], 10), cfg)
    rng = np.random.default_rng(cfg.seed + 1)  # as stdpsim.classifiers.training draws
    readings = []
    for epoch in range(cfg.epochs + 1):
        if epoch:
            order = rng.permutation(N_TRAIN)
            for idx in np.array_split(order, max(1, N_TRAIN // cfg.batch_size)):
                trainer.step(x_train[idx], y_train[idx], rng)
        row = {"epoch": epoch, **reading(trainer, x_train, y_train, args.batches),
               "valid_error": error_rate(trainer.predict(x_valid), y_valid)}
        readings.append(row)
        log(f"epoch {epoch}: validation error {100 * row['valid_error']:.2f} %, cos with "
            f"backprop: whole {row['cos_whole']:.3f}, label's part {row['cos_label']:.3f}, "
            f"rest {row['cos_rest']:.3f}; |label's part|/|rest| {row['label_over_rest']:.3f}")
    write_json(args.out, {"settings": {"hidden": [1000], "lr": cfg.lr, "alpha": cfg.alpha,
                                       "noise": cfg.noise, "batches": args.batches,
                                       "batch": BATCH, "training_images": N_TRAIN},
                          "readings": readings})
    log(f"wrote {shown_path(args.out)}")


if __name__ == "__main__":
    errors.run_script(main)
