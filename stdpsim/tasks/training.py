"""Training as tasks: the rate model (``stdpsim train rate``) and the spiking learner
(``stdpsim train spiking``), each with its own typed options."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from .. import rate_config, rate_training, runs
from ..sweeps import SERIAL, open_client
from .common import Log, N_TRAIN, command_line, training_split
from .network import SpikingNetwork, event_settings, network_units

_NON_NEGATIVE = ("noise", "noise_x", "noise_h", "noise_g", "n_spikes", "weight_decay",
                 "valid_every")


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def parse_sizes(text: str | None) -> tuple[int, ...] | None:
    """``--sizes`` as integers (None: not given)."""
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--sizes must be comma-separated integers, got {text!r}") from None


@dataclasses.dataclass(frozen=True)
class RateTrainTask:
    """What ``stdpsim train rate`` asks for: a preset of
    :data:`stdpsim.rate_config.PRESETS` with some of its settings changed.

    Attributes
    ----------
    preset
        The preset's name.
    changes
        Settings of :class:`stdpsim.rate_config.TrainConfig` to change (None: keep), plus
        ``lr`` (every layer's learning rate) and ``noise`` (every corruption level).
    epochs, seed
        Passes over the training images; the seed of the weights and of the example order.
    data, out, resume
        MNIST folder; where the model goes; go on from ``out``'s checkpoint.
    """

    preset: str = "authors"
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    epochs: int | None = None
    seed: int = 0
    data: str | None = None
    out: str = "runs/rate_mnist.npz"
    resume: bool = False

    def config(self) -> rate_config.TrainConfig:
        """The preset with this task's changes, each checked with a message naming its
        flag."""
        changes: dict = {"seed": self.seed}
        if self.epochs is not None:
            if self.epochs < 1:
                raise ValueError(f"--epochs must be at least 1, got {self.epochs}")
            changes["epochs"] = self.epochs
        for key, value in self.changes.items():
            if value is None:
                continue
            if key in _NON_NEGATIVE and value < 0:
                raise ValueError(f"{_flag(key)} must be non-negative, got {value}")
            if key.startswith("lr") and key != "lr_final" and not value > 0:
                raise ValueError(f"{_flag(key)} must be positive, got {value}")
            if key == "lr_final" and not 0 < value <= 1:
                raise ValueError(f"--lr-final must be in (0, 1], got {value}")
            if key == "batch_size" and not 1 <= value <= N_TRAIN:
                raise ValueError(f"--batch-size must be in 1..{N_TRAIN} (the training "
                                 f"images), got {value}")
            if key == "prior_var_scale" and not value > 0:
                raise ValueError(f"--prior-var-scale must be positive, got {value}")
            if key == "noise":
                changes.update(noise_x=value, noise_h=value, noise_g=value)
            elif key == "lr":
                changes.update(lr_encoders=value, lr_decoders=value)
            elif key == "sizes":
                changes[key] = parse_sizes(value) if isinstance(value, str) else value
            else:
                changes[key] = value
        return dataclasses.replace(rate_config.PRESETS[self.preset], **changes)


def check_training_outputs(out: str, sizes: tuple[int, ...], resume: bool = False) -> None:
    """Before any training: the model file, its checkpoint and its card can be written
    (none is a folder, none lies below a file), their file system has room for them, and
    with ``resume`` the checkpoint is there.

    Room: a checkpoint holds the weights and biases and up to four optimiser arrays of
    each (float64 at most), written beside the previous one, and the model and its card
    come on top; 12 × 8 bytes per parameter covers them."""
    path = runs.check_output(out, "--out", ".npz")
    runs.check_output(path.with_suffix(".ckpt.npz"), "--out (its checkpoint)")
    runs.check_output(path.with_suffix(".json"), "--out (its model card)")
    n_params = sum(2 * a * b + a + b for a, b in zip(sizes[:-1], sizes[1:]))
    runs.check_free_space(path, 12 * 8 * n_params, "--out")
    if resume:
        from ..training import checkpoint_to_resume

        checkpoint_to_resume(path.with_suffix(".ckpt.npz"))


def train_rate(task: RateTrainTask, log: Log = print) -> Path:
    """Train the rate model; returns the model file."""
    cfg = task.config()
    check_training_outputs(task.out, cfg.sizes, task.resume)
    x_train, x_valid = training_split(task.data)
    model = rate_training.train_model(x_train, x_valid, cfg, task.out, resume=task.resume,
                                      command=command_line(), preset=task.preset)
    log(f"wrote {task.out} (epoch {model.meta['chosen_epoch']} of {cfg.epochs}; model card "
        f"{Path(task.out).with_suffix('.json')})")
    return Path(task.out)


@dataclasses.dataclass(frozen=True)
class SpikingTrainTask:
    """What ``stdpsim train spiking`` asks for; None keeps the ``training`` preset's value
    (:data:`stdpsim.spiking.PRESETS`) or :class:`stdpsim.spiking_training.SpikingTrainConfig`'s.

    Attributes
    ----------
    eps, eps_encoders, eps_decoders
        ε of the rule (:class:`stdpsim.spiking.LearningParameters`): of every layer, of the
        encoders, of the decoders.
    eps_final
        ε of the last chunk as a fraction of the first (cosine schedule).
    epochs, seed, chunk, max_chunks, sizes, batch_size, shard, optimizer, loss
        As :class:`stdpsim.spiking_training.SpikingTrainConfig`; ``max_chunks`` stops this
        call after that many chunks (``resume`` goes on later).  Without ε, the optimiser
        decides it: the shipped rate model's learning rate (``rate_config.SHIPPED_LR``) for
        ``rmsprop`` and ``adam``, the ``training`` preset's ε for ``sgd``.
    noise_x
        Corruption s.d. of x for f1, sent as the visible units' corruption events
        (:class:`stdpsim.spiking.LearningParameters`); None: the ``training`` preset's
        (:data:`stdpsim.spiking.EVENTS_SD`, at which f1's prediction carries the authors' 0.5),
        or 0 for the first design (batch size 1).
    noise_rate
        The events' rate per unit of abs(n), in Hz (None: the learner's default): more
        events of smaller weight, less count noise.
    event_timing
        How the events are timed (:data:`stdpsim.spiking.parameters.EVENT_TIMINGS`; None: the
        learner's default).
    t_settle, t_noisy
        Settling before INFERENCE and its corrupted part, in ms (None: the ``training``
        preset's).
    value_floor
        Hidden values stop at 0 from below too (:class:`stdpsim.spiking.LearningParameters`).
    scheduler, workers
        Where the shards run (:class:`stdpsim.shards.ShardRunner`).
    network
        The network's changes to the ``training`` preset and its Brian2 target (LIF units:
        the rule reads their dV/dt; the spike seeds follow from ``seed``).
    data, out, resume
        MNIST folder; where the model goes; go on from its checkpoint.
    """

    eps: float | None = None
    eps_encoders: float | None = None
    eps_decoders: float | None = None
    eps_final: float | None = None
    epochs: int | None = None
    seed: int = 0
    chunk: int | None = None
    max_chunks: int | None = None
    sizes: str | None = None
    batch_size: int | None = None
    shard: int | None = None
    optimizer: str | None = None
    loss: str | None = None
    noise_x: float | None = None
    noise_rate: float | None = None
    event_timing: str | None = None
    t_settle: float | None = None
    t_noisy: float | None = None
    value_floor: bool = False
    scheduler: str | None = None
    workers: int | None = None
    network: SpikingNetwork = SpikingNetwork()
    data: str | None = None
    out: str = "runs/spiking_mnist.npz"
    resume: bool = False

    def settings(self) -> tuple:
        """(SpikingTrainConfig, SpikingParameters, LearningParameters), each value checked
        with a message naming its flag."""
        from .. import spiking, spiking_training

        for key in ("eps", "eps_encoders", "eps_decoders"):
            value = getattr(self, key)
            if value is not None and not value > 0:
                raise ValueError(f"{_flag(key)} must be positive, got {value}")
        if self.max_chunks is not None and self.max_chunks < 1:
            raise ValueError(f"--max-chunks must be at least 1, got {self.max_chunks}")
        cfg_args: dict = {"seed": self.seed}
        if self.eps_final is not None:
            if not 0 < self.eps_final <= 1:
                raise ValueError(f"--eps-final must be in (0, 1], got {self.eps_final}")
            cfg_args["eps_final"] = self.eps_final
        if self.epochs is not None:
            if self.epochs < 1:
                raise ValueError(f"--epochs must be at least 1, got {self.epochs}")
            cfg_args["epochs"] = self.epochs
        if self.chunk is not None:
            if self.chunk < 1 or N_TRAIN % self.chunk:
                raise ValueError(f"--chunk must divide the {N_TRAIN} training images, got "
                                 f"{self.chunk}")
            # validation about as often as the default, at the end of a chunk
            every = spiking_training.SpikingTrainConfig.valid_every
            cfg_args.update(chunk=self.chunk,
                            valid_every=self.chunk * max(1, round(every / self.chunk)))
        if self.sizes is not None:
            cfg_args["sizes"] = parse_sizes(self.sizes)
        for key in ("batch_size", "shard", "optimizer", "loss"):
            if getattr(self, key) is not None:
                cfg_args[key] = getattr(self, key)
        cfg_args.update(_adapted_defaults(cfg_args))
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {self.workers}")
        cfg = spiking_training.SpikingTrainConfig(**cfg_args)
        eps = {k: self.eps for k in ("eps_encoders", "eps_decoders")}
        eps.update({k: getattr(self, k) for k in eps if getattr(self, k) is not None})
        if cfg.optimizer != "sgd":  # the shipped rate model's rate for its optimisers
            eps = {k: rate_config.SHIPPED_LR if v is None else v for k, v in eps.items()}
        if self.noise_x is not None and not (np.isfinite(self.noise_x) and self.noise_x >= 0):
            raise ValueError(f"--noise-x must be a non-negative s.d., got {self.noise_x}")
        noise = self.noise_x if self.noise_x is not None else (
            0.0 if cfg.online else spiking.EVENTS_SD["training"])
        params = self.network.parameters("training",
                                         **network_units(t_settle_ms=self.t_settle))
        spiking.check_memory_need(cfg.sizes, params)
        events = event_settings(noise, t_noisy_ms=self.t_noisy, noise_rate_hz=self.noise_rate,
                                event_timing=self.event_timing)
        learning = spiking.training_learning(noise_x=noise, **events,
                                             value_floor=self.value_floor,
                                             **{k: v for k, v in eps.items() if v is not None})
        learning.check_against(params)
        return cfg, params, learning


def _largest_divisor(n: int, at_most: int) -> int:
    return max(d for d in range(1, min(n, at_most) + 1) if n % d == 0)


def _adapted_defaults(given: dict) -> dict:
    """The spiking training's defaults that depend on options the user gave: the batch size
    divides ``--chunk`` (the largest that does, up to the default), the shard divides the
    batch size (likewise), and a batch size of 1 (the first design, weights change at every
    spike) learns with plain rates (``sgd``)."""
    from .. import spiking_training

    base = spiking_training.SpikingTrainConfig
    out: dict = {}
    batch = given.get("batch_size")
    if batch is None and "chunk" in given:
        batch = out["batch_size"] = _largest_divisor(given["chunk"], base.batch_size)
    if batch is not None and "shard" not in given and batch >= 1:
        out["shard"] = _largest_divisor(batch, base.shard)
    if batch == 1 and "optimizer" not in given:
        out["optimizer"] = "sgd"
    return out


def train_spiking(task: SpikingTrainTask, log: Log = print) -> Path:
    """Train the spiking learner; returns the model file."""
    from .. import spiking_training

    cfg, params, learning = task.settings()
    check_training_outputs(task.out, cfg.sizes, task.resume)
    if task.scheduler not in (None, SERIAL):  # a scheduler that does not answer: now
        with open_client(task.scheduler):
            pass
    x_train, x_valid = training_split(task.data)
    model = spiking_training.train_model(
        x_train, x_valid, cfg, params, learning, task.out, resume=task.resume,
        command=command_line(), device=task.network.device, max_chunks=task.max_chunks,
        scheduler=task.scheduler, n_workers=task.workers)
    log(f"wrote {task.out} ({model.meta['examples_seen']} examples seen"
        f"{'' if model.meta['finished'] else ', not finished: go on with --resume'}; "
        f"model card {Path(task.out).with_suffix('.json')})")
    return Path(task.out)
