"""The units' nonlinearities, as numpy functions and as Brian2 expressions: one definition
of each for the rate model and the spiking network (each pair tested against the other)."""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("softplus", "sigmoid", "linear")
"""The activations a layer may have."""


def _softplus_inplace(a: np.ndarray) -> np.ndarray:
    """softplus written into ``a``: max(a, 0) + log1p(exp(−|a|)), one temporary.

    max(a, 0) is formed as (a + |a|)/2, which is exact in floating point and, on the
    training's (100, 1000) arrays, faster than ``np.maximum``."""
    t = np.abs(a)
    a += t
    a *= a.dtype.type(0.5)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
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


def sigmoid(a: np.ndarray, inplace: bool = False) -> np.ndarray:
    """1 / (1 + e^−a), written as (1 + tanh(a/2)) / 2 (no overflow); ``inplace``: into
    ``a`` itself (a float array), which is returned."""
    if inplace:
        return _sigmoid_inplace(a)
    return _sigmoid_inplace(np.array(a, dtype=np.result_type(a, np.float32)))


IN_PLACE = {"softplus": _softplus_inplace, "sigmoid": _sigmoid_inplace,
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


def activation_slope(activation: str, a: np.ndarray) -> np.ndarray:
    """act′(a), the derivative of ``activation`` at the pre-activation ``a`` (same shape):
    σ(a) for softplus, σ(a)(1 − σ(a)) for sigmoid, 1 for linear."""
    if activation == "softplus":
        return sigmoid(a)
    if activation == "sigmoid":
        s = sigmoid(a)
        return s * (1 - s)
    if activation == "linear":
        return np.ones_like(a, dtype=np.result_type(a, np.float32))
    raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")


SLOPE_EXPRESSIONS: dict[str, str] = {
    "softplus": "(1 / (1 + exp(-({u}))))",
    "sigmoid": "(exp(-abs({u})) / (1 + exp(-abs({u})))**2)",
    "linear": "1",
}
"""act′ as Brian2 expression templates (the spiking learner's gain factor; tested against
:func:`activation_slope`)."""


def slope_expression(activation: str, u: str) -> str:
    """Brian2 expression of act′ of ``activation`` at the expression ``u``."""
    if activation not in SLOPE_EXPRESSIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")
    return SLOPE_EXPRESSIONS[activation].format(u=u)
