"""Optimisers for dicts of float32 arrays, updated in place in preallocated buffers: Adam and
the authors' centred RMSprop with momentum.  Used by the rate model's layer-local training and,
element-wise per synapse, by the consolidation of synaptic tags
(:mod:`stdpsim.consolidation`)."""

from __future__ import annotations

import numpy as np

from . import threads


class Adam:
    """Adam (Kingma & Ba) for a dict of float32 arrays, updated in place.

    Works in preallocated buffers (no temporaries of the parameters' size per step): on the
    2.8 M parameters of the MNIST model the optimiser is a noticeable part of an epoch.
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
                 decay_keys: tuple[str, ...] = ("W",)) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.weight_decay, self.decay_keys = weight_decay, decay_keys
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self._tmp = {k: np.empty_like(v) for k, v in params.items()}
        self.t = 0

    def buffers(self) -> dict[str, np.ndarray]:
        """The optimiser's state arrays by name (for checkpoints; restore in place)."""
        return {**{f"{k}.m": a for k, a in self.m.items()},
                **{f"{k}.v": a for k, a in self.v.items()}}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        for k, g in grads.items():
            m, v, tmp = self.m[k], self.v[k], self._tmp[k]
            dt = m.dtype.type
            m *= dt(self.beta1)
            np.multiply(g, dt(1.0 - self.beta1), out=tmp)
            m += tmp
            v *= dt(self.beta2)
            np.multiply(g, g, out=tmp)
            tmp *= dt(1.0 - self.beta2)
            v += tmp
            # p -= lr/c1 · m / (sqrt(v/c2) + eps)
            np.sqrt(v, out=tmp)
            tmp *= dt(1.0 / np.sqrt(c2))
            tmp += dt(self.eps)
            np.divide(m, tmp, out=tmp)
            tmp *= dt(self.lr / c1)
            if self.weight_decay and k in self.decay_keys:
                params[k] *= dt(1.0 - self.lr * self.weight_decay)
            params[k] -= tmp


class CentredRMSprop:
    """Centred RMSprop with momentum (Graves 2013), as in the authors' training script::

        n ← ρ n + (1 − ρ) g²          ḡ ← ρ ḡ + (1 − ρ) g
        v ← μ v − lr · g / √(n − ḡ² + ε)
        p ← p + v

    for a dict of float32 arrays, updated in place in preallocated buffers.
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float, momentum: float = 0.9,
                 decay: float = 0.95, eps: float = 1e-4, weight_decay: float = 0.0,
                 decay_keys: tuple[str, ...] = ("W",)) -> None:
        self.lr, self.momentum, self.decay, self.eps = lr, momentum, decay, eps
        self.weight_decay, self.decay_keys = weight_decay, decay_keys
        self.mean_sq = {k: np.zeros_like(v) for k, v in params.items()}
        self.mean_g = {k: np.zeros_like(v) for k, v in params.items()}
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}
        self._tmp = {k: np.empty_like(v) for k, v in params.items()}
        self.t = 0

    def buffers(self) -> dict[str, np.ndarray]:
        """The optimiser's state arrays by name (for checkpoints; restore in place)."""
        return {**{f"{k}.mean_sq": a for k, a in self.mean_sq.items()},
                **{f"{k}.mean_g": a for k, a in self.mean_g.items()},
                **{f"{k}.velocity": a for k, a in self.velocity.items()}}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, g in grads.items():
            dt = self.mean_sq[k].dtype.type
            rho, lr = dt(self.decay), dt(self.lr)
            one_minus_rho, momentum, eps = dt(1.0 - self.decay), dt(self.momentum), dt(self.eps)
            shrink = (dt(1.0 - self.lr * self.weight_decay)
                      if self.weight_decay and k in self.decay_keys else None)

            def update(p: np.ndarray, g: np.ndarray, n: np.ndarray, gbar: np.ndarray,
                       vel: np.ndarray, tmp: np.ndarray) -> None:
                n *= rho
                np.multiply(g, g, out=tmp)
                tmp *= one_minus_rho
                n += tmp
                gbar *= rho
                np.multiply(g, one_minus_rho, out=tmp)
                gbar += tmp
                np.multiply(gbar, gbar, out=tmp)   # tmp = √(n − ḡ² + ε)
                np.subtract(n, tmp, out=tmp)
                tmp += eps
                np.sqrt(tmp, out=tmp)
                np.divide(g, tmp, out=tmp)
                tmp *= lr
                vel *= momentum
                vel -= tmp
                if shrink is not None:
                    p *= shrink
                p += vel

            # element-wise over the weight matrix: split over the cores
            threads.over_rows(update, params[k], g, self.mean_sq[k], self.mean_g[k],
                              self.velocity[k], self._tmp[k])
