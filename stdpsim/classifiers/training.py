"""The supervised training loop every learner shares: shuffled minibatches, the validation
error after every epoch, the best epoch's weights kept."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ..labels import check_labels, error_rate, one_hot
from ..rate_model import RateModel, init_model, stack_layers
from .backprop import BackpropTrainer
from .config import ClassifyConfig, predictions
from .dtp import DTPTrainer
from .krotov_hopfield import KHTrainer, learn_features
from .targetprop import TargetpropTrainer

Log = Callable[[str], None]


def new_model(cfg: ClassifyConfig, n_visible: int, n_classes: int) -> RateModel:
    """The stack ``(n_visible, *hidden, n_classes)`` of ``cfg.units`` at its initial weights
    (orthogonal, zero biases), drawn from ``cfg.seed``."""
    layers = stack_layers(cfg.sizes(n_visible, n_classes), decoder_hidden=cfg.units,
                          encoder_hidden=cfg.units)
    return init_model(np.random.default_rng(cfg.seed), layers, init="orthogonal")


def make_trainer(cfg: ClassifyConfig, x_train: np.ndarray, n_classes: int,
                 rng: np.random.Generator, log: Log | None = None):
    """The learner's trainer, at its initial weights: ``step(x, y_onehot, rng)`` → loss,
    ``predict(x, how)`` → classes, and ``parameters`` (its arrays by name, updated in
    place).  Krotov-Hopfield's unsupervised stage runs here, on ``x_train``."""
    if cfg.learner == "krotov_hopfield":
        w = learn_features(x_train, cfg.kh, rng, cfg.batch_size, log)
        return KHTrainer(w, n_classes, cfg.kh, cfg.lr, rng)
    model = new_model(cfg, x_train.shape[1], n_classes)
    if cfg.learner == "backprop":
        return BackpropTrainer(model, cfg.lr)
    if cfg.learner == "dtp":
        return DTPTrainer(model, cfg.lr, cfg.dtp)
    return TargetpropTrainer(model, cfg)


def train_classifier(cfg: ClassifyConfig, x_train: np.ndarray, y_train: np.ndarray,
                     x_valid: np.ndarray, y_valid: np.ndarray, n_classes: int = 10,
                     log: Log | None = print):
    """Train a classifier on labelled images, scoring the validation images after every
    epoch.

    Parameters
    ----------
    x_train, x_valid
        Images, float32 (n, n_visible) in [0, 1].
    y_train, y_valid
        Their classes, (n,) in 0 .. n_classes − 1.

    Returns
    -------
    tuple
        The trainer (:func:`make_trainer`) at the epoch with the lowest feed-forward
        validation error; per epoch the mean training loss, the validation error of each
        way of classifying (fractions) and the seconds.  An epoch that leaves a weight
        non-finite is recorded (``diverged``) and ends the training.
    """
    y_train = check_labels(y_train, x_train.shape[0], n_classes, "training labels")
    y_valid = check_labels(y_valid, x_valid.shape[0], n_classes, "validation labels")
    rng = np.random.default_rng(cfg.seed + 1)
    trainer = make_trainer(cfg, x_train, n_classes, rng, log)
    targets = one_hot(y_train, n_classes)
    history: list[dict] = []
    best: tuple[float, int, dict] | None = None
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(x_train.shape[0])
        losses = [trainer.step(x_train[idx], targets[idx], rng)
                  for idx in np.array_split(order, max(1, len(order) // cfg.batch_size))]
        row = {"epoch": epoch, "loss": float(np.mean(losses))}
        for how in predictions(cfg.learner):
            row[f"valid_error_{how}"] = error_rate(trainer.predict(x_valid, how), y_valid)
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if log:
            log(f"epoch {epoch}/{cfg.epochs}: loss {row['loss']:.4f}, validation error "
                + ", ".join(f"{100 * row[f'valid_error_{h}']:.2f} % ({h.replace('_', '-')})"
                            for h in predictions(cfg.learner)) + f", {row['seconds']:.1f} s")
        diverged = not all(np.isfinite(v).all() for v in trainer.parameters.values())
        if not diverged and (best is None or row["valid_error_feed_forward"] < best[0]):
            best = (row["valid_error_feed_forward"], epoch,
                    {k: v.copy() for k, v in trainer.parameters.items()})
        if diverged:
            row["diverged"] = True
            if best is None:
                raise FloatingPointError(f"the weights diverged in the first epoch (values no "
                                         f"longer finite); try a smaller --lr than {cfg.lr}")
            if log:
                log(f"epoch {epoch}: the weights diverged (values no longer finite); "
                    f"stopping, keeping epoch {best[1]}")
            break
    _, chosen, kept = best
    for name, value in kept.items():
        trainer.parameters[name][...] = value
    trainer.meta = {"task": "classify", "config": dataclasses.asdict(cfg),
                    "chosen_epoch": chosen, "history": history, "n_classes": n_classes}
    if isinstance(getattr(trainer, "model", None), RateModel):
        trainer.model.meta = trainer.meta  # the stack's file records how it was trained
    return trainer, history
