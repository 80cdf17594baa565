"""Difference target propagation (Lee, Zhang, Fischer & Bengio 2015, arXiv 1412.7525), the
nearest published targetprop classifier, on the same stack.

Forward pass h_l = f_l(h_{l−1}) (h_0 = x) to the logits a = f_{L+1}'s pre-activation, loss the
softmax cross-entropy L.  Targets, top down:

    ĥ_L = h_L − η̂ ∂L/∂h_L                       (one gradient step at the top),
    ĥ_{l−1} = h_{l−1} + g_l(ĥ_l) − g_l(h_l)      (the difference correction, l = L .. 2),

with the decoders g_l (h_l → h_{l−1}) as approximate inverses.  Each encoder f_l (l ≤ L)
learns ‖f_l(h_{l−1}) − ĥ_l‖² with its input fixed; the top layer f_{L+1} learns L itself;
each decoder g_l learns to invert f_l around corrupted points,
‖g_l(f_l(h_{l−1} + ε)) − (h_{l−1} + ε)‖², ε ~ N(0, σ²).  No error crosses a weight matrix
except at the top layer's own gradient.  g1 and g_{L+1} are not used.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..optimizers import Adam
from ..rate_model import RateModel
from ..rate_training import layer_gradients
from .backprop import adam_steps, log_softmax, logits


@dataclasses.dataclass(frozen=True)
class DTPSettings:
    """Attributes
    ----------
    target_step
        η̂, the step of the top target against the loss's gradient.
    inverse_noise
        σ of the corruption the decoders learn to invert around.
    """

    target_step: float = 0.3
    inverse_noise: float = 0.3

    def __post_init__(self) -> None:
        if not (self.target_step > 0 and self.inverse_noise >= 0):
            raise ValueError("target_step must be positive and inverse_noise non-negative")


def forward(model: RateModel, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """[x, h1, ..., h_L] and the logits, shape (batch, n_classes)."""
    hs = [x]
    for l in range(1, model.depth):
        hs.append(model.layer(f"f{l}", hs[-1]))
    return hs, model.pre_activation(f"f{model.depth}", hs[-1])


def targets(model: RateModel, hs: list[np.ndarray], logits: np.ndarray, y: np.ndarray,
            target_step: float) -> list[np.ndarray]:
    """[ĥ1, ..., ĥ_L]: the top one a gradient step on each example's loss, the others by the
    difference correction through the decoders."""
    top = model.depth
    dl_dh = (np.exp(log_softmax(logits)) - y) @ model.weights[f"f{top}"].T  # per example
    out = [hs[top - 1] - target_step * dl_dh]
    for l in range(top - 1, 1, -1):
        name = f"g{l}"
        out.insert(0, hs[l - 1] + model.layer(name, out[0]) - model.layer(name, hs[l]))
    return out


class DTPTrainer:
    """Adam on the encoders and the decoders g2..g_L; :meth:`step` trains one minibatch."""

    def __init__(self, model: RateModel, lr: float, settings: DTPSettings) -> None:
        self.model, self.settings = model, settings
        self.used = [f"f{l}" for l in range(1, model.depth + 1)] + \
            [f"g{l}" for l in range(2, model.depth)]
        self.opts = {n: Adam({"W": model.weights[n], "b": model.biases[n]}, lr)
                     for n in self.used}
        self.parameters = {**{f"W.{n}": model.weights[n] for n in self.used},
                           **{f"b.{n}": model.biases[n] for n in self.used}}

    def gradients(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
                  ) -> tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """The batch's cross-entropy (nats per example) and every used layer's gradient of
        its own loss."""
        m, top = self.model, self.model.depth
        hs, logits = forward(m, x)
        logp = log_softmax(logits)
        err = (np.exp(logp) - y) / x.shape[0]
        grads = {f"f{top}": (hs[-1].T @ err, err.sum(axis=0))}
        for l, target in enumerate(targets(m, hs, logits, y, self.settings.target_step), 1):
            grads[f"f{l}"] = layer_gradients(m, f"f{l}", hs[l - 1], target)[:2]
        for l in range(2, top):
            noisy = hs[l - 1] + self.settings.inverse_noise * rng.standard_normal(
                hs[l - 1].shape).astype(np.float32)
            grads[f"g{l}"] = layer_gradients(m, f"g{l}", m.layer(f"f{l}", noisy), noisy)[:2]
        return float(-np.sum(y * logp) / x.shape[0]), grads

    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
        loss, grads = self.gradients(x, y, rng)
        adam_steps(self.model, self.opts, grads)
        return loss

    def predict(self, x: np.ndarray, how: str = "feed_forward") -> np.ndarray:
        if how != "feed_forward":
            raise ValueError(f"DTP classifies by the feed-forward pass, not {how!r}")
        return np.argmax(logits(self.model, x), axis=1)
