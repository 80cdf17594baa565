#!/usr/bin/env python3
"""Ablation of the spiking learner's mechanisms in its rate twin: each one taken away on its
own, at equal examples.

Every variant is the twin (:class:`stdpsim.rate_config.TrainConfig` with ``rule="sdvdt"``)
trained from the rate model's initialisation (seed 0) for ``--epochs`` epochs and scored
after every epoch on the learning curves' protocol
(:func:`stdpsim.training.validation_parzen`, ``--valid-samples`` GENERATE samples).  The
twin with every mechanism (``all``) is the learning curves' twin: minibatches of 100 whose
tags are consolidated by centred RMSprop at ε = ``--lr`` (the shipped rate model's 2.5e-5),
the gain factor, the authors' corruption of every prediction with f1's presynaptic factor
corrupted too (the corruption events' rate limit).  Then one mechanism off at a time:

``no_tags``
    consolidation after every example (batch size 1), RMSprop as before;
``no_adaptive``
    the tags added as they are (``sgd``), at the first design's ε (1e-4 for the encoders,
    3e-5 for the decoders, per example's tag);
``no_gain``
    the delta rule (no gain factor, ``loss="delta"``);
``no_corruption``
    no corruption anywhere.

``rate`` is Algorithm 2 itself at the same ε (the reference).  Writes
``figures/twin_ablation.json`` (each finished variant at once; a stopped run goes on with
the missing ones).

    python experiments/twin_ablation.py [--data DIR] [--variant no_gain ...] [--epochs 2]
        [--lr 2.5e-5] [--valid-samples 1000]
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path

import numpy as np

from stdpsim import errors, rate_config, rate_model, rate_training
from stdpsim.tasks.twin_variants import add_variant_arguments, run_variants, scores_line

ROOT = Path(__file__).resolve().parents[1]
FIRST_DESIGN_EPS = {"lr_encoders": 1e-4, "lr_decoders": 3e-5}
"""The first design's ε (the shipped spiking model's), for the tags added as they are."""
VARIANTS = {
    "rate": {"rule": "local"},
    "all": {},
    "no_tags": {"batch_size": 1},
    "no_adaptive": {"optimizer": "sgd", **FIRST_DESIGN_EPS},
    "no_gain": {"loss": "delta"},
    "no_corruption": {"noise_x": 0.0, "noise_h": 0.0, "noise_g": 0.0, "n_spikes": 0},
}
"""Each variant's changes to the twin with every mechanism."""


def config(variant: str, epochs: int, lr: float, samples: int) -> rate_config.TrainConfig:
    """The variant's training settings."""
    cfg = rate_config.TrainConfig(rule="sdvdt", lr_encoders=lr, lr_decoders=lr,
                                  epochs=epochs, valid_every=1, valid_samples=samples)
    return dataclasses.replace(cfg, **VARIANTS[variant])


def run(variant: str, x_train: np.ndarray, x_valid: np.ndarray, args) -> dict:
    """The variant's (epoch, validation score) after every epoch, its changes, and the
    seconds it took."""
    cfg = config(variant, args.epochs, args.lr, args.valid_samples)
    model = rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers, init=cfg.init)
    t0 = time.perf_counter()
    history = rate_training.train(model, x_train, cfg, x_valid=x_valid, progress=False)
    return {"changes": VARIANTS[variant],
            "scores": [[r["epoch"], r["valid_parzen"]] for r in history
                       if "valid_parzen" in r],
            "seconds": time.perf_counter() - t0}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    add_variant_arguments(ap, VARIANTS, epochs=2, out=ROOT / "figures" / "twin_ablation.json")
    run_variants(ap.parse_args(), VARIANTS, run,
                 lambda row: f"{scores_line(row['scores'])} ({row['seconds']:.0f} s)",
                 log=functools.partial(print, flush=True))


if __name__ == "__main__":
    errors.run_script(main)
