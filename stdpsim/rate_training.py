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

The settings are :class:`stdpsim.rate_config.TrainConfig`; two presets
(:data:`stdpsim.rate_config.PRESETS`): ``authors``, the settings of the training script the
authors published with the paper (centred RMSprop, orthogonal initialisation, the noise
levels above, prior at 16 × the variance), which is the default; and ``adam-v1``, the
configuration of this project's first shipped model, kept for comparison.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from . import training
from .activations import sigmoid, softplus
from .consolidation import Consolidation
from .corruption import corrupt
from .model_files import save_model
from .optimizers import Adam, CentredRMSprop
from .plasticity import sdvdt_updates
from .progress import interactive
from .rate_config import LOSSES, TrainConfig
from .rate_model import RateModel, feed_forward, fit_prior, inference, init_model
from .runs import write_json
from .training import (data_digest, optimizer_arrays, read_checkpoint, restore_optimizers,
                       restore_weights, validation_parzen, weight_arrays, write_checkpoint)

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
