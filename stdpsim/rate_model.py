"""The rate-based generative model of Bengio et al. (2015, arXiv 1502.04156, Algorithm 2).

Layers (weights stored as ``W`` with shape (n_in, n_out), so a batch ``x`` of shape
(batch, n_in) maps to ``act(x @ W + b)``):

========  ===========  ==========================================
name      shape        role
========  ===========  ==========================================
``f1``    784 → 1000   encoder, softplus
``f2``    1000 → 100   encoder, sigmoid
``g2``    100 → 1000   decoder back to h1's space, softplus (the first
                       release's models: linear)
``g1``    1000 → 784   decoder to pixels, sigmoid
========  ===========  ==========================================

plus a factorised Gaussian prior on h2 (``prior_mean``, ``prior_var``, shape (100,)).  Deeper
stacks (:func:`stack_layers`) have encoders ``f1..fL``, decoders ``gL..g1`` and the prior on
h_L; INFERENCE, GENERATE, in-painting, log p and the file format take any L ≥ 2.  The same
file format (:mod:`stdpsim.model_files`) is what the spiking network reads.

Everything is numpy float32; the maths is in small pure functions.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from . import threads
from .activations import ACTIVATIONS, IN_PLACE

LayerSpec = dict[str, tuple[int, int, str]]
"""Architecture: layer name -> (n_in, n_out, activation), encoders ``f1..fL`` then decoders
``gL..g1``."""


def stack_layers(sizes: Sequence[int], decoder_hidden: str = "softplus",
                 encoder_hidden: str = "softplus") -> LayerSpec:
    """The architecture of a stack with visible size ``sizes[0]`` and hidden sizes
    ``sizes[1:]``.

    Encoders f_l map h_{l−1} → h_l (``encoder_hidden``, the top one sigmoid); decoders g_l
    map h_l → h_{l−1} (``decoder_hidden``, g1 sigmoid for pixels in [0, 1]).  With sizes
    (784, 1000, 100) and the defaults this is the authors' f1 softplus, f2 sigmoid,
    g2 softplus, g1 sigmoid.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 3 or min(sizes) < 1:
        raise ValueError(f"need a visible and at least two hidden sizes, all positive, "
                         f"got {sizes}")
    for act in (decoder_hidden, encoder_hidden):
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; expected one of {ACTIVATIONS}")
    depth = len(sizes) - 1
    layers: LayerSpec = {}
    for l in range(1, depth + 1):
        layers[f"f{l}"] = (sizes[l - 1], sizes[l], "sigmoid" if l == depth else encoder_hidden)
    for l in range(depth, 0, -1):
        layers[f"g{l}"] = (sizes[l], sizes[l - 1], "sigmoid" if l == 1 else decoder_hidden)
    return layers


SIZES = (784, 1000, 100)
"""The paper's MNIST model: 784 pixels, h1 of 1000 and h2 of 100 units."""

LAYERS: LayerSpec = stack_layers(SIZES)
"""Default architecture (the authors'): f1 softplus, f2 sigmoid, g2 softplus, g1 sigmoid."""


@dataclasses.dataclass
class RateModel:
    """Weights, biases, activations and the prior on the top hidden layer.

    Attributes
    ----------
    weights
        ``{"f1": W, ...}``, each (n_in, n_out) float32: encoders ``f1..fL`` and decoders
        ``gL..g1`` of a stack with L ≥ 2 hidden layers.
    biases
        ``{"f1": b, ...}``, each (n_out,) float32.
    activations
        ``{"f1": "softplus", ...}``.
    prior_mean, prior_var
        Factorised Gaussian prior on the top layer h_L, shape (n_L,) each; ``prior_var``
        already includes the width factor (``meta["prior_var_scale"]`` × the empirical
        variance, see :func:`fit_prior`).
    meta
        Free-form JSON-able description (hyper-parameters, data checksum, metrics).
    """

    weights: dict[str, np.ndarray]
    biases: dict[str, np.ndarray]
    activations: dict[str, str]
    prior_mean: np.ndarray
    prior_var: np.ndarray
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def depth(self) -> int:
        """Number of hidden layers L."""
        return sum(1 for name in self.weights if name.startswith("f"))

    @property
    def sizes(self) -> tuple[int, ...]:
        """(n_visible, n_1, ..., n_L)."""
        return (self.weights["f1"].shape[0],) + tuple(
            self.weights[f"f{l}"].shape[1] for l in range(1, self.depth + 1))

    def layer(self, name: str, x: np.ndarray) -> np.ndarray:
        """Apply layer ``name`` to a batch ``x`` (batch, n_in) -> (batch, n_out): the same
        values as :meth:`activate` of :meth:`pre_activation`, in one pass over the rows."""
        a = x @ self.weights[name]
        bias, act = self.biases[name], IN_PLACE[self.activations[name]]

        def finish(rows: np.ndarray) -> None:
            rows += bias
            act(rows)

        threads.over_rows(finish, a)  # large batches (sampling, scoring): on every core
        return a

    def pre_activation(self, name: str, x: np.ndarray) -> np.ndarray:
        """Layer ``name``'s pre-activation x·W + b of a batch ``x`` (batch, n_in)."""
        a = x @ self.weights[name]
        bias = self.biases[name]

        def add(rows: np.ndarray) -> None:
            rows += bias

        threads.over_rows(add, a)
        return a

    def activate(self, name: str, a: np.ndarray) -> np.ndarray:
        """Layer ``name``'s activation of the pre-activation ``a`` (a new array)."""
        out = np.array(a, copy=True)
        threads.over_rows(IN_PLACE[self.activations[name]], out)
        return out

    def f1(self, x: np.ndarray) -> np.ndarray:
        return self.layer("f1", x)

    def f2(self, h1: np.ndarray) -> np.ndarray:
        return self.layer("f2", h1)

    def g2(self, h2: np.ndarray) -> np.ndarray:
        return self.layer("g2", h2)

    def g1(self, h1: np.ndarray) -> np.ndarray:
        return self.layer("g1", h1)

    def decode(self, top: np.ndarray) -> list[np.ndarray]:
        """Top-down pass from h_L: [g1(...), ..., g_L(h_L)], i.e. x̂ first, then ĥ1, ..."""
        out = [top]
        for l in range(self.depth, 0, -1):
            out.append(self.layer(f"g{l}", out[-1]))
        return out[:0:-1]


INITS = ("orthogonal", "gaussian")


def orthogonal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """The orthogonal factor U·Vᵀ of the SVD U·S·Vᵀ of a uniform random (n_in, n_out)
    matrix: orthonormal columns when n_in ≥ n_out, orthonormal rows otherwise."""
    u, _, vt = np.linalg.svd(rng.uniform(-1.0, 1.0, (n_in, n_out)), full_matrices=False)
    return u @ vt


def init_model(rng: np.random.Generator, layers: LayerSpec = LAYERS,
               weight_std: float | None = None, gain: dict[str, float] | None = None,
               init: str = "gaussian") -> RateModel:
    """Random initial model with zero biases and a standard-normal prior (until
    :func:`fit_prior` sets it from data).

    ``init="gaussian"``: weights N(0, std²) with std = gain/√n_in, or ``weight_std`` for every
    layer; ``init="orthogonal"``: :func:`orthogonal` times the gain.  The gain is per layer
    (``gain``; 1 for layers not named).
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    weights, biases, acts = {}, {}, {}
    for name, (n_in, n_out, act) in layers.items():
        g = (gain or {}).get(name, 1.0)
        if init == "orthogonal":
            w = g * orthogonal(rng, n_in, n_out)
        else:
            std = weight_std if weight_std is not None else g / np.sqrt(n_in)
            w = rng.standard_normal((n_in, n_out)) * std
        weights[name] = w.astype(np.float32)
        biases[name] = np.zeros(n_out, dtype=np.float32)
        acts[name] = act
    depth = sum(1 for name in layers if name.startswith("f"))
    n_top = layers[f"f{depth}"][1]
    return RateModel(weights, biases, acts, np.zeros(n_top, np.float32),
                     np.ones(n_top, np.float32))


PULLS = ("value", "difference")
"""How INFERENCE pulls a layer towards the state above (:func:`_settle`)."""


def _settle(model: RateModel, hs: list[np.ndarray], bottom_drive, n_steps: int, delta: float,
            alpha: float, prior_alpha: float, states: list | None,
            cap: float | None = None, clamp_top: bool = False, pull: str = "value"
            ) -> list[np.ndarray]:
    """The INFERENCE iterations of Algorithm 2 on the hidden states ``hs`` = [h1, ..., hL],
    top layer first, each lower layer pulled towards the *new* state above it::

        h_L ← h_L + δ (f_L(h_{L−1}) − f_L(g_L(h_L)))  [+ β (μ − h_L)/σ²]
        h_l ← h_l + δ (f_l(h_{l−1}) − f_l(g_l(h_l))) + α (g_{l+1}(h_{l+1}) − h_l)

    ``bottom_drive(h1)`` is h1's bottom-up term (f1(x) − f1(g1(h1)) in plain INFERENCE) in
    a fresh array, which the update may overwrite;
    β = ``prior_alpha`` the weight of the prior's gradient (0: Algorithm 2 as published).
    The prior's term is taken as an implicit (backward-Euler) step, h_L ← (h̃_L + c μ)/(1 + c)
    with c = β/σ² and h̃_L the update without it: to first order in c the explicit step
    above, and stable for units whose prior variance is tiny (an explicit step with
    β/σ² > 2 diverges).  ``cap``: each new state is clipped at it from above (None: not).
    ``clamp_top``: h_L keeps its value (a clamped label layer); the layers below settle.
    ``pull``: ``value`` (Algorithm 2) pulls h_l towards the decoder's value from above,
    ``difference`` by the difference α (g_{l+1}(h_{l+1}) − g_{l+1}(f_{l+1}(h_l))), which
    vanishes where h_l already predicts the state above (the difference correction of
    target propagation, Lee et al. 2015).
    """
    if pull not in PULLS:
        raise ValueError(f"pull must be one of {PULLS}, got {pull!r}")
    depth, n = len(hs), hs[0].shape[0]
    top_down = {l: model.layer(f"g{l}", hs[l - 1]) for l in range(2, depth + 1)}
    for _ in range(n_steps):
        for l in range(depth - clamp_top, 0, -1):
            if l == 1:
                drive = bottom_drive(hs[0])
            else:  # f_l(h_{l−1}) and f_l(g_l(h_l)) as one product of twice the rows
                both = model.layer(f"f{l}", np.concatenate((hs[l - 2], top_down[l])))
                drive = both[:n] - both[n:]
            drive *= delta  # in place (drive is a fresh array): h = h + δ·drive
            h = np.add(hs[l - 1], drive, out=drive)
            if l < depth:
                own = (hs[l - 1] if pull == "value" else
                       model.layer(f"g{l + 1}", model.layer(f"f{l + 1}", hs[l - 1])))
                towards = np.subtract(top_down[l + 1], own)
                towards *= alpha
                h += towards
            elif prior_alpha:  # implicit step: stable however small a unit's variance
                c = prior_alpha / model.prior_var
                h = (h + c * model.prior_mean) / (1 + c)
            if cap is not None:
                h = np.minimum(h, cap, out=h)
            hs[l - 1] = h
            if l >= 2:
                top_down[l] = model.layer(f"g{l}", h)
        if states is not None:
            states.append(tuple(hs))
    return hs


def feed_forward(model: RateModel, x: np.ndarray, cap: float | None = None
                 ) -> list[np.ndarray]:
    """[f1(x), f2(f1(x)), ...]: INFERENCE's starting point, one array per hidden layer, each
    clipped at ``cap`` from above before the next layer takes it (None: not)."""
    return _pass_up(model, model.f1(x), cap)


def _pass_up(model: RateModel, f1x: np.ndarray, cap: float | None) -> list[np.ndarray]:
    """:func:`feed_forward` from f1(x), which it leaves as it is (clipped into a copy)."""
    hs = [f1x if cap is None else np.minimum(f1x, cap)]
    for l in range(2, model.depth + 1):
        h = model.layer(f"f{l}", hs[-1])
        hs.append(h if cap is None else np.minimum(h, cap, out=h))
    return hs


def inference(model: RateModel, x: np.ndarray, n_steps: int = 15, delta: float = 0.1,
              alpha: float = 0.001, trace: bool = False, prior_alpha: float = 0.0,
              cap: float | None = None, top: np.ndarray | None = None,
              pull: str = "value"):
    """Targetprop INFERENCE (Algorithm 2, extended to L hidden layers).

    h_l ← f_l(h_{l−1}) (h_0 = x), then ``n_steps`` iterations, top layer first; with two
    hidden layers::

        h2 ← h2 + δ (f2(h1) − f2(g2(h2)))
        h1 ← h1 + δ (f1(x) − f1(g1(h1))) + α (g2(h2) − h1)

    Parameters
    ----------
    x
        Visible batch, shape (batch, n_visible), values in [0, 1].
    trace
        Also return the list of (h1, ..., hL) after every step (index 0: the start).
    prior_alpha
        Weight β of the top prior's gradient (μ − h_L)/σ² in the h_L update (0: as
        published), taken as an implicit step (see :func:`_settle`).
    cap
        Bound on every hidden value (None: none): the feed-forward pass and each step are
        clipped at it from above, as a spiking unit's value stops at its top rate
        (:attr:`stdpsim.spiking.SpikingParameters.top_value`).
    top
        h_L clamped at these values, shape (batch, n_L) (None: free): the layers below
        settle towards it through the decoders, h_L itself does not move (a label layer
        clamped to the label, :mod:`stdpsim.classifiers.targetprop`).

    Returns
    -------
    h1, ..., hL (, states)
        Shapes (batch, n_l); with ``trace`` the list of states follows.
    """
    fx = model.f1(x)  # the bottom-up drive, unclipped
    hs = _pass_up(model, fx, cap)
    if top is not None:
        top = np.asarray(top, dtype=np.float32)
        if top.shape != hs[-1].shape:
            raise ValueError(f"the clamped top layer has shape {top.shape}, expected "
                             f"{hs[-1].shape}")
        hs[-1] = top
    states = [tuple(hs)] if trace else None

    def bottom_drive(h1: np.ndarray) -> np.ndarray:
        recon = model.f1(model.g1(h1))
        return np.subtract(fx, recon, out=recon)  # f1(x) − f1(g1(h1)), in a fresh array

    hs = _settle(model, hs, bottom_drive, n_steps, delta, alpha, prior_alpha, states, cap,
                 clamp_top=top is not None, pull=pull)
    return (*hs, states) if trace else tuple(hs)


def log_joint_terms(model: RateModel, x: np.ndarray, *hs: np.ndarray
                    ) -> tuple[np.ndarray, ...]:
    """The terms of log p(x, h1, ..., hL): log p(x|h1), log p(h1|h2), ..., log p(hL).

    Unit-variance Gaussians centred on g_l(h_l), and the Gaussian prior on h_L.  Each has
    shape (batch,), in nats.
    """
    half_log_2pi = 0.5 * np.log(2 * np.pi)
    below = (x,) + hs[:-1]
    terms = []
    for l, (lower, upper) in enumerate(zip(below, hs), start=1):
        err = lower - model.layer(f"g{l}", upper)
        terms.append(-0.5 * np.sum(err * err, axis=1) - lower.shape[1] * half_log_2pi)
    z = (hs[-1] - model.prior_mean) ** 2 / model.prior_var
    terms.append(-0.5 * np.sum(z + np.log(2 * np.pi * model.prior_var), axis=1))
    return tuple(terms)


def log_joint(model: RateModel, x: np.ndarray, *hs: np.ndarray) -> np.ndarray:
    """log p(x, h1, ..., hL) with unit-variance Gaussian conditionals and the Gaussian prior.

    Returns shape (batch,), in nats.
    """
    return np.sum(log_joint_terms(model, x, *hs), axis=0)


def inference_log_joint(model: RateModel, x: np.ndarray, n_steps: int = 20,
                        delta: float = 0.1, alpha: float = 0.001, block: int = 1000,
                        prior_alpha: float = 0.0) -> np.ndarray:
    """log p(x, h) after every INFERENCE iteration (the paper's Figure 4).

    Returns
    -------
    numpy.ndarray
        Shape (n_steps + 1, batch), nats; row 0 is the feed-forward start.
    """
    out = np.empty((n_steps + 1, x.shape[0]))
    for start in range(0, x.shape[0], block):
        xb = x[start:start + block]
        *_, states = inference(model, xb, n_steps, delta, alpha, trace=True,
                               prior_alpha=prior_alpha)
        for i, hs in enumerate(states):
            out[i, start:start + block] = log_joint(model, xb, *hs)
    return out


DEFAULT_PRIOR_VAR_SCALE = 16.0
"""Prior width: draws at 4 × the empirical standard deviation of the inferred top layer, as in
the authors' script (the paper's text says 4 × the variance)."""
LEGACY_PRIOR_VAR_SCALE = 4.0
"""The factor of model files that do not record theirs (written before it was a setting)."""


def fit_prior(model: RateModel, top: np.ndarray,
              var_scale: float = DEFAULT_PRIOR_VAR_SCALE) -> None:
    """Set the prior on h_L to the empirical mean and ``var_scale`` × the empirical variance
    of ``top`` (batch, n_L), and record ``var_scale`` in ``model.meta``."""
    if not var_scale > 0:
        raise ValueError(f"the prior's variance scale must be positive, got {var_scale}")
    model.prior_mean = top.mean(axis=0).astype(np.float32)
    model.prior_var = (var_scale * top.var(axis=0) + 1e-6).astype(np.float32)
    model.meta = dict(model.meta, prior_var_scale=float(var_scale))


def prior_var_scale(model: RateModel) -> float:
    """The factor between the prior's variance and the empirical one."""
    return float(model.meta.get("prior_var_scale", LEGACY_PRIOR_VAR_SCALE))


def with_prior_scale(model: RateModel, var_scale: float) -> RateModel:
    """A copy of ``model`` (sharing the weights) whose prior is ``var_scale`` × the empirical
    variance instead of its own factor."""
    if not var_scale > 0:
        raise ValueError(f"the prior's variance scale must be positive, got {var_scale}")
    empirical = (model.prior_var - 1e-6) / prior_var_scale(model)
    return dataclasses.replace(
        model, prior_var=(var_scale * empirical + 1e-6).astype(np.float32),
        meta=dict(model.meta, prior_var_scale=float(var_scale)))


def sample_prior(model: RateModel, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of h_L from the Gaussian prior, shape (n, n_L)."""
    z = rng.standard_normal((n, model.prior_mean.size)).astype(np.float32)
    return model.prior_mean + z * np.sqrt(model.prior_var)


def ancestral_sample(model: RateModel, n: int, rng: np.random.Generator) -> np.ndarray:
    """x = g1(g2(...g_L(h_L))), h_L from the prior: the means of p(x|h)p(h), shape
    (n, n_visible)."""
    return model.decode(sample_prior(model, n, rng))[0]


def generate(model: RateModel, n: int, rng: np.random.Generator, n_rounds: int = 3,
             alpha: float = 0.3, n_steps: int = 15, delta: float = 0.1) -> np.ndarray:
    """GENERATE (Algorithm 2): h_L ~ prior; decode to x; then ``n_rounds`` times
    h ← INFERENCE(x, α) (which starts from the feed-forward pass) and x ← g1(h1).

    Returns
    -------
    numpy.ndarray
        Shape (n, n_visible), pixel intensities in [0, 1].
    """
    x = ancestral_sample(model, n, rng)
    for _ in range(n_rounds):
        h1 = inference(model, x, n_steps=n_steps, delta=delta, alpha=alpha)[0]
        x = model.g1(h1)
    return x


def inpaint(model: RateModel, x: np.ndarray, missing: np.ndarray, fill: np.ndarray,
            n_steps: int = 20, delta: float = 0.1, alpha: float = 0.001,
            n_rounds: int = 1) -> np.ndarray:
    """Fill the ``missing`` pixels of ``x`` by INFERENCE with the visible pixels clamped.

    The paper's variant for clamped pixels: the bottom-up drive of h1 is
    f1(x^v, g1(h1)^m) − f1(g1(h1)), i.e. visible pixels come from the data and missing ones
    from the model's own reconstruction.  The missing pixels start at ``fill`` (e.g. the
    mean training image), so what the procedure adds is measured against that start.
    With ``n_rounds`` > 1 the whole procedure starts again from the feed-forward pass of the
    last round's filled image (as GENERATE's rounds do).

    Parameters
    ----------
    x
        Images, shape (batch, n_visible), in [0, 1]; values at missing pixels are ignored.
    missing
        Boolean mask, shape (batch, n_visible) or (n_visible,): True where the pixel is
        unknown.
    fill
        Starting values of the missing pixels, broadcastable to ``x`` (e.g. shape (784,)).

    Returns
    -------
    numpy.ndarray
        The images with missing pixels replaced by g1(h1), shape (batch, n_visible).
    """
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be at least 1, got {n_rounds}")
    missing = np.broadcast_to(np.asarray(missing, dtype=bool), x.shape)
    current = np.where(missing, fill, x).astype(np.float32)
    visible = current
    for _ in range(n_rounds):
        hs = feed_forward(model, current)

        def bottom_drive(h1: np.ndarray) -> np.ndarray:
            recon = model.g1(h1)
            return model.f1(np.where(missing, recon, visible)) - model.f1(recon)

        hs = _settle(model, hs, bottom_drive, n_steps, delta, alpha, 0.0, None)
        current = np.where(missing, model.g1(hs[0]), visible)
    return current
