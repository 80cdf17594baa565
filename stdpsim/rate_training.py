"""Layer-local training of the rate model (Bengio et al. 2015, Algorithm 2, TRAIN).

Per minibatch: h1, ..., hL ← INFERENCE(x); then every layer takes one step on its own target
loss with a corrupted input and no gradient crossing layers (h_0 = x):

==============  ===============================  ===========  ==============================
layer           input                            target       corruption (authors' preset)
==============  ===============================  ===========  ==============================
``f1``          x + N(0, σ_x²)                   h1           Gaussian, σ_x = 0.5
``f_l``, l ≥ 2  h_{l−1} + N(0, σ_h²)             h_l          Gaussian, σ_h = 0.5
``g_L``         mean of ``n_spikes`` Bern(h_L)   h_{L−1}      "spike-like", 3 draws
``g_l``, l < L  h_l + N(0, σ_g²)                 h_{l−1}      Gaussian, σ_g = 0.3
==============  ===============================  ===========  ==============================

Each layer y = act(u W + b) with target t minimises ‖y − t‖² summed over units and averaged
over the minibatch.  ``loss="through"`` (the authors') takes its gradient through the
nonlinearity, 2 (y − t)·act′(a)·u; ``loss="delta"`` (this project's first model) uses the
delta rule (y − t)·u for sigmoid and linear layers and (y − t)·σ(a)·u for softplus.

Two presets (:data:`PRESETS`): ``authors``, the settings of the training script the authors
published with the paper (centred RMSprop, orthogonal initialisation, the noise levels above,
prior at 16 × the variance), which is the default; and ``adam-v1``, the configuration of this
project's first shipped model, kept for comparison.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import errors, training
from .activations import sigmoid, softplus
from .consolidation import Consolidation
from .corruption import Corruption, corrupt
from .optimizers import Adam, CentredRMSprop
from .plasticity import sdvdt_updates
from .progress import interactive
from .model_files import save_model
from .rate_model import RateModel, feed_forward, fit_prior, inference, init_model, stack_layers
from .runs import write_json
from .training import (cosine_scale, data_digest, optimizer_arrays, read_checkpoint,
                       restore_optimizers, restore_weights, validation_parzen, weight_arrays,
                       write_checkpoint)

OPTIMIZERS = ("rmsprop", "adam", "sgd")
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


def local_problems(model: RateModel, x: np.ndarray, rng: np.random.Generator,
                   cfg: TrainConfig, top: np.ndarray | None = None, pull: str = "value",
                   predict_from: str = "inferred"
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Run INFERENCE on ``x`` (``top``: with the top layer clamped at it, shape
    (batch, n_L); ``pull``: :func:`stdpsim.rate_model.inference`'s) and draw the
    corruptions (:func:`stdpsim.corruption.corrupt`): layer -> (input, target).

    Every target is an inferred state.  ``predict_from`` says what the encoders' inputs are
    corrupted from: ``inferred`` (Algorithm 2: f_l predicts from the inferred h_{l−1}) or
    ``feed_forward`` (from the bottom-up pass f_{l−1}(…f1(x)), the value a layer has before
    anything from above reaches it; with a clamped top the inferred h_{L} already carries the
    label, so the label layer's encoder would learn to read it back).
    """
    if predict_from not in PREDICT_FROM:
        raise ValueError(f"predict_from must be one of {PREDICT_FROM}, got {predict_from!r}")
    hs = (x,) + tuple(inference(model, x, cfg.n_steps, cfg.delta, cfg.alpha, top=top,
                                pull=pull))
    inputs = hs if predict_from == "inferred" else (x,) + tuple(feed_forward(model, x))
    depth = len(hs) - 1
    enc, dec = corrupt(inputs[:-1], hs[1:], rng, cfg.corruption)
    problems = {f"f{l}": (enc[l - 1], hs[l]) for l in range(1, depth + 1)}
    problems.update({f"g{l}": (dec[l - 1], hs[l - 1]) for l in range(depth, 0, -1)})
    return problems


PREDICT_FROM = ("inferred", "feed_forward")
"""What an encoder's prediction is made from in :func:`local_problems`."""


def local_losses(model: RateModel, problems: dict[str, tuple[np.ndarray, np.ndarray]]
                 ) -> dict[str, float]:
    """Mean over the batch of ‖layer(input) − target‖² for each layer."""
    return {name: float(np.mean(np.sum((model.layer(name, u) - t) ** 2, axis=1)))
            for name, (u, t) in problems.items()}


def layer_gradients(model: RateModel, name: str, u: np.ndarray, t: np.ndarray,
                    loss: str = "through") -> tuple[np.ndarray, np.ndarray, float]:
    """(dW, db, loss) of the local step for layer ``name`` on input ``u`` and target ``t``;
    ``loss`` is the layer's local loss before the step (as in :func:`local_losses`).

    ``loss="through"``: the exact gradient of mean_batch Σ_units (y − t)², i.e. the error
    2 (y − t)·act′(a) at the pre-activation a; ``loss="delta"``: the error (y − t), times
    σ(a) for softplus layers (the delta rule of this project's first model).
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    a = u @ model.weights[name]
    a += model.biases[name]
    act = model.activations[name]
    y = {"softplus": softplus, "sigmoid": sigmoid}.get(act, lambda z: z)(a)
    diff = y - t
    n = np.float32(u.shape[0])
    value = float(np.mean(np.sum(diff * diff, axis=1)))
    # the error at the pre-activation; a is no longer needed, so σ(a) is formed in it
    if loss == "through":
        err = diff * np.float32(2)
        if act == "softplus":
            err *= sigmoid(a, inplace=True)                        # act′ = σ(a)
        elif act == "sigmoid":
            slope = np.subtract(np.float32(1), y)
            slope *= y                                             # act′ = y (1 − y)
            err *= slope
    else:
        err = diff * sigmoid(a, inplace=True) if act == "softplus" else diff
    grad_w = u.T @ err
    grad_w /= n  # in place: no second weight-sized array per layer and step
    return grad_w, err.sum(axis=0) / n, value


def training_flops_per_example(model: RateModel, n_steps: int) -> int:
    """Floating-point operations of the matrix products of one training example.

    Counts 2 × n_in × n_out per layer application: the feed-forward pass f1..fL and the
    first g2..gL; per INFERENCE step every f_l with l ≥ 2 twice (on h_{l−1} and on
    g_l(h_l)), g2..gL once, and f1(g1(h1)); then each layer's forward pass and weight
    gradient.  Element-wise work is not counted (it is the overhead the benchmark measures
    against this floor).
    """
    mac = {name: W.shape[0] * W.shape[1] for name, W in model.weights.items()}
    upper = [name for name in mac if name not in ("f1", "g1")]
    start = mac["f1"] + sum(mac[n] for n in upper)
    step = sum(mac[n] * (2 if n.startswith("f") else 1) for n in upper) \
        + mac["g1"] + mac["f1"]
    learn = 2 * sum(mac.values())
    return 2 * (start + n_steps * step + learn)


def make_optimizer(params: dict[str, np.ndarray], lr: float, cfg: TrainConfig):
    """The optimiser ``cfg.optimizer`` names, for one layer's parameters."""
    if cfg.optimizer == "adam":
        return Adam(params, lr, weight_decay=cfg.weight_decay)
    return CentredRMSprop(params, lr, momentum=cfg.momentum, decay=cfg.rms_decay,
                          eps=cfg.rms_eps, weight_decay=cfg.weight_decay)


class LocalTrainer:
    """One optimiser per layer; :meth:`step` trains on one minibatch."""

    def __init__(self, model: RateModel, cfg: TrainConfig) -> None:
        self.model, self.cfg = model, cfg
        self.opts = {name: make_optimizer({"W": model.weights[name], "b": model.biases[name]},
                                          cfg.lr(name), cfg)
                     for name in model.weights}

    def set_epoch(self, epoch: int) -> None:
        """Learning rates of the cosine schedule for epoch ``epoch`` (0-based)."""
        for name, opt in self.opts.items():
            opt.lr = self.cfg.lr_at(name, epoch)

    def apply(self, problems: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
        """One step of every layer on fixed (input, target) pairs; returns the local losses
        before the step (from the same forward pass as the gradients)."""
        losses = {}
        for name, (u, t) in problems.items():
            gW, gb, losses[name] = layer_gradients(self.model, name, u, t, self.cfg.loss)
            params = {"W": self.model.weights[name], "b": self.model.biases[name]}
            self.opts[name].step(params, {"W": gW, "b": gb})
        return losses

    def step(self, x: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """INFERENCE, corruption, one local step per layer; returns the losses before it."""
        return self.apply(local_problems(self.model, x, rng, self.cfg))


# ------------------------------------------------------------------ the S·dV/dt rate twin


class SdvdtTwinTrainer:
    """The rate twin as a trainer (``rule="sdvdt"``): per minibatch the tags of
    :func:`stdpsim.plasticity.sdvdt_updates` (gain factor with ``loss="through"``, the
    predictions corrupted at ``cfg``'s levels unless they are all 0), consolidated by
    ``cfg.optimizer`` (:class:`stdpsim.consolidation.Consolidation`).

    The corruption follows the spiking learner: f1's (``noise_x``) stands for the visible
    units' corruption events, which its presynaptic factor carries too (:data:`NOISY_PRE`);
    the other levels stand for the spikes' own noise in the predictions, whose presynaptic
    factors stay clean."""

    def __init__(self, model: RateModel, cfg: TrainConfig) -> None:
        self.model, self.cfg = model, cfg
        self.consolidation = Consolidation(
            model, cfg.optimizer, {name: cfg.lr(name) for name in model.weights},
            momentum=cfg.momentum, decay=cfg.rms_decay, eps=cfg.rms_eps)
        self.opts = self.consolidation.opts  # their state goes into checkpoints

    def set_epoch(self, epoch: int) -> None:
        """Learning rates of the cosine schedule for epoch ``epoch`` (0-based)."""
        self.consolidation.set_rates({name: self.cfg.lr_at(name, epoch)
                                      for name in self.model.weights})

    def step(self, x: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """One minibatch; returns the prediction errors before the update."""
        levels = self.cfg.corruption
        tags, prediction_errors = sdvdt_updates(
            self.model, x, self.cfg.n_steps, self.cfg.delta, self.cfg.alpha,
            gain_factor=self.cfg.loss == "through",
            corruption=None if levels.clean else levels, rng=rng, noisy_pre=NOISY_PRE,
            propagate=self.cfg.propagate, cap=self.cfg.h_cap)
        self.consolidation(tags, x.shape[0])
        return prediction_errors


NOISY_PRE = ("f1",)
"""The twin's layers whose presynaptic factor is the corrupted input (the spiking learner's
corruption events reach f1 only; with noisy presynaptic factors in the decoders too, the twin
scored lower in a 3-epoch probe, docs/spiking_learning.md)."""


def make_trainer(model: RateModel, cfg: TrainConfig) -> LocalTrainer | SdvdtTwinTrainer:
    """The trainer for ``cfg.rule``."""
    return SdvdtTwinTrainer(model, cfg) if cfg.rule == "sdvdt" else LocalTrainer(model, cfg)


# ------------------------------------------------------------------------ validation


# ------------------------------------------------------------------------ epochs, checkpoints


def save_checkpoint(path: str | os.PathLike, trainer: LocalTrainer, epoch: int,
                    rng: np.random.Generator, history: list[dict[str, float]],
                    best: dict | None = None, data_sha256: str | None = None) -> Path:
    """Model, optimiser state, finished epochs, RNG state, loss history, the best epoch's
    weights so far, the settings and the training data's checksum
    (:func:`stdpsim.training.write_checkpoint`)."""
    model = trainer.model
    state = {"epoch": epoch, "rng": rng.bit_generator.state, "history": history,
             "config": trainer.cfg.settings(), "meta": model.meta,
             "data_sha256": data_sha256,
             "best": {k: v for k, v in (best or {}).items() if k != "arrays"}}
    best_arrays = {f"best.{k}": a for k, a in (best or {}).get("arrays", {}).items()}
    return write_checkpoint(path, model, state, prior_mean=model.prior_mean,
                            prior_var=model.prior_var, **optimizer_arrays(trainer.opts),
                            **best_arrays)


RATE_STATE = ("epoch", "rng", "history")
"""What the state of a rate training's checkpoint must hold."""


def check_resumable(path: str | os.PathLike, cfg: TrainConfig,
                    data_sha256: str | None = None) -> None:
    """Refuse to resume from a checkpoint that the run ``cfg`` would not have written: the
    rule of :func:`stdpsim.training.check_resumable` (every setting but a constant-rate
    run's ``epochs``, and the data), and no more finished epochs than ``cfg.epochs``."""
    state = read_checkpoint(path, needs=RATE_STATE)[0]
    training.check_resumable(path, state.get("config", {}), cfg.settings(),
                             epochs=("epochs",), constant_rate=cfg.lr_final == 1,
                             saved_sha256=state.get("data_sha256"),
                             data_sha256=data_sha256 or state.get("data_sha256"))
    if int(state["epoch"]) > cfg.epochs:
        raise ValueError(f"--resume: the checkpoint {path} has {state['epoch']} finished "
                         f"epochs, more than --epochs {cfg.epochs}")


def load_checkpoint(path: str | os.PathLike, model: RateModel, cfg: TrainConfig
                    ) -> tuple[LocalTrainer, int, np.random.Generator, list[dict[str, float]],
                               dict]:
    """Restore what :func:`save_checkpoint` wrote into ``model``; returns the trainer, the
    number of finished epochs, the RNG, the history and the best epoch so far."""
    state, data = read_checkpoint(path, needs=RATE_STATE)
    restore_weights(model, data)
    trainer = make_trainer(model, cfg)
    restore_optimizers(trainer.opts, data)
    rng = np.random.default_rng()
    rng.bit_generator.state = state["rng"]
    best = dict(state.get("best") or {})
    if best:
        best["arrays"] = {k[len("best."):]: data[k] for k in data if k.startswith("best.")}
    return trainer, int(state["epoch"]), rng, state["history"], best


def train(model: RateModel, x_train: np.ndarray, cfg: TrainConfig, *,
          x_valid: np.ndarray | None = None, checkpoint: str | os.PathLike | None = None,
          resume: bool = False, progress: bool = True,
          data_sha256: str | None = None) -> list[dict[str, float]]:
    """Train for ``cfg.epochs`` epochs of shuffled minibatches, checkpointing after each.

    With ``resume`` and an existing ``checkpoint`` the run continues where it stopped and
    ends exactly as an uninterrupted run would.  With ``x_valid`` and ``cfg.valid_every``
    the validation Parzen score (:func:`validation_parzen`) is computed every
    ``valid_every`` epochs and after the last, and ``model`` ends with the weights of the
    best-scoring epoch.  ``data_sha256`` is ``x_train``'s :func:`data_digest` when the caller
    has it already (it is stored in the checkpoint and checked on resume).  Returns one dict
    per epoch: mean local losses, validation reconstruction error and score (if computed),
    seconds.
    """
    from tqdm import tqdm

    data_sha = data_sha256 or data_digest(x_train)
    if resume:
        check_resumable(training.checkpoint_to_resume(checkpoint), cfg, data_sha)
        trainer, done, rng, history, best = load_checkpoint(checkpoint, model, cfg)
    else:
        trainer, done, rng, history, best = make_trainer(model, cfg), 0, \
            np.random.default_rng(cfg.seed), [], {}
    n = x_train.shape[0]
    for epoch in range(done, cfg.epochs):
        trainer.set_epoch(epoch)
        t0 = time.perf_counter()
        order = rng.permutation(n)
        sums: dict[str, float] = {}
        batches = range(0, n, cfg.batch_size)
        for start in tqdm(batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                          disable=not (progress and interactive()), leave=False):
            losses = trainer.step(x_train[order[start:start + cfg.batch_size]], rng)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
        record = {f"loss_{k}": v / len(batches) for k, v in sums.items()}
        record["seconds"] = time.perf_counter() - t0
        if x_valid is not None:
            h1 = inference(model, x_valid, cfg.n_steps, cfg.delta, cfg.alpha)[0]
            record["valid_reconstruction"] = float(
                np.mean(np.sum((model.g1(h1) - x_valid) ** 2, axis=1)))
            if cfg.valid_every and ((epoch + 1) % cfg.valid_every == 0
                                    or epoch + 1 == cfg.epochs):
                t1 = time.perf_counter()
                record.update(validation_parzen(model, x_train, x_valid, cfg.validation()))
                record["valid_seconds"] = time.perf_counter() - t1
                if not best or record["valid_parzen"] > best["valid_parzen"]:
                    best = {"epoch": epoch + 1, "valid_parzen": record["valid_parzen"],
                            "arrays": weight_arrays(model)}
        history.append({"epoch": epoch + 1, **record})
        if progress:
            print(f"epoch {epoch + 1}/{cfg.epochs}: " + ", ".join(
                f"{k} {v:.4g}" for k, v in record.items()), file=sys.stderr, flush=True)
        if checkpoint is not None:
            save_checkpoint(checkpoint, trainer, epoch + 1, rng, history, best,
                            data_sha256=data_sha)
    if best:
        restore_weights(model, best["arrays"])
    return history


def best_epoch(history: list[dict[str, float]]) -> int:
    """The epoch with the highest validation Parzen score (the last epoch if none)."""
    scored = [r for r in history if "valid_parzen" in r]
    if not scored:
        return int(history[-1]["epoch"])
    return int(max(scored, key=lambda r: r["valid_parzen"])["epoch"])


def train_model(x_train: np.ndarray, x_valid: np.ndarray, cfg: TrainConfig,
                out: str | os.PathLike, *, resume: bool = False, command: str = "",
                progress: bool = True, preset: str | None = None) -> RateModel:
    """Train a fresh model (seeded by ``cfg.seed``), fit its prior and save it with its card.

    The checkpoint lives beside ``out`` as ``<out>.ckpt.npz``; with ``resume`` a stopped run
    continues from it.  Writes ``out`` (the model, the best epoch on validation when
    ``cfg.valid_every``) and ``out`` with suffix ``.json`` (the model card: command, preset,
    data checksum, hyper-parameters, per-epoch history, chosen epoch, training seconds).
    """
    model = init_model(np.random.default_rng(cfg.seed), cfg.layers, gain=cfg.init_gain,
                       init=cfg.init)
    out = Path(out)
    t0 = time.perf_counter()
    data_sha = data_digest(x_train)
    history = train(model, x_train, cfg, x_valid=x_valid,
                    checkpoint=out.with_suffix(".ckpt.npz"), resume=resume,
                    progress=progress, data_sha256=data_sha)
    top = inference(model, x_train, cfg.n_steps, cfg.delta, cfg.alpha)[-1]
    fit_prior(model, top, cfg.prior_var_scale)
    model.meta = {
        "command": command, "preset": preset,
        "data_sha256_float32": data_sha,
        "n_train": int(x_train.shape[0]), "n_valid": int(x_valid.shape[0]),
        "config": cfg.settings(), "history": history,
        "chosen_epoch": best_epoch(history),
        "train_seconds": sum(r["seconds"] + r.get("valid_seconds", 0.0) for r in history),
        "wall_s_last_session": time.perf_counter() - t0,
        "prior_var_scale": cfg.prior_var_scale,
    }
    save_model(model, out)
    write_json(out.with_suffix(".json"), model.meta)
    return model
