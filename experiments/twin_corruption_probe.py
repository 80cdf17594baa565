#!/usr/bin/env python3
"""Which corruption does the spiking learner need? Its rate twin with corruption in different
places, beside the rate model, at equal examples.

Each variant trains from the rate model's initialisation (seed 0) for ``--epochs`` epochs of
minibatches of 100 at learning rate ``--lr`` (the shipped rate model's 2.5e-5), centred
RMSprop, the gain factor, and is scored after every epoch on the learning curves' protocol
(:func:`stdpsim.training.validation_parzen`, ``--valid-samples`` GENERATE samples):

``rate``
    the rate model (Algorithm 2, the authors' settings);
``clean``
    the twin without corruption;
``predictions``
    the twin with the authors' corruption of every prediction, clean presynaptic factors;
``f1``, ``encoders``, ``decoders``, ``all``
    the same with the corrupted input also as the presynaptic factor of f1, of every
    encoder, of the decoders, of every layer (:func:`stdpsim.plasticity.sdvdt_updates`'s
    ``noisy_pre``; ``f1`` is the twin of ``rate_training.NOISY_PRE``).

Writes ``figures/twin_corruption_probe.json`` (each finished variant at once; a stopped run
goes on with the missing ones).

    python experiments/twin_corruption_probe.py [--data DIR] [--variant f1 ...] [--epochs 3]
        [--lr 2.5e-5] [--valid-samples 1000]
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from stdpsim import errors, rate_config, rate_model, rate_training
from stdpsim.tasks.twin_variants import add_variant_arguments, run_variants, scores_line

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"rate": None, "clean": (), "predictions": (), "f1": ("f1",),
            "encoders": "f", "decoders": "g", "all": True}
"""Each variant's presynaptic factors that carry the corruption (None: the rate model)."""


def noisy_layers(spec, model: rate_model.RateModel):
    """``noisy_pre`` for the twin: a tuple, True, or the layers whose names start with a
    letter."""
    if isinstance(spec, str):
        return tuple(n for n in model.weights if n.startswith(spec))
    return spec


def run(variant: str, x_train: np.ndarray, x_valid: np.ndarray, args) -> list[list[float]]:
    """(epoch, validation score) after every epoch of one variant."""
    cfg = rate_config.TrainConfig(lr_encoders=args.lr, lr_decoders=args.lr,
                                  epochs=args.epochs, valid_every=1,
                                    valid_samples=args.valid_samples)
    if variant != "rate":
        cfg = dataclasses.replace(cfg, rule="sdvdt")
    if variant == "clean":
        cfg = dataclasses.replace(cfg, noise_x=0.0, noise_h=0.0, noise_g=0.0, n_spikes=0)
    model = rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers, init=cfg.init)
    kept = rate_training.NOISY_PRE
    rate_training.NOISY_PRE = noisy_layers(VARIANTS[variant], model) or ()
    try:
        history = rate_training.train(model, x_train, cfg, x_valid=x_valid, progress=False)
    finally:
        rate_training.NOISY_PRE = kept
    return [[r["epoch"], r["valid_parzen"]] for r in history if "valid_parzen" in r]


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    add_variant_arguments(ap, VARIANTS, epochs=3,
                          out=ROOT / "figures" / "twin_corruption_probe.json")
    run_variants(ap.parse_args(), VARIANTS, run, scores_line,
                 log=functools.partial(print, flush=True))


if __name__ == "__main__":
    errors.run_script(main)
