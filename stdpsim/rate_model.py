"""The rate-based generative model of Bengio et al. (2015, arXiv 1502.04156, Algorithm 2).

Layers (weights stored as ``W`` with shape (n_in, n_out), so a batch ``x`` of shape
(batch, n_in) maps to ``act(x @ W + b)``):

========  ===========  ==========================================
name      shape        role
========  ===========  ==========================================
``f1``    784 → 1000   encoder, softplus
``f2``    1000 → 100   encoder, sigmoid
``g2``    100 → 1000   decoder back to h1's space, linear
``g1``    1000 → 784   decoder to pixels, sigmoid
========  ===========  ==========================================

plus a Gaussian prior on h2 (``prior_mean``, ``prior_var``, shape (100,)).  The same file
format (:func:`save_model` / :func:`load_model`) is what the spiking network reads.

Everything is numpy float32; the maths is in small pure functions.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .runs import atomic_target, load_npz

LAYERS: dict[str, tuple[int, int, str]] = {
    "f1": (784, 1000, "softplus"),
    "f2": (1000, 100, "sigmoid"),
    "g2": (100, 1000, "linear"),
    "g1": (1000, 784, "sigmoid"),
}
"""Default architecture: name -> (n_in, n_out, activation)."""

ACTIVATIONS = ("softplus", "sigmoid", "linear")


class ModelFileError(ValueError):
    """A model file is missing, malformed or holds unusable values."""


def _softplus_inplace(a: np.ndarray) -> np.ndarray:
    """softplus written into ``a``: max(a, 0) + log1p(exp(−|a|)), one temporary."""
    t = np.abs(a)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    np.maximum(a, 0, out=a)
    a += t
    return a


def _sigmoid_inplace(a: np.ndarray) -> np.ndarray:
    """sigmoid written into ``a`` as (1 + tanh(a/2)) / 2 (no overflow)."""
    a *= a.dtype.type(0.5)
    np.tanh(a, out=a)
    a += a.dtype.type(1)
    a *= a.dtype.type(0.5)
    return a


def softplus(a: np.ndarray) -> np.ndarray:
    """log(1 + e^a) without overflow: max(a, 0) + log1p(exp(−|a|))."""
    return _softplus_inplace(np.array(a, dtype=np.result_type(a, np.float32)))


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^−a), written as (1 + tanh(a/2)) / 2 (no overflow)."""
    return _sigmoid_inplace(np.array(a, dtype=np.result_type(a, np.float32)))


_ACT_INPLACE = {"softplus": _softplus_inplace, "sigmoid": _sigmoid_inplace,
                "linear": lambda a: a}

ACTIVATION_EXPRESSIONS: dict[str, str] = {
    "softplus": "(({u}) * int(({u}) > 0) + log1p(exp(-abs({u}))))",
    "sigmoid": "(1 / (1 + exp(-({u}))))",
    "linear": "({u})",
}
"""The same activations as Brian2 expression templates (``{u}``: the pre-activation), for the
spiking network's equations: one definition of each nonlinearity for both models (tested
against :func:`softplus` and :func:`sigmoid`)."""


def activation_expression(activation: str, u: str) -> str:
    """Brian2 expression of ``activation`` applied to the expression ``u``."""
    if activation not in ACTIVATION_EXPRESSIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")
    return ACTIVATION_EXPRESSIONS[activation].format(u=u)


@dataclasses.dataclass
class RateModel:
    """Weights, biases, activations and the prior on h2.

    Attributes
    ----------
    weights
        ``{"f1": W, ...}``, each (n_in, n_out) float32.
    biases
        ``{"f1": b, ...}``, each (n_out,) float32.
    activations
        ``{"f1": "softplus", ...}``.
    prior_mean, prior_var
        Gaussian prior on h2, shape (n_h2,) each.
    meta
        Free-form JSON-able description (hyper-parameters, data checksum, metrics).
    """

    weights: dict[str, np.ndarray]
    biases: dict[str, np.ndarray]
    activations: dict[str, str]
    prior_mean: np.ndarray
    prior_var: np.ndarray
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def layer(self, name: str, x: np.ndarray) -> np.ndarray:
        """Apply layer ``name`` to a batch ``x`` (batch, n_in) -> (batch, n_out)."""
        a = x @ self.weights[name]
        a += self.biases[name]
        return _ACT_INPLACE[self.activations[name]](a)

    def f1(self, x: np.ndarray) -> np.ndarray:
        return self.layer("f1", x)

    def f2(self, h1: np.ndarray) -> np.ndarray:
        return self.layer("f2", h1)

    def g2(self, h2: np.ndarray) -> np.ndarray:
        return self.layer("g2", h2)

    def g1(self, h1: np.ndarray) -> np.ndarray:
        return self.layer("g1", h1)


def init_model(rng: np.random.Generator, layers: dict[str, tuple[int, int, str]] = LAYERS,
               weight_std: float | None = None,
               gain: dict[str, float] | None = None) -> RateModel:
    """Random initial model: weights N(0, std²) with std = gain/√n_in (gain per layer, 1 unless
    given in ``gain``) or ``weight_std`` for every layer; zero biases; a standard-normal prior
    until :func:`fit_prior` sets it from data."""
    weights, biases, acts = {}, {}, {}
    for name, (n_in, n_out, act) in layers.items():
        std = (weight_std if weight_std is not None
               else (gain or {}).get(name, 1.0) / np.sqrt(n_in))
        weights[name] = (rng.standard_normal((n_in, n_out)) * std).astype(np.float32)
        biases[name] = np.zeros(n_out, dtype=np.float32)
        acts[name] = act
    n_h2 = layers["f2"][1]
    return RateModel(weights, biases, acts, np.zeros(n_h2, np.float32),
                     np.ones(n_h2, np.float32))


def inference(model: RateModel, x: np.ndarray, n_steps: int = 15, delta: float = 0.1,
              alpha: float = 0.001, trace: bool = False):
    """Targetprop INFERENCE (Algorithm 2).

    h1 ← f1(x), h2 ← f2(h1), then ``n_steps`` times::

        h2 ← h2 + δ (f2(h1) − f2(g2(h2)))
        h1 ← h1 + δ (f1(x) − f1(g1(h1))) + α (g2(h2) − h1)

    Parameters
    ----------
    x
        Visible batch, shape (batch, 784), values in [0, 1].
    trace
        Also return the list of (h1, h2) after every step (index 0: the start).

    Returns
    -------
    h1, h2 (, states)
        Shapes (batch, 1000) and (batch, 100).
    """
    fx = model.f1(x)
    h1, h2 = fx, model.f2(fx)
    states = [(h1, h2)] if trace else None
    top_down = model.g2(h2)  # g2(h2), reused by the next step's h2 update
    n = h1.shape[0]
    for _ in range(n_steps):
        # f2(h1) and f2(g2(h2)) as one product of twice the rows (better BLAS throughput)
        both = model.f2(np.concatenate((h1, top_down)))
        h2 = h2 + delta * (both[:n] - both[n:])
        top_down = model.g2(h2)
        h1 = h1 + delta * (fx - model.f1(model.g1(h1))) + alpha * (top_down - h1)
        if trace:
            states.append((h1, h2))
    return (h1, h2, states) if trace else (h1, h2)


def log_joint_terms(model: RateModel, x: np.ndarray, h1: np.ndarray, h2: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three terms of log p(x, h1, h2): log p(x|h1), log p(h1|h2), log p(h2).

    Unit-variance Gaussians centred on g1(h1) and g2(h2), and the Gaussian prior on h2.
    Each has shape (batch,), in nats.
    """
    half_log_2pi = 0.5 * np.log(2 * np.pi)
    lx = -0.5 * np.sum((x - model.g1(h1)) ** 2, axis=1) - x.shape[1] * half_log_2pi
    lh1 = -0.5 * np.sum((h1 - model.g2(h2)) ** 2, axis=1) - h1.shape[1] * half_log_2pi
    z = (h2 - model.prior_mean) ** 2 / model.prior_var
    lh2 = -0.5 * np.sum(z + np.log(2 * np.pi * model.prior_var), axis=1)
    return lx, lh1, lh2


def log_joint(model: RateModel, x: np.ndarray, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    """log p(x, h1, h2) with unit-variance Gaussian p(x|h1), p(h1|h2) and the Gaussian prior.

    Returns shape (batch,), in nats.
    """
    lx, lh1, lh2 = log_joint_terms(model, x, h1, h2)
    return lx + lh1 + lh2


def inference_log_joint(model: RateModel, x: np.ndarray, n_steps: int = 20,
                        delta: float = 0.1, alpha: float = 0.001, block: int = 1000
                        ) -> np.ndarray:
    """log p(x, h) after every INFERENCE iteration (the paper's Figure 4).

    Returns
    -------
    numpy.ndarray
        Shape (n_steps + 1, batch), nats; row 0 is the feed-forward start.
    """
    out = np.empty((n_steps + 1, x.shape[0]))
    for start in range(0, x.shape[0], block):
        xb = x[start:start + block]
        _, _, states = inference(model, xb, n_steps, delta, alpha, trace=True)
        for i, (h1, h2) in enumerate(states):
            out[i, start:start + block] = log_joint(model, xb, h1, h2)
    return out


def fit_prior(model: RateModel, h2: np.ndarray, var_scale: float = 4.0) -> None:
    """Set the prior on h2 to the empirical mean and ``var_scale`` × the empirical variance."""
    model.prior_mean = h2.mean(axis=0).astype(np.float32)
    model.prior_var = (var_scale * h2.var(axis=0) + 1e-6).astype(np.float32)


def sample_prior(model: RateModel, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of h2 from the Gaussian prior, shape (n, n_h2)."""
    z = rng.standard_normal((n, model.prior_mean.size)).astype(np.float32)
    return model.prior_mean + z * np.sqrt(model.prior_var)


def ancestral_sample(model: RateModel, n: int, rng: np.random.Generator) -> np.ndarray:
    """x = g1(g2(h2)), h2 from the prior: the means of p(x|h)p(h), shape (n, 784)."""
    return model.g1(model.g2(sample_prior(model, n, rng)))


def generate(model: RateModel, n: int, rng: np.random.Generator, n_rounds: int = 3,
             alpha: float = 0.3, n_steps: int = 15, delta: float = 0.1) -> np.ndarray:
    """GENERATE (Algorithm 2): h2 ~ prior; h1 ← g2(h2); x ← g1(h1); then ``n_rounds`` times
    h1, h2 ← INFERENCE(x, α) (which starts from the feed-forward pass f1(x), f2(f1(x)))
    and x ← g1(h1).

    Returns
    -------
    numpy.ndarray
        Shape (n, 784), pixel intensities in [0, 1].
    """
    x = ancestral_sample(model, n, rng)
    for _ in range(n_rounds):
        h1, _ = inference(model, x, n_steps=n_steps, delta=delta, alpha=alpha)
        x = model.g1(h1)
    return x


def inpaint(model: RateModel, x: np.ndarray, missing: np.ndarray, fill: np.ndarray,
            n_steps: int = 20, delta: float = 0.1, alpha: float = 0.001) -> np.ndarray:
    """Fill the ``missing`` pixels of ``x`` by INFERENCE with the visible pixels clamped.

    The paper's variant for clamped pixels: the bottom-up drive of h1 is
    f1(x^v, g1(h1)^m) − f1(g1(h1)), i.e. visible pixels come from the data and missing ones
    from the model's own reconstruction.  The missing pixels start at ``fill`` (e.g. the
    mean training image), so what the procedure adds is measured against that start.

    Parameters
    ----------
    x
        Images, shape (batch, 784), in [0, 1]; values at missing pixels are ignored.
    missing
        Boolean mask, shape (batch, 784) or (784,): True where the pixel is unknown.
    fill
        Starting values of the missing pixels, broadcastable to ``x`` (e.g. shape (784,)).

    Returns
    -------
    numpy.ndarray
        The images with missing pixels replaced by g1(h1), shape (batch, 784).
    """
    missing = np.broadcast_to(np.asarray(missing, dtype=bool), x.shape)
    visible = np.where(missing, fill, x).astype(np.float32)
    h1 = model.f1(visible)
    h2 = model.f2(h1)
    recon = model.g1(h1)
    for _ in range(n_steps):
        clamped = np.where(missing, recon, visible)
        h2 = h2 + delta * (model.f2(h1) - model.f2(model.g2(h2)))
        h1 = h1 + delta * (model.f1(clamped) - model.f1(recon)) + alpha * (model.g2(h2) - h1)
        recon = model.g1(h1)
    return np.where(missing, recon, visible)


# ----------------------------------------------------------------------------- file format

_REQUIRED = ("prior_mean", "prior_var")


def save_model(model: RateModel, path: str | os.PathLike) -> Path:
    """Write ``model`` as a compressed ``.npz`` (atomic replace).

    Keys: ``<layer>.W``, ``<layer>.b`` for each layer, ``prior_mean``, ``prior_var``, and
    ``meta`` (a JSON string that also records the activations).
    """
    path, tmp = atomic_target(path, ".npz")
    arrays = {}
    for name in model.weights:
        arrays[f"{name}.W"] = model.weights[name]
        arrays[f"{name}.b"] = model.biases[name]
    meta = dict(model.meta, activations=model.activations)
    np.savez_compressed(tmp, prior_mean=model.prior_mean, prior_var=model.prior_var,
                        meta=np.array(json.dumps(meta)), **arrays)
    tmp.replace(path)
    return path


def load_model(path: str | os.PathLike, layers: dict[str, tuple[int, int, str]] = LAYERS
               ) -> RateModel:
    """Read and validate a model file; any problem is a :class:`ModelFileError` naming it."""
    path = Path(path)
    data = load_npz(path, "model", ModelFileError)
    expected = [f"{n}.{p}" for n in layers for p in ("W", "b")] + list(_REQUIRED) + ["meta"]
    missing = [k for k in expected if k not in data]
    if missing:
        raise ModelFileError(f"{path}: missing {', '.join(missing)}")
    try:
        meta = json.loads(str(data["meta"]))
    except json.JSONDecodeError:
        raise ModelFileError(f"{path}: 'meta' is not valid JSON") from None
    acts = meta.get("activations", {})
    weights, biases = {}, {}
    for name, (n_in, n_out, default_act) in layers.items():
        W, b = data[f"{name}.W"], data[f"{name}.b"]
        if W.shape != (n_in, n_out) or b.shape != (n_out,):
            raise ModelFileError(f"{path}: {name}.W has shape {W.shape} and {name}.b "
                                 f"{b.shape}, expected ({n_in}, {n_out}) and ({n_out},)")
        acts.setdefault(name, default_act)
        if acts[name] not in ACTIVATIONS:
            raise ModelFileError(f"{path}: unknown activation {acts[name]!r} for {name}")
        weights[name], biases[name] = W.astype(np.float32), b.astype(np.float32)
    n_h2 = layers["f2"][1]
    for key in _REQUIRED:
        if data[key].shape != (n_h2,):
            raise ModelFileError(f"{path}: {key} has shape {data[key].shape}, "
                                 f"expected ({n_h2},)")
    for key in expected[:-1]:  # every array but meta
        if not np.all(np.isfinite(data[key])):
            raise ModelFileError(f"{path}: {key} holds NaN or infinite values")
    if np.any(data["prior_var"] <= 0):
        raise ModelFileError(f"{path}: prior_var must be positive")
    meta.pop("activations", None)
    return RateModel(weights, biases, {n: acts[n] for n in layers},
                     data["prior_mean"].astype(np.float32),
                     data["prior_var"].astype(np.float32), meta)
