"""Backpropagation through the stack's encoders on the softmax cross-entropy: the ceiling a
local learner of the same architecture is measured against.

The encoders f1..f_{L+1} of a :class:`~stdpsim.rate_model.RateModel` (hidden layers with
their own activations, softplus by default) map x to the label layer's pre-activation a, the
logits; the loss of a batch is −mean_n Σ_k y_nk log softmax(a_n)_k.  The decoders are not
used.
"""

from __future__ import annotations

import numpy as np

from ..activations import activation_slope
from ..optimizers import Adam
from ..rate_model import RateModel


def logits(model: RateModel, x: np.ndarray) -> np.ndarray:
    """The label layer's pre-activation of a batch, shape (batch, n_classes)."""
    h = x
    for l in range(1, model.depth):
        h = model.layer(f"f{l}", h)
    return model.pre_activation(f"f{model.depth}", h)


def log_softmax(a: np.ndarray) -> np.ndarray:
    """log softmax along the last axis, without overflow."""
    shifted = a - a.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def loss_and_gradients(model: RateModel, x: np.ndarray, y: np.ndarray
                       ) -> tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The mean cross-entropy of a batch and its gradient by backpropagation.

    Parameters
    ----------
    x, y
        Inputs (batch, n_visible) and one-hot labels (batch, n_classes).

    Returns
    -------
    tuple
        The loss in nats per example, and ``{"f1": (dL/dW, dL/db), ...}`` in the weights'
        shapes.
    """
    hs, pre = [x], []
    for l in range(1, model.depth + 1):
        a = model.pre_activation(f"f{l}", hs[-1])
        pre.append(a)
        if l < model.depth:
            hs.append(model.activate(f"f{l}", a))
    logp = log_softmax(pre[-1])
    n = x.shape[0]
    loss = float(-np.sum(y * logp) / n)
    err = (np.exp(logp) - y) / n  # dL/da at the logits
    grads = {}
    for l in range(model.depth, 0, -1):
        name = f"f{l}"
        grads[name] = (hs[l - 1].T @ err, err.sum(axis=0))
        if l > 1:
            err = (err @ model.weights[name].T) * activation_slope(
                model.activations[f"f{l - 1}"], pre[l - 2])
    return loss, grads


def adam_steps(model: RateModel, opts: dict, grads: dict) -> None:
    """One step of each layer's optimiser ``opts[name]`` on ``grads[name]`` = (dW, db)."""
    for name, (gw, gb) in grads.items():
        opts[name].step({"W": model.weights[name], "b": model.biases[name]},
                        {"W": gw.astype(np.float32), "b": gb.astype(np.float32)})


class BackpropTrainer:
    """Adam on every encoder; :meth:`step` trains on one minibatch."""

    def __init__(self, model: RateModel, lr: float) -> None:
        self.model = model
        self.parameters = {**{f"W.{k}": v for k, v in model.weights.items()},
                           **{f"b.{k}": v for k, v in model.biases.items()}}
        self.opts = {f"f{l}": Adam({"W": model.weights[f"f{l}"], "b": model.biases[f"f{l}"]},
                                   lr) for l in range(1, model.depth + 1)}

    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
        """One Adam step of every encoder; returns the batch's loss before it (nats)."""
        loss, grads = loss_and_gradients(self.model, x, y)
        adam_steps(self.model, self.opts, grads)
        return loss

    def predict(self, x: np.ndarray, how: str = "feed_forward") -> np.ndarray:
        """The largest logit's class of every image (only ``feed_forward``)."""
        if how != "feed_forward":
            raise ValueError(f"backprop classifies by the feed-forward pass, not {how!r}")
        return np.argmax(logits(self.model, x), axis=1)
