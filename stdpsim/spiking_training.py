"""Training the MNIST generative model inside Brian2 with the S·dV/dt rule.

The training examples run through the spiking learner
(:func:`stdpsim.spiking.learning_builder`) in chunks: one compiled simulation per
chunk of ``chunk`` examples, which arrive through a :class:`brian2.TimedArray`, the weights
going in and out through the run's inputs (Brian2's ``run_args``), so every chunk reuses one
binary.  No gradient is computed outside the simulation: the weights change only by
η·dV_post/dt at presynaptic spikes.

The order of the examples (a permutation per epoch) and the spike-timing seed of each chunk
follow from ``seed`` and the chunk's number alone, so a run that is stopped and resumed from
its checkpoint (written atomically after every chunk) ends bit-identically to one that was
not.  Every ``valid_every`` examples the current weights are scored by the rate model's
validation protocol (:func:`stdpsim.training.validation_parzen`: GENERATE samples, prior
and σ from training images, validation images scored), giving the learning curve.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import rate_config, spiking, training
from .consolidation import OPTIMIZERS, Consolidation
from .progress import Progress
from .model_files import save_model
from .rate_model import RateModel, fit_prior, inference, init_model
from .rate_config import LOSSES
from .runs import RunFileError, read_json, write_json
from .shards import ShardNetwork, ShardRunner
from .sweeps import SERIAL


def training_parameters(preset: str = "training", **network: Any
                        ) -> tuple[spiking.SpikingParameters, spiking.LearningParameters]:
    """The network and learning parameters of a spiking training: the network preset
    ``preset`` (``training``, or ``first_design``: :data:`stdpsim.spiking.PRESETS`) with
    ``network`` overriding it (e.g. ``r_max``, ``tau``), and the learner's phases that go
    with it, ``eps_encoders`` / ``eps_decoders`` going to the learning parameters."""
    eps = {k: network.pop(k) for k in ("eps_encoders", "eps_decoders") if k in network}
    return spiking.preset(preset, **network), spiking.training_learning(preset, **eps)


@dataclasses.dataclass(frozen=True)
class SpikingTrainConfig:
    """Settings of a spiking training run (the network's own are
    :class:`~stdpsim.spiking.SpikingParameters` and
    :class:`~stdpsim.spiking.LearningParameters`).

    Attributes
    ----------
    epochs
        Passes over the training images.
    chunk
        Examples per compiled simulation run (and per checkpoint); must divide the number of
        training images.
    seed
        Initial weights (the rate model's initialisation with this seed), example order and
        spike timing.
    valid_every
        Examples between validation scores (a multiple of ``chunk``; 0: none).
    valid_samples
        GENERATE samples per validation score (fewer than the rate model's 5,000 per epoch,
        for time; a Parzen estimate grows with the number of samples, so curves are compared
        at equal numbers of samples).
    eps_final
        ε of the last chunk as a fraction of the first: a cosine schedule over the chunks of
        the whole run (1.0: constant).  ε enters each chunk as a run input, so the schedule
        costs no recompilation.
    sizes
        Layer widths (n_visible, n_1, ..., n_L) of the stack, L ≥ 2 hidden layers.
    batch_size
        B, examples per consolidation of the synaptic tags (:mod:`stdpsim.consolidation`);
        must divide ``chunk``.  1 (with ``optimizer="sgd"``) is the first design: the
        weights change at every presynaptic spike, ``chunk`` examples per simulation run.
    shard
        Examples per simulation run within a minibatch (:mod:`stdpsim.shards`), the unit of
        data-parallel work; must divide ``batch_size``.
    optimizer
        How a tag becomes a weight change: ``rmsprop`` (the authors' centred RMSprop with
        momentum, per synapse), ``adam`` or ``sgd`` (the tag as it is, times ε).
    loss
        ``through``: the postsynaptic gain factor act′ multiplies every change (the error
        through the nonlinearity, as the rate model's loss takes it); ``delta``: none.
    """

    epochs: int = 1
    chunk: int = 1000
    seed: int = 0
    valid_every: int = 2000
    valid_samples: int = 1000
    eps_final: float = 1.0
    sizes: tuple[int, ...] = (784, 1000, 100)
    batch_size: int = 100
    shard: int = 50
    optimizer: str = "rmsprop"
    loss: str = "through"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        if len(self.sizes) < 3 or min(self.sizes) < 1:
            raise ValueError(f"sizes need a visible and at least two hidden layers, got "
                             f"{self.sizes}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.chunk < 1:
            raise ValueError(f"chunk must be at least 1, got {self.chunk}")
        if self.valid_every < 0 or self.valid_every % self.chunk:
            raise ValueError(f"valid_every ({self.valid_every}) must be a non-negative "
                             f"multiple of chunk ({self.chunk})")
        if self.valid_samples < 2:
            raise ValueError(f"valid_samples must be at least 2, got {self.valid_samples}")
        if not 0 < self.eps_final <= 1:
            raise ValueError(f"eps_final must be in (0, 1], got {self.eps_final}")
        if self.batch_size < 1 or self.chunk % self.batch_size:
            raise ValueError(f"batch size ({self.batch_size}) must divide the chunk "
                             f"({self.chunk})")
        if self.shard < 1 or self.batch_size % self.shard:
            raise ValueError(f"shard ({self.shard}) must divide the batch size "
                             f"({self.batch_size})")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.batch_size == 1 and self.optimizer != "sgd":
            raise ValueError(f"optimizer {self.optimizer} consolidates a minibatch's tags: "
                             "it needs a batch size above 1 (batch size 1 is the first "
                             "design's online rule: optimizer sgd)")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")

    @property
    def online(self) -> bool:
        """Whether this is the first design: weights change at every spike (batch size 1)."""
        return self.batch_size == 1

    def eps_scale(self, chunk_index: int, n_chunks: int) -> float:
        """Factor on ε in chunk ``chunk_index`` (0-based) of ``n_chunks``: cosine from 1 at
        the first chunk to ``eps_final`` at the last."""
        return training.cosine_scale(chunk_index, n_chunks, self.eps_final)


FIRST_DESIGN = {"batch_size": 1, "shard": 1, "optimizer": "sgd", "loss": "delta"}
"""The settings of the learner's first design: weights changing at every spike, no gain
factor (with ``chunk`` examples per simulation run)."""


def settings(cfg: SpikingTrainConfig, params: spiking.SpikingParameters,
             learning: spiking.LearningParameters) -> dict[str, Any]:
    """Every setting of a run as plain JSON (for checkpoints and the model card)."""
    return {"train": dataclasses.asdict(cfg),
            "network": spiking.parameters_summary(params),
            "learning": spiking.learning_summary(learning)}


def example_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the training images in ``epoch`` (0-based): a permutation that depends on
    the seed and the epoch only."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def chunk_seed(seed: int, chunk_index: int) -> int:
    """The spike-timing seed of chunk ``chunk_index`` (0-based, counted over all epochs)."""
    return int(np.random.default_rng([seed, 2**20 + chunk_index]).integers(2**31))


def shard_seed(seed: int, shard_index: int) -> int:
    """The spike-timing seed of shard ``shard_index`` (0-based, counted over the whole run)
    of the second design (:mod:`stdpsim.shards`)."""
    return int(np.random.default_rng([seed, 2**21 + shard_index]).integers(2**31))


def save_checkpoint(path: str | os.PathLike, model: RateModel, chunks_done: int,
                    history: list[dict[str, Any]], run_settings: dict[str, Any],
                    data_sha256: str, opts: dict[str, Any] | None = None,
                    planned_stop: int | None = None) -> Path:
    """Weights and biases after ``chunks_done`` chunks, the consolidation's state
    (``opts``), the learning curve so far, the settings, the training data's checksum and
    the chunk at which the call that writes it means to stop
    (:func:`stdpsim.training.write_checkpoint`)."""
    state = {"chunks_done": chunks_done, "history": history, "settings": run_settings,
             "data_sha256": data_sha256, "planned_stop": planned_stop}
    return training.write_checkpoint(path, model, state,
                                     **training.optimizer_arrays(opts or {}))


def load_checkpoint(path: str | os.PathLike, model: RateModel, run_settings: dict[str, Any],
                    data_sha256: str, opts: dict[str, Any] | None = None
                    ) -> tuple[int, list[dict[str, Any]], int | None]:
    """Restore the weights (and the consolidation's state into ``opts``) of a checkpoint
    after checking that a run with the same settings and data wrote it
    (:func:`stdpsim.training.check_resumable`: a constant-ε run may change its number of
    epochs and go on at another ε, a scheduled one may do neither); returns (chunks done,
    history, the chunk at which the call that wrote it meant to stop, or None)."""
    state, data = training.read_checkpoint(path, needs=("chunks_done", "history"))
    training.check_resumable(path, state.get("settings", {}), run_settings,
                             epochs=("train", "epochs"),
                             constant_rate=run_settings["train"]["eps_final"] == 1.0,
                             rates=(("learning", "eps_encoders"), ("learning", "eps_decoders")),
                             saved_sha256=state.get("data_sha256"), data_sha256=data_sha256)
    training.restore_weights(model, data)
    training.restore_optimizers(opts or {}, data)
    planned = state.get("planned_stop")
    return int(state["chunks_done"]), state["history"], (None if planned is None
                                                         else int(planned))


def consolidation_rates(model: RateModel, learning: spiking.LearningParameters,
                        scale: float) -> dict[str, float]:
    """The consolidation's learning rate of every layer: ε of its kind times ``scale``."""
    return {n: (learning.eps_encoders if n.startswith("f") else learning.eps_decoders) * scale
            for n in model.weights}


def make_consolidation(model: RateModel, cfg: SpikingTrainConfig,
                       learning: spiking.LearningParameters) -> Consolidation | None:
    """The second design's consolidation (the authors' RMSprop constants), or None for the
    first design."""
    if cfg.online:
        return None
    authors = rate_config.PRESETS["authors"]
    return Consolidation(model, cfg.optimizer, consolidation_rates(model, learning, 1.0),
                         momentum=authors.momentum, decay=authors.rms_decay,
                         eps=authors.rms_eps)


def _online_chunk(model: RateModel, x: np.ndarray, cfg: SpikingTrainConfig,
                  params: spiking.SpikingParameters, learning: spiking.LearningParameters,
                  scale: float, seed: int, device: str | None) -> tuple[dict[str, int], float]:
    """The first design on one chunk: one simulation in which the weights change at every
    spike; returns the events and the run's seconds."""
    chunk_learning = dataclasses.replace(learning,
                                         eps_encoders=learning.eps_encoders * scale,
                                         eps_decoders=learning.eps_decoders * scale)
    learned, events, info = spiking.run_learning(
        model, x, params, chunk_learning, device=device, seed=seed, progress=False,
        gain_factor=cfg.loss == "through")
    training.restore_weights(model, training.weight_arrays(learned))
    return events, info.run_s


def _consolidated_chunk(model: RateModel, x: np.ndarray, cfg: SpikingTrainConfig,
                        runner: ShardRunner, consolidation: Consolidation,
                        first_shard: int) -> tuple[dict[str, int], float]:
    """The second design on one chunk: minibatch after minibatch, the shards' tags summed
    and consolidated; returns the events and the shards' run seconds."""
    per_batch = cfg.batch_size // cfg.shard
    events: dict[str, int] = {}
    run_s = 0.0
    for k in range(cfg.chunk // cfg.batch_size):
        seeds = [shard_seed(cfg.seed, first_shard + k * per_batch + j)
                 for j in range(per_batch)]
        tags, batch_events, seconds = runner.minibatch(
            model, x[k * cfg.batch_size:(k + 1) * cfg.batch_size], seeds)
        consolidation(tags, cfg.batch_size)
        for key, v in batch_events.items():
            events[key] = events.get(key, 0) + v
        run_s += seconds
    return events, run_s


def validation_score(model: RateModel, x_train: np.ndarray, x_valid: np.ndarray,
                     cfg: SpikingTrainConfig) -> dict[str, float]:
    """The rate model's validation protocol on the current weights (see module docstring)."""
    how = rate_config.TrainConfig(valid_samples=cfg.valid_samples, seed=cfg.seed).validation()
    return training.validation_parzen(model, x_train, x_valid, how)


def train(model: RateModel, x_train: np.ndarray, x_valid: np.ndarray | None,
          cfg: SpikingTrainConfig, params: spiking.SpikingParameters,
          learning: spiking.LearningParameters, *,
          checkpoint: str | os.PathLike | None = None, resume: bool = False,
          progress: bool = True, device: str | None = "auto",
          max_chunks: int | None = None, scheduler: str | None = SERIAL,
          n_workers: int | None = None, saved_examples: int | None = None
          ) -> list[dict[str, Any]]:
    """Train ``model`` in place with the spiking learner; returns the learning curve (one
    record per chunk: examples seen, seconds, examples/s, events, and the validation score
    where one was taken).  ``max_chunks`` stops after that many chunks in this call (the
    checkpoint lets a later call go on).  ``scheduler``, ``n_workers``: where the second
    design's shards run (:class:`stdpsim.shards.ShardRunner`; the first design runs here,
    on ``device``).

    A resumed call ends where the interrupted one would have: a call stopped before its
    last chunk goes on to the chunk it meant to stop at, whatever ``max_chunks`` says now;
    one stopped after its last chunk but before its model was saved (``saved_examples``,
    the examples the saved model has seen, fall short of the checkpoint's) trains no
    further.  Only after a call that finished does ``max_chunks`` count from the
    checkpoint."""
    n = x_train.shape[0]
    if n % cfg.chunk:
        raise ValueError(f"chunk ({cfg.chunk}) must divide the number of training images ({n})")
    run_settings = settings(cfg, params, learning)
    data_sha = training.data_digest(x_train)
    consolidation = make_consolidation(model, cfg, learning)
    opts = consolidation.opts if consolidation is not None else {}
    done, history, planned = 0, [], None
    if resume:
        done, history, planned = load_checkpoint(training.checkpoint_to_resume(checkpoint),
                                                 model, run_settings, data_sha, opts)
    per_epoch = n // cfg.chunk
    total = cfg.epochs * per_epoch
    stop = total if max_chunks is None else min(total, done + max_chunks)
    if planned is not None and done < planned:  # the interrupted call's own end
        stop = min(total, planned)
    elif (planned is not None and saved_examples is not None
          and saved_examples < done * cfg.chunk):  # its chunks done, its model not saved
        stop = done
    bar = Progress(total * cfg.chunk, "spiking training", "examples", done * cfg.chunk,
                   enabled=progress)
    runner = (None if cfg.online else ShardRunner(
        ShardNetwork(params, learning, cfg.shard, cfg.loss == "through"), scheduler,
        n_workers))
    try:
        for c in range(done, stop):
            epoch, k = divmod(c, per_epoch)
            order = example_order(n, cfg.seed, epoch)[k * cfg.chunk:(k + 1) * cfg.chunk]
            t0 = time.perf_counter()
            scale = cfg.eps_scale(c, total)
            if consolidation is None:
                events, run_s = _online_chunk(model, x_train[order], cfg, params, learning,
                                              scale, chunk_seed(cfg.seed, c), device)
            else:
                consolidation.set_rates(consolidation_rates(model, learning, scale))
                events, run_s = _consolidated_chunk(model, x_train[order], cfg, runner,
                                                    consolidation,
                                                    c * (cfg.chunk // cfg.shard))
            seconds = time.perf_counter() - t0
            record: dict[str, Any] = {
                "examples": (c + 1) * cfg.chunk, "epoch": epoch + 1, "seconds": seconds,
                "eps_scale": scale, "eps_encoders": learning.eps_encoders * scale,
                "eps_decoders": learning.eps_decoders * scale,
                "run_s": run_s, "examples_per_s": cfg.chunk / seconds,
                "synaptic_events_per_s": events["synaptic"] / run_s, "events": events}
            if (x_valid is not None and cfg.valid_every
                    and (c + 1) * cfg.chunk % cfg.valid_every == 0):
                record.update(validation_score(model, x_train, x_valid, cfg))
            history.append(record)
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, c + 1, history, run_settings, data_sha,
                                opts, planned_stop=stop)
            bar.update(cfg.chunk, **({"validation Parzen": f"{record['valid_parzen']:.1f}"}
                                     if "valid_parzen" in record else {}))
            if "valid_parzen" in record and bar.bar is not None:
                bar.note(f"{record['examples']} examples: validation Parzen "
                         f"{record['valid_parzen']:.1f}")
    finally:
        bar.close()
        if runner is not None:
            runner.close()
    return history


def _saved_examples(out: Path) -> int:
    """The examples the model saved at ``out`` has seen, by its card (0 if none)."""
    try:
        return int(read_json(out.with_suffix(".json")).get("examples_seen", 0))
    except (RunFileError, OSError, TypeError, ValueError, AttributeError):
        return 0


def train_model(x_train: np.ndarray, x_valid: np.ndarray, cfg: SpikingTrainConfig,
                params: spiking.SpikingParameters,
                learning: spiking.LearningParameters, out: str | os.PathLike, *,
                resume: bool = False, command: str = "", progress: bool = True,
                device: str | None = "auto", max_chunks: int | None = None,
                scheduler: str | None = SERIAL, n_workers: int | None = None) -> RateModel:
    """Train from the rate model's initialisation (seed ``cfg.seed``), then fit the prior
    (the rate model's: 16 × the variance of the inferred h2) and save the model and its card.

    The checkpoint lives beside ``out`` as ``<out>.ckpt.npz``.  The model file is the rate
    model's format, so it loads into both networks.  When ``max_chunks`` stops the run early,
    the model saved is the one after the chunks done so far.
    """
    rate_cfg = rate_config.TrainConfig(sizes=cfg.sizes)
    model = init_model(np.random.default_rng(cfg.seed), rate_cfg.layers, init=rate_cfg.init)
    out = Path(out)
    history = train(model, x_train, x_valid, cfg, params, learning,
                    checkpoint=out.with_suffix(".ckpt.npz"), resume=resume, progress=progress,
                    device=device, max_chunks=max_chunks, scheduler=scheduler,
                    n_workers=n_workers, saved_examples=_saved_examples(out))
    top = inference(model, x_train, rate_cfg.n_steps, rate_cfg.delta, rate_cfg.alpha)[-1]
    fit_prior(model, top, rate_cfg.prior_var_scale)
    seen = history[-1]["examples"] if history else 0
    model.meta = {
        "command": command, "learner": "spiking S·dV/dt (LIF, Brian2)",
        "data_sha256_float32": training.data_digest(x_train),
        "n_train": int(x_train.shape[0]), "n_valid": int(x_valid.shape[0]),
        "settings": settings(cfg, params, learning), "history": history,
        "examples_seen": seen, "finished": seen == cfg.epochs * x_train.shape[0],
        "train_seconds": sum(r["seconds"] for r in history),
        "prior_var_scale": rate_cfg.prior_var_scale,
    }
    save_model(model, out)
    write_json(out.with_suffix(".json"), model.meta)
    return model
