"""Targetprop with labels: Algorithm 2 with the label layer on top of the stack, clamped to the
label while learning.

Per minibatch, INFERENCE runs with the label layer h_{L+1} held at the one-hot label y
(:func:`stdpsim.rate_model.inference`'s ``top``).  Each layer below is pulled by how far its
own prediction of the state above, mapped back through the decoder, falls short of that
state, α (g_{l+1}(h_{l+1}) − g_{l+1}(f_{l+1}(h_l))) (``pull="difference"``, the difference
correction of target propagation; Algorithm 2's α (g_{l+1}(h_{l+1}) − h_l) with
``pull="value"``), while the bottom-up terms keep every layer close to what its input
predicts.  Then every layer learns a local problem
(:func:`stdpsim.rate_training.local_problems`): f_l predicts the inferred h_l from the
corrupted bottom-up value f_{l−1}(…f1(x)) (``predict_from="feed_forward"``; the inferred
h_{l−1} already carries the label), f_{L+1} predicts y with the delta rule (at the sigmoid
label units the cross-entropy's gradient), g_l reconstructs the inferred h_{l−1} from h_l.
Only values next to a synapse enter its change; no error is carried backwards through
weights.  Why each of the three differs from the unsupervised model: docs/classification.md.

A trained stack classifies by its feed-forward pass, or by INFERENCE with the label layer
free (:data:`stdpsim.classifiers.PREDICTIONS`).
"""

from __future__ import annotations

import numpy as np

from .. import rate_config, rate_training
from ..rate_model import RateModel, feed_forward, inference
from .config import ClassifyConfig


def local_config(cfg: ClassifyConfig, sizes: tuple[int, ...]) -> rate_config.TrainConfig:
    """The layer-local training of Algorithm 2 with ``cfg``'s rate, INFERENCE, loss and
    corruption (one level for every layer, no spike-like draws: the label is already
    binary)."""
    return rate_config.TrainConfig(
        sizes=sizes, lr_encoders=cfg.lr, lr_decoders=cfg.lr, noise_x=cfg.noise,
        noise_h=cfg.noise, noise_g=cfg.noise, n_spikes=1, n_steps=cfg.n_steps,
        delta=cfg.delta, alpha=cfg.alpha, batch_size=cfg.batch_size, epochs=cfg.epochs,
        seed=cfg.seed, valid_every=0, loss=cfg.loss)


class TargetpropTrainer:
    """Algorithm 2's local steps on problems from label-clamped INFERENCE."""

    def __init__(self, model: RateModel, cfg: ClassifyConfig) -> None:
        self.model, self.cfg = model, cfg
        self.local = rate_training.LocalTrainer(model, local_config(cfg, model.sizes))
        self.parameters = {**{f"W.{k}": v for k, v in model.weights.items()},
                           **{f"b.{k}": v for k, v in model.biases.items()}}

    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
        """One local step of every layer; returns the label layer's squared error before it
        (summed over classes, mean over the batch)."""
        problems = rate_training.local_problems(self.model, x, rng, self.local.cfg, top=y,
                                                pull=self.cfg.pull,
                                                predict_from=self.cfg.predict_from)
        return self.local.apply(problems)[f"f{self.model.depth}"]

    def predict(self, x: np.ndarray, how: str = "feed_forward") -> np.ndarray:
        """The largest label unit's class of every image, after the feed-forward pass or
        after INFERENCE with the label layer free."""
        return predict(self.model, x, how, self.cfg)


def predict(model: RateModel, x: np.ndarray, how: str, cfg: ClassifyConfig) -> np.ndarray:
    """Classes of a batch by ``how`` (:data:`stdpsim.classifiers.PREDICTIONS`)."""
    if how == "feed_forward":
        top = feed_forward(model, x)[-1]
    elif how == "inference":
        top = inference(model, x, cfg.n_steps, cfg.delta, cfg.alpha, pull=cfg.pull)[-1]
    else:
        raise ValueError(f"unknown prediction {how!r}; expected feed_forward or inference")
    return np.argmax(top, axis=1)
