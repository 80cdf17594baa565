"""Krotov & Hopfield (2019, PNAS 116:7723), "Unsupervised learning by competing hidden
units": a hidden layer learned without labels by a local rule with global inhibition, then a
supervised top layer on its rectified-power activity.

Unsupervised layer (weights W, shape (K hidden, N visible)).  For an input v the hidden
currents are ``I_μ = Σ_i sgn(W_μi) abs(W_μi)^(p−1) v_i``.  Competition through inhibition
leaves, per input, g = 1 for the unit of the largest current, g = −Δ for the unit ranked k-th (an
anti-Hebbian push), and 0 for the others.  A minibatch changes the weights by

    ΔW_μi = Σ_n g_nμ (v_ni − I_nμ W_μi),

the Hebbian term and a decay that drives each unit's weights to the unit p-norm sphere.
The step is scaled so that its largest element is ε, and ε falls linearly from ε0 to 0 over
the epochs (as in the authors' published code).  The weights start N(0, 1), far outside the
sphere (p-norm ≈ 11 for N = 784, p = 3): a unit that wins shrinks towards it, which lets the
others win the next inputs; the features form once the units are on the sphere.

Supervised layer (weights S, shape (K, n_classes)).  The hidden activity is
h = max(W·v, 0)^n, divided per input by its largest element (so that β acts on values in
[0, 1] whatever the currents' scale; the class is unchanged by it), the output
c = tanh(β h·S), and the loss ``Σ_α abs(c_α − t_α)^m`` with t = +1 for the true class and −1
for the others, trained by Adam on S alone.  The class is the largest c.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import errors
from ..optimizers import Adam


@dataclasses.dataclass(frozen=True)
class KHSettings:
    """The method's settings (defaults: the paper's MNIST network, as this project reads
    it: K = 2,000 units, p = 3, k = 7, Δ = 0.4, n = 4.5, m = 6, minibatches of 100 as in the
    authors' code; ε0, the epochs and β chosen on this project's 20,000 images, see
    docs/classification.md).

    Attributes
    ----------
    hidden
        K, hidden units.
    p, k, delta
        The currents' Lebesgue power, the rank that gets the anti-Hebbian push, its size Δ.
    eps0, unsupervised_epochs
        The unsupervised step's largest change at the first epoch, and the epochs over
        which it falls to 0.
    power, m, beta
        The hidden activity's power n, the loss's exponent m, the output's gain β.
    """

    hidden: int = 2000
    p: float = 3.0
    k: int = 7
    delta: float = 0.4
    eps0: float = 0.1
    unsupervised_epochs: int = 50
    power: float = 4.5
    m: float = 6.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        checks = [(self.hidden >= 2, f"hidden needs at least 2 units, got {self.hidden}"),
                  (2 <= self.k <= self.hidden,
                   f"k must be in 2..hidden ({self.hidden}), got {self.k}"),
                  (self.p >= 2, f"p must be at least 2, got {self.p}"),
                  (self.delta >= 0 and self.eps0 > 0 and self.unsupervised_epochs >= 1,
                   "delta >= 0, eps0 > 0 and unsupervised_epochs >= 1, please"),
                  (self.power >= 1 and self.m >= 2 and self.beta > 0,
                   "power >= 1, m >= 2 and beta > 0, please")]
        errors.require(checks)


def currents(w: np.ndarray, v: np.ndarray, p: float) -> np.ndarray:
    """``I = v · (sgn(W) abs(W)^(p−1))ᵀ``, shape (batch, K), for inputs ``v`` (batch, N)."""
    return v @ (np.sign(w) * np.abs(w) ** (p - 1)).T


def competition(i: np.ndarray, k: int, delta: float) -> np.ndarray:
    """g of every input and unit, shape of ``i`` (batch, K): 1 for the largest current,
    −Δ for the k-th largest, 0 elsewhere."""
    order = np.argsort(i, axis=1)
    g = np.zeros_like(i)
    rows = np.arange(i.shape[0])
    g[rows, order[:, -1]] = 1.0
    g[rows, order[:, -k]] = -delta
    return g


def unsupervised_change(w: np.ndarray, v: np.ndarray, s: KHSettings) -> np.ndarray:
    """The minibatch's ΔW = Σ_n g_nμ (v_ni − I_nμ W_μi), shape of ``w``, before scaling."""
    i = currents(w, v, s.p)
    g = competition(i, s.k, s.delta)
    return g.T @ v - np.sum(g * i, axis=0)[:, None] * w


def unsupervised_step(w: np.ndarray, v: np.ndarray, s: KHSettings, eps: float) -> None:
    """``W += ε ΔW / max(abs(ΔW))``, in place."""
    change = unsupervised_change(w, v, s)
    w += eps * change / max(float(np.abs(change).max()), 1e-30)


def hidden_activity(w: np.ndarray, v: np.ndarray, power: float) -> np.ndarray:
    """h = max(W·v, 0)^n divided by its largest element per input, shape (batch, K), values
    in [0, 1] (an input that drives no unit gives zeros)."""
    h = np.maximum(v @ w.T, 0.0) ** power
    return h / np.maximum(h.max(axis=1, keepdims=True), 1e-30)


def classes(w: np.ndarray, s_w: np.ndarray, x: np.ndarray, power: float) -> np.ndarray:
    """The class of every image of ``x``: the largest output, argmax of h·S."""
    return np.argmax(hidden_activity(w, x, power) @ s_w, axis=1)


def supervised_loss_and_gradient(s_w: np.ndarray, h: np.ndarray, y: np.ndarray,
                                 s: KHSettings) -> tuple[float, np.ndarray]:
    """Loss ``Σ_α abs(c_α − t_α)^m`` averaged over the batch (t = 2y − 1 from one-hot ``y``), and
    its gradient with respect to S (shape of ``s_w``)."""
    c = np.tanh(s.beta * (h @ s_w))
    diff = c - (2 * y - 1)
    loss = float(np.mean(np.sum(np.abs(diff) ** s.m, axis=1)))
    err = s.m * np.abs(diff) ** (s.m - 1) * np.sign(diff) * (1 - c * c) * s.beta
    return loss, h.T @ err / h.shape[0]


class KHTrainer:
    """The supervised stage on a learned W: Adam on S per minibatch."""

    def __init__(self, w: np.ndarray, n_classes: int, s: KHSettings, lr: float,
                 rng: np.random.Generator) -> None:
        self.w, self.s = w, s
        self.s_w = (rng.standard_normal((w.shape[0], n_classes)) * 0.01).astype(np.float32)
        self.opt = Adam({"S": self.s_w}, lr)
        self.parameters = {"W": self.w, "S": self.s_w}

    def step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
        loss, grad = supervised_loss_and_gradient(
            self.s_w, hidden_activity(self.w, x, self.s.power), y, self.s)
        self.opt.step({"S": self.s_w}, {"S": grad.astype(np.float32)})
        return loss

    def predict(self, x: np.ndarray, how: str = "feed_forward") -> np.ndarray:
        if how != "feed_forward":
            raise ValueError(f"Krotov-Hopfield classifies by the feed-forward pass, not {how!r}")
        return classes(self.w, self.s_w, x, self.s.power)


def learn_features(x: np.ndarray, s: KHSettings, rng: np.random.Generator,
                   batch_size: int = 100, log=None) -> np.ndarray:
    """The unsupervised stage: W (K, N) from N(0, 1) weights, ``s.unsupervised_epochs``
    passes over ``x`` (batch, N) in shuffled minibatches, each unit's weights then scaled to
    unit p-norm.

    The rule's decay drives every unit that takes part in the competition to the unit
    p-norm sphere; the few units that seldom rank first or k-th are still near their N(0, 1)
    start after the epochs, and their rectified powers would swamp the others'.  Scaling
    every unit to the sphere, where the dynamics take it, keeps each unit's feature (its
    direction) and puts all of them on the scale the method works at.  The log's last line
    gives the fraction of units the dynamics took there (:func:`on_sphere`): with too few
    steps for the data (ε0 = 0.02 over 20 epochs of 20,000 images) it is 0, and the
    features are the random start, scaled."""
    w = rng.standard_normal((s.hidden, x.shape[1])).astype(np.float32)
    for epoch in range(s.unsupervised_epochs):
        eps = s.eps0 * (1 - epoch / s.unsupervised_epochs)
        order = rng.permutation(x.shape[0])
        for start in range(0, len(order) - batch_size + 1, batch_size):
            unsupervised_step(w, x[order[start:start + batch_size]], s, eps)
        if log:
            log(f"unsupervised epoch {epoch + 1}/{s.unsupervised_epochs}")
    if log:
        log(f"units on the unit p-norm sphere: {100 * on_sphere(w, s.p):.1f} %")
    return unit_p_norm(w, s.p)


def on_sphere(w: np.ndarray, p: float, tolerance: float = 0.1) -> float:
    """The fraction of units (rows of ``w``) whose p-norm is within ``tolerance`` of 1."""
    norms = np.sum(np.abs(w) ** p, axis=1) ** (1 / p)
    return float(np.mean(np.abs(norms - 1) <= tolerance))


def unit_p_norm(w: np.ndarray, p: float) -> np.ndarray:
    """``w`` (K, N) with every row scaled to Σ_i abs(W_μi)^p = 1 (rows of zeros stay)."""
    norms = np.sum(np.abs(w) ** p, axis=1, keepdims=True) ** (1 / p)
    return (w / np.where(norms > 0, norms, 1)).astype(w.dtype)
