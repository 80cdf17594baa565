"""The rate model's training settings: :class:`TrainConfig` and its named presets.

One frozen dataclass holds every hyper-parameter of Algorithm 2's training and of the
spiking learner's rate twin (``rule="sdvdt"``), checked when it is made; the presets
(:data:`PRESETS`) name the configurations that trained shipped models.  The training itself
is :mod:`stdpsim.rate_training`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import errors, training
from .consolidation import OPTIMIZERS
from .corruption import Corruption
from .rate_model import stack_layers
from .training import cosine_scale

LOSSES = ("through", "delta")
RULES = ("local", "sdvdt")
"""``local``: Algorithm 2's layer-local losses with corruption and an optimiser; ``sdvdt``: the
rate twin of the spiking S·dV/dt learner (:func:`stdpsim.plasticity.sdvdt_updates`: tags
consolidated per minibatch, :mod:`stdpsim.consolidation`)."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters; the defaults are the authors' (preset ``authors``).

    Attributes
    ----------
    sizes
        Layer widths (n_visible, n_1, ..., n_L); L ≥ 2 hidden layers.
    decoder_hidden
        Activation of the decoders into hidden layers (g2, ...): ``softplus`` or ``linear``.
    rule
        ``local`` (Algorithm 2: local losses, corruption, ``optimizer``) or ``sdvdt`` (the
        rate twin of the spiking learner, :func:`stdpsim.plasticity.sdvdt_updates`: each
        minibatch's tags consolidated by ``optimizer``, :mod:`stdpsim.consolidation`; the
        gain factor with ``loss="through"``; the corruption levels below for its
        predictions).
    loss
        ``through`` (gradient through the nonlinearity; for ``sdvdt`` the gain factor act′)
        or ``delta`` (delta rule; for ``sdvdt`` no gain factor).
    optimizer
        ``rmsprop`` (centred, with momentum) or ``adam``; for ``sdvdt`` also ``sgd``, the
        tags added as they are (w ← w + lr·T).
    lr_encoders, lr_decoders
        Learning rate of the f layers and of the g layers.
    lr_final
        Cosine learning-rate schedule: every layer's rate falls from its rate at the first
        epoch to ``lr_final`` × that rate at the last (1.0: constant).
    momentum, rms_decay, rms_eps
        Centred RMSprop: velocity decay, decay of the running means of g and g², and the
        constant added under the square root of (mean of g² − (mean of g)²).
    weight_decay
        Decoupled weight decay: each step multiplies weights (not biases) by
        1 − lr·weight_decay.
    noise_x, noise_h, noise_g
        Gaussian corruption s.d. of f1's input x (pixels in [0, 1]), of the inputs of f2..fL,
        and of the inputs of the decoders below the top (g1..g_{L−1}).
    n_spikes
        Bernoulli draws averaged for the spike-like corruption of the top decoder's input
        (0: none; only for ``sdvdt``, see :class:`stdpsim.corruption.Corruption`).
    init, init_gain
        Initial weights, ``orthogonal`` or ``gaussian`` (N(0, 1/n_in)), times a per-layer gain
        (layers not named: 1).  Biases start at 0.
    n_steps, delta, alpha
        INFERENCE parameters used during training.
    prior_var_scale
        The prior on h_L has ``prior_var_scale`` × the empirical variance of the inferred h_L.
    batch_size, epochs, seed
        Minibatch size, passes over the training set, random seed.
    propagate, h_cap
        Only for ``sdvdt``, the spiking network's own ways the twin may follow
        (:func:`stdpsim.plasticity.sdvdt_updates`): x's corruption reaches the upper encoders
        through the layers below (``propagate``, needs corruption), and hidden values stop at
        ``h_cap``, the spiking units' top value (None: unbounded).
    valid_every, valid_samples
        Every ``valid_every`` epochs (and after the last) GENERATE ``valid_samples`` samples
        and score the validation images' Parzen log-likelihood (σ chosen on training images);
        the best-scoring epoch is the model that :func:`train` leaves behind.  0: keep the
        last epoch, no scoring.
    """

    sizes: tuple[int, ...] = (784, 1000, 100)
    decoder_hidden: str = "softplus"
    rule: str = "local"
    loss: str = "through"
    optimizer: str = "rmsprop"
    lr_encoders: float = 1e-5
    lr_decoders: float = 1e-5
    lr_final: float = 1.0
    momentum: float = 0.9
    rms_decay: float = 0.95
    rms_eps: float = 1e-4
    weight_decay: float = 0.0
    noise_x: float = 0.5
    noise_h: float = 0.5
    noise_g: float = 0.3
    n_spikes: int = 3
    init: str = "orthogonal"
    init_gain: dict[str, float] = dataclasses.field(default_factory=dict)
    n_steps: int = 15
    delta: float = 0.1
    alpha: float = 0.001
    prior_var_scale: float = 16.0
    batch_size: int = 100
    epochs: int = 50
    seed: int = 0
    valid_every: int = 5
    valid_samples: int = 5000
    propagate: bool = False
    h_cap: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        checks = [
            (len(self.sizes) >= 3 and min(self.sizes) >= 1,
             f"sizes need a visible and at least two hidden layers, got {self.sizes}"),
            (self.decoder_hidden in ("softplus", "linear", "sigmoid"),
             f"unknown decoder activation {self.decoder_hidden!r}"),
            (self.rule in RULES, f"rule must be one of {RULES}, got {self.rule!r}"),
            (self.loss in LOSSES, f"loss must be one of {LOSSES}, got {self.loss!r}"),
            (self.optimizer in OPTIMIZERS,
             f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"),
            (self.lr_encoders > 0 and self.lr_decoders > 0, "learning rates must be positive"),
            (0 < self.lr_final <= 1, f"lr_final must be in (0, 1], got {self.lr_final}"),
            (min(self.noise_x, self.noise_h, self.noise_g, self.weight_decay) >= 0,
             "noise levels and weight decay must be non-negative"),
            (self.n_spikes >= 1 or (self.rule == "sdvdt" and self.n_spikes == 0),
             f"n_spikes must be at least 1 (0 only with rule sdvdt), got {self.n_spikes}"),
            (self.optimizer != "sgd" or self.rule == "sdvdt",
             "optimizer sgd adds the tags of rule sdvdt; rule local takes rmsprop or adam"),
            (self.prior_var_scale > 0,
             f"prior_var_scale must be positive, got {self.prior_var_scale}"),
            (self.epochs >= 1 and self.batch_size >= 1, "epochs and batch_size must be >= 1"),
            (self.valid_every >= 0 and self.valid_samples >= 2,
             "valid_every must be >= 0 and valid_samples >= 2"),
            (self.rule == "sdvdt" or not (self.propagate or self.h_cap is not None),
             "propagate and h_cap are the rate twin's (rule sdvdt)"),
            (not self.propagate or not self.corruption.clean,
             "propagate carries x's corruption upwards: it needs a corruption level above 0"),
            (self.h_cap is None or self.h_cap > 0,
             f"h_cap must be positive (None: unbounded), got {self.h_cap}"),
        ]
        errors.require(checks)

    def settings(self) -> dict[str, Any]:
        """The settings as a dict for files and cache keys; fields added after the first
        files were written are left out at their defaults (:data:`ADDED_FIELDS`), so those
        files still match."""
        out = dataclasses.asdict(self)
        return {k: v for k, v in out.items()
                if k not in ADDED_FIELDS or v != ADDED_FIELDS[k]}

    @property
    def layers(self) -> dict[str, tuple[int, int, str]]:
        """The architecture these settings train."""
        return stack_layers(self.sizes, self.decoder_hidden)

    def lr(self, name: str) -> float:
        """Learning rate of layer ``name`` at the first epoch."""
        return self.lr_encoders if name.startswith("f") else self.lr_decoders

    def lr_at(self, name: str, epoch: int) -> float:
        """Learning rate of layer ``name`` in epoch ``epoch`` (0-based) of the cosine
        schedule, from :meth:`lr` at the first epoch to ``lr_final`` × it at the last."""
        return self.lr(name) * cosine_scale(epoch, self.epochs, self.lr_final)

    @property
    def corruption(self) -> Corruption:
        """The corruption levels of these settings."""
        return Corruption(self.noise_x, self.noise_h, self.noise_g, self.n_spikes)

    def validation(self) -> training.Validation:
        """How this run's validation scores are taken (its samples, seed, INFERENCE and
        prior settings)."""
        return training.Validation(self.valid_samples, self.seed, self.n_steps, self.delta,
                                   self.alpha, self.prior_var_scale)


ADDED_FIELDS = {"propagate": False, "h_cap": None}
"""Fields of :class:`TrainConfig` added after files of its settings existed, with the
defaults that leave the training as it was."""

SHIPPED_LR = 2.5e-5
"""The learning rate the shipped rate model (``models/rate_mnist.npz``) was trained with: the
``authors`` preset's 1e-5 scaled to the updates per epoch of 20,000 training images.  It is
also the spiking learner's default ε with an adaptive optimiser."""


FIRST_TWIN = {"optimizer": "sgd", "loss": "delta", "noise_x": 0.0, "noise_h": 0.0,
              "noise_g": 0.0, "n_spikes": 0}
"""The settings that make ``rule="sdvdt"`` the twin of the spiking learner's first design:
no gain factor, no corruption, the tags added as they are (with ``batch_size=1``, after
every example)."""


PRESETS: dict[str, TrainConfig] = {
    "authors": TrainConfig(),
    "adam-v1": TrainConfig(decoder_hidden="linear", loss="delta", optimizer="adam",
                           lr_encoders=1e-4, lr_decoders=1e-3, lr_final=0.05,
                           noise_x=0.05, noise_h=0.05, noise_g=0.05, init="gaussian",
                           prior_var_scale=4.0, epochs=20, valid_every=0),
}
"""Named training configurations: ``authors`` (the default: the authors' published script)
and ``adam-v1`` (this project's first shipped model: Adam at 1e-4 / 1e-3 with a cosine
schedule to 5 %, corruption 0.05, delta-rule loss, linear g2, Gaussian initialisation,
prior at 4 × the variance, 20 epochs)."""
