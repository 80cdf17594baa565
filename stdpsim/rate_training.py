"""Layer-local training of the rate model (Bengio et al. 2015, Algorithm 2, TRAIN).

Per minibatch: h1, h2 ← INFERENCE(x); then every layer takes one step on its own target loss
with a corrupted input and no gradient crossing layers:

========  =====================  ===========  ===========================================
layer     input                  target       corruption
========  =====================  ===========  ===========================================
``f1``    x̃ = x + N(0, σ_x²)     h1           Gaussian
``f2``    h̃1 = h1 + N(0, σ_h1²)  h2           Gaussian
``g2``    h̃2                     h1           mean of ``n_spikes`` Bernoulli(h2) draws
``g1``    h̃1 = h1 + N(0, σ_h1²)  x            Gaussian
========  =====================  ===========  ===========================================

The step on a layer y = act(u W + b) with target t uses the error (y − t) at the
pre-activation, multiplied by act′ for softplus layers: for sigmoid layers this is the
delta rule (the cross-entropy gradient), for the linear layer the squared-error gradient.
Each layer has its own Adam optimiser and learning rate.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from .rate_model import (RateModel, fit_prior, inference, init_model, save_model, sigmoid,
                         softplus)
from .runs import atomic_target, load_npz, write_json


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters (the paper gives none of these; see the model card).

    Attributes
    ----------
    lr
        Adam learning rate per layer.
    noise_x, noise_h1
        Standard deviation of the Gaussian corruption of x (pixels in [0, 1]) and of h1.
    n_spikes
        Bernoulli draws averaged for the spike-like corruption of h2.
    lr_final
        Cosine learning-rate schedule: every layer's rate falls from ``lr`` at the first epoch
        to ``lr_final`` × ``lr`` at the last (1.0: constant).
    weight_decay
        Decoupled weight decay (AdamW): each step multiplies weights (not biases) by
        1 − lr·weight_decay.
    n_steps, delta, alpha
        INFERENCE parameters used during training.
    init_gain
        Initial weights are N(0, (gain/√n_in)²) per layer; layers not named have gain 1.
    batch_size, epochs, seed
        Minibatch size, passes over the training set, random seed.
    """

    lr: dict[str, float] = dataclasses.field(
        default_factory=lambda: {"f1": 1e-4, "f2": 1e-4, "g2": 1e-3, "g1": 1e-3})
    noise_x: float = 0.05
    noise_h1: float = 0.05
    n_spikes: int = 3
    lr_final: float = 0.05
    weight_decay: float = 0.0
    n_steps: int = 15
    delta: float = 0.1
    alpha: float = 0.001
    init_gain: dict[str, float] = dataclasses.field(default_factory=dict)
    batch_size: int = 100
    epochs: int = 20
    seed: int = 0


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


def local_problems(model: RateModel, x: np.ndarray, rng: np.random.Generator,
                   cfg: TrainConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Run INFERENCE on ``x`` and draw the corruptions: layer -> (input, target)."""
    h1, h2 = inference(model, x, cfg.n_steps, cfg.delta, cfg.alpha)
    f32 = np.float32
    x_noisy = x + f32(cfg.noise_x) * rng.standard_normal(x.shape, dtype=f32)
    h1_noisy = h1 + f32(cfg.noise_h1) * rng.standard_normal(h1.shape, dtype=f32)
    spikes = rng.random((cfg.n_spikes,) + h2.shape, dtype=f32) < h2
    h2_noisy = spikes.mean(axis=0, dtype=f32)
    return {"f1": (x_noisy, h1), "f2": (h1_noisy, h2), "g2": (h2_noisy, h1),
            "g1": (h1_noisy, x)}


def local_losses(model: RateModel, problems: dict[str, tuple[np.ndarray, np.ndarray]]
                 ) -> dict[str, float]:
    """Mean over the batch of ‖layer(input) − target‖² for each layer."""
    return {name: float(np.mean(np.sum((model.layer(name, u) - t) ** 2, axis=1)))
            for name, (u, t) in problems.items()}


def layer_gradients(model: RateModel, name: str, u: np.ndarray, t: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, float]:
    """(dW, db, loss) of the local step for layer ``name`` on input ``u`` and target ``t``;
    ``loss`` is the layer's local loss before the step (as in :func:`local_losses`)."""
    a = u @ model.weights[name] + model.biases[name]
    act = model.activations[name]
    y = {"softplus": softplus, "sigmoid": sigmoid}.get(act, lambda z: z)(a)
    diff = y - t
    err = diff * sigmoid(a) if act == "softplus" else diff
    n = np.float32(u.shape[0])
    loss = float(np.mean(np.sum(diff * diff, axis=1)))
    return (u.T @ err) / n, err.sum(axis=0) / n, loss


def training_flops_per_example(model: RateModel, n_steps: int) -> int:
    """Floating-point operations of the matrix products of one training example.

    Counts 2 × n_in × n_out per layer application: the feed-forward pass f1, f2 and the
    first g2; per INFERENCE step f2 twice, g2, g1 and f1; then each layer's forward pass and
    weight gradient.  Element-wise work is not counted (it is the overhead the benchmark
    measures against this floor).
    """
    mac = {name: W.shape[0] * W.shape[1] for name, W in model.weights.items()}
    start = mac["f1"] + mac["f2"] + mac["g2"]
    step = 2 * mac["f2"] + mac["g2"] + mac["g1"] + mac["f1"]
    learn = 2 * sum(mac.values())
    return 2 * (start + n_steps * step + learn)


class LocalTrainer:
    """One Adam optimiser per layer; :meth:`step` trains on one minibatch."""

    def __init__(self, model: RateModel, cfg: TrainConfig) -> None:
        self.model, self.cfg = model, cfg
        self.opts = {name: Adam({"W": model.weights[name], "b": model.biases[name]},
                                cfg.lr[name], weight_decay=cfg.weight_decay)
                      for name in model.weights}

    def set_epoch(self, epoch: int) -> None:
        """Learning rates of the cosine schedule for epoch ``epoch`` (0-based)."""
        frac = epoch / max(self.cfg.epochs - 1, 1)
        scale = self.cfg.lr_final + (1 - self.cfg.lr_final) * 0.5 * (1 + np.cos(np.pi * frac))
        for name, opt in self.opts.items():
            opt.lr = self.cfg.lr[name] * float(scale)

    def apply(self, problems: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
        """One step of every layer on fixed (input, target) pairs; returns the local losses
        before the step (from the same forward pass as the gradients)."""
        losses = {}
        for name, (u, t) in problems.items():
            gW, gb, losses[name] = layer_gradients(self.model, name, u, t)
            params = {"W": self.model.weights[name], "b": self.model.biases[name]}
            self.opts[name].step(params, {"W": gW, "b": gb})
        return losses

    def step(self, x: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """INFERENCE, corruption, one local step per layer; returns the losses before it."""
        return self.apply(local_problems(self.model, x, rng, self.cfg))


# ------------------------------------------------------------------------ epochs, checkpoints


def _checkpoint_arrays(trainer: LocalTrainer) -> dict[str, np.ndarray]:
    out = {}
    for name, opt in trainer.opts.items():
        for p in ("W", "b"):
            out[f"adam.{name}.{p}.m"] = opt.m[p]
            out[f"adam.{name}.{p}.v"] = opt.v[p]
        out[f"adam.{name}.t"] = np.int64(opt.t)
    return out


def save_checkpoint(path: str | os.PathLike, trainer: LocalTrainer, epoch: int,
                    rng: np.random.Generator, history: list[dict[str, float]]) -> Path:
    """Model, optimiser state, finished epochs, RNG state and loss history, written
    atomically (a crash leaves the previous checkpoint intact)."""
    model = trainer.model
    state = {"epoch": epoch, "rng": rng.bit_generator.state, "history": history,
             "config": dataclasses.asdict(trainer.cfg), "meta": model.meta}
    arrays = {f"{n}.{p}": a for n in model.weights
              for p, a in (("W", model.weights[n]), ("b", model.biases[n]))}
    path, tmp = atomic_target(path, ".npz")
    np.savez(tmp, state=np.array(json.dumps(state)), prior_mean=model.prior_mean,
             prior_var=model.prior_var, **arrays, **_checkpoint_arrays(trainer))
    tmp.replace(path)
    return path


def load_checkpoint(path: str | os.PathLike, model: RateModel, cfg: TrainConfig
                    ) -> tuple[LocalTrainer, int, np.random.Generator, list[dict[str, float]]]:
    """Restore what :func:`save_checkpoint` wrote into ``model``; returns the trainer, the
    number of finished epochs, the RNG and the history."""
    data = load_npz(path, "checkpoint")
    state = json.loads(str(data["state"]))
    for n in model.weights:
        model.weights[n][...] = data[f"{n}.W"]
        model.biases[n][...] = data[f"{n}.b"]
    trainer = LocalTrainer(model, cfg)
    for name, opt in trainer.opts.items():
        for p in ("W", "b"):
            opt.m[p][...] = data[f"adam.{name}.{p}.m"]
            opt.v[p][...] = data[f"adam.{name}.{p}.v"]
        opt.t = int(data[f"adam.{name}.t"])
    rng = np.random.default_rng()
    rng.bit_generator.state = state["rng"]
    return trainer, int(state["epoch"]), rng, state["history"]


def train(model: RateModel, x_train: np.ndarray, cfg: TrainConfig, *,
          x_valid: np.ndarray | None = None, checkpoint: str | os.PathLike | None = None,
          resume: bool = False, progress: bool = True) -> list[dict[str, float]]:
    """Train for ``cfg.epochs`` epochs of shuffled minibatches, checkpointing after each.

    With ``resume`` and an existing ``checkpoint`` the run continues where it stopped and
    ends exactly as an uninterrupted run would.  Returns one dict per epoch: mean local
    losses, validation reconstruction error (if ``x_valid``) and seconds.
    """
    from tqdm import tqdm

    if resume and checkpoint is not None and Path(checkpoint).exists():
        trainer, done, rng, history = load_checkpoint(checkpoint, model, cfg)
    else:
        trainer, done, rng, history = LocalTrainer(model, cfg), 0, \
            np.random.default_rng(cfg.seed), []
    n = x_train.shape[0]
    for epoch in range(done, cfg.epochs):
        trainer.set_epoch(epoch)
        t0 = time.perf_counter()
        order = rng.permutation(n)
        sums: dict[str, float] = {}
        batches = range(0, n, cfg.batch_size)
        for start in tqdm(batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                          disable=not progress, leave=False):
            losses = trainer.step(x_train[order[start:start + cfg.batch_size]], rng)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
        record = {f"loss_{k}": v / len(batches) for k, v in sums.items()}
        record["seconds"] = time.perf_counter() - t0
        if x_valid is not None:
            h1, _ = inference(model, x_valid, cfg.n_steps, cfg.delta, cfg.alpha)
            record["valid_reconstruction"] = float(
                np.mean(np.sum((model.g1(h1) - x_valid) ** 2, axis=1)))
        history.append({"epoch": epoch + 1, **record})
        if progress:
            print(f"epoch {epoch + 1}/{cfg.epochs}: " + ", ".join(
                f"{k} {v:.4g}" for k, v in record.items()), file=sys.stderr, flush=True)
        if checkpoint is not None:
            save_checkpoint(checkpoint, trainer, epoch + 1, rng, history)
    return history


def train_model(x_train: np.ndarray, x_valid: np.ndarray, cfg: TrainConfig,
                out: str | os.PathLike, *, resume: bool = False, command: str = "",
                progress: bool = True) -> RateModel:
    """Train a fresh model (seeded by ``cfg.seed``), fit its prior and save it with its card.

    The checkpoint lives beside ``out`` as ``<out>.ckpt.npz``; with ``resume`` a stopped run
    continues from it.  Writes ``out`` (the model) and ``out`` with suffix ``.json`` (the model
    card: command, data checksum, hyper-parameters, per-epoch history, training seconds).
    """
    model = init_model(np.random.default_rng(cfg.seed), gain=cfg.init_gain)
    out = Path(out)
    t0 = time.perf_counter()
    history = train(model, x_train, cfg, x_valid=x_valid,
                    checkpoint=out.with_suffix(".ckpt.npz"), resume=resume,
                    progress=progress)
    _, h2 = inference(model, x_train, cfg.n_steps, cfg.delta, cfg.alpha)
    fit_prior(model, h2)
    model.meta = {
        "command": command,
        "data_sha256_float32": hashlib.sha256(x_train.tobytes()).hexdigest(),
        "n_train": int(x_train.shape[0]), "n_valid": int(x_valid.shape[0]),
        "config": dataclasses.asdict(cfg), "history": history,
        "train_seconds": sum(r["seconds"] for r in history),
        "wall_s_last_session": time.perf_counter() - t0,
    }
    save_model(model, out)
    write_json(out.with_suffix(".json"), model.meta)
    return model
