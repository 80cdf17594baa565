"""Synaptic tags and their consolidation, shared by the spiking learner and its rate twin.

A plastic synapse does not change its weight at each presynaptic spike: it adds the S·dV/dt
change to a **tag** (:func:`stdpsim.plasticity.sdvdt_learning_line` writing ``tag``).  After a
minibatch of B examples each synapse **consolidates**: its weight moves by a function of its
own tag T (and of its own past), and the tag is cleared.  Biologically this is synaptic
tagging and capture: a tag set by activity is converted into a lasting change when
plasticity-related proteins arrive later (Frey & Morris 1997; Redondo & Morris 2011).

How a tag becomes a weight change (``optimizer``):

``sgd``
    w ← w + ε·T: the tag as it is.  With B = 1 this is the spiking learner's first design, a
    weight change at every presynaptic spike.
``rmsprop`` (the authors' centred RMSprop with momentum) or ``adam``
    the optimiser's step on g = −2T/B.  Each synapse scales its change by the running mean
    and variance of its own past tags: metaplasticity (Abraham & Bear 1996), or a synapse
    that tracks its own uncertainty (Aitchison et al. 2021).  When T = Σ_b u_b ⊗ (t_b −
    y_b)·act′(a_b) (presynaptic value u, target t, prediction y = act(a)), g is exactly the
    gradient of the rate model's local loss ‖y − t‖² averaged over the minibatch
    (:func:`stdpsim.rate_training.layer_gradients`).

Everything here is element-wise: a synapse's new weight depends only on its own weight, tag
and optimiser state, never on another synapse.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizers import Adam, CentredRMSprop

OPTIMIZERS = ("rmsprop", "adam", "sgd")
"""Consolidation rules (see the module docstring)."""

Tags = dict[str, tuple[np.ndarray, np.ndarray]]
"""Per layer (``"f1"``, ``"g2"``…): the tags of its weights (n_in, n_out) and of its biases
(n_out,), summed over the minibatch, in units of the rate twin's ΔW/ε
(:func:`stdpsim.plasticity.sdvdt_updates`)."""


class SGD:
    """w ← w + lr·T (the tag as it is); no state."""

    def __init__(self, lr: float) -> None:
        self.lr, self.t = lr, 0

    def buffers(self) -> dict[str, np.ndarray]:
        return {}

    def add(self, params: dict[str, np.ndarray], tags: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, tag in tags.items():
            params[k] += np.float32(self.lr) * tag.astype(np.float32)


class Consolidation:
    """The consolidation of every layer of a model: one rule (``optimizer``) with per-layer
    learning rates ``lrs`` (ε of the rule; the optimiser's learning rate).

    ``opts`` maps a layer to its state (its ``buffers()`` and step count ``t`` go into
    checkpoints, as the rate model's optimisers do).
    """

    def __init__(self, model: Any, optimizer: str, lrs: dict[str, float], *,
                 momentum: float = 0.9, decay: float = 0.95, eps: float = 1e-4) -> None:
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        self.model, self.optimizer = model, optimizer
        self.opts: dict[str, Any] = {}
        for name in model.weights:
            params = self._params(name)
            if optimizer == "sgd":
                self.opts[name] = SGD(lrs[name])
            elif optimizer == "adam":
                self.opts[name] = Adam(params, lrs[name])
            else:
                self.opts[name] = CentredRMSprop(params, lrs[name], momentum=momentum,
                                                 decay=decay, eps=eps)

    def _params(self, name: str) -> dict[str, np.ndarray]:
        return {"W": self.model.weights[name], "b": self.model.biases[name]}

    def set_rates(self, lrs: dict[str, float]) -> None:
        """New learning rates (a schedule), the state kept."""
        for name, lr in lrs.items():
            self.opts[name].lr = lr

    def __call__(self, tags: Tags, n_examples: int) -> None:
        """Consolidate the tags of ``n_examples`` examples into the model's weights and
        biases, in place."""
        if n_examples < 1:
            raise ValueError(f"n_examples must be at least 1, got {n_examples}")
        scale = np.float32(-2.0 / n_examples)
        for name, (tag_w, tag_b) in tags.items():
            opt = self.opts[name]
            if isinstance(opt, SGD):
                opt.add(self._params(name), {"W": tag_w, "b": tag_b})
            else:
                opt.step(self._params(name), {"W": scale * tag_w.astype(np.float32),
                                              "b": scale * tag_b.astype(np.float32)})
