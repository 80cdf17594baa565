"""GENERATE and its evaluation as tasks: ``stdpsim generate rate|spiking`` and
``stdpsim evaluate``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .. import runs
from ..data import load_mnist
from ..runs import shown_path, write_json
from .common import (DEFAULT_MODEL, N_TRAIN, SAMPLE_BYTES, Log, info, record_metrics,
                     shares, stages)
from .network import SpikingNetwork

PAPER_SAMPLES = 10_000
"""Samples of the paper's Parzen protocol (fewer give a lower, biased estimate)."""


@dataclasses.dataclass(frozen=True)
class GenerateTask:
    """What ``stdpsim generate`` asks for.

    Attributes
    ----------
    model
        Rate-model file.
    n, seed
        Number of samples; seed of the prior draws (and of the spikes).
    out
        The samples' ``.npy`` (default: a new run folder).
    figure
        Also draw the first 100 samples here; ``""``: beside ``out``.
    network
        Run GENERATE's INFERENCE in this spiking network (None: the rate model).
    """

    model: str = str(DEFAULT_MODEL)
    n: int = 100
    seed: int = 0
    out: str | None = None
    figure: str | None = None
    network: SpikingNetwork | None = None


def generate(task: GenerateTask, log: Log = print) -> Path:
    """Draw the samples, save them (and their figure); returns the samples' file."""
    from .. import model_files, plotting, rate_model

    if task.n < 1:
        raise ValueError(f"--n must be at least 1, got {task.n}")
    runs.check_memory(task.n * SAMPLE_BYTES, f"--n {task.n}")
    out = task.out or str(runs.new_run_folder("generate") / "samples.npy")
    figure = str(Path(out).with_suffix(".png")) if task.figure == "" else task.figure
    runs.check_output(out, "--out", ".npy")
    if figure:
        runs.check_output(figure, "--figure")
    model = model_files.load_model(task.model)
    rng = np.random.default_rng(task.seed)
    net = task.network
    if net is not None:
        from .. import spiking

        params = net.parameters("generation")
        spiking.check_model(model, params)
        x, events, info = spiking.run_generate(model, task.n, rng, params, device=net.device,
                                               seed=net.seed)
        log(f"spiking GENERATE ({net.neuron} units) on {info.device}: run {info.run_s:.1f} s "
            f"({events['synaptic'] / info.run_s / 1e6:.0f} M synaptic events/s), "
            f"build {info.build_s:.1f} s")
    else:
        x = rate_model.generate(model, task.n, rng)
    runs.save_npy(out, x.astype(np.float32))
    log(f"wrote {out}: {x.shape[0]} samples of {x.shape[1]} pixels")
    if figure:
        saved = x[:100].astype(np.float32)
        kind = "spiking GENERATE" if net is not None else "GENERATE"
        plotting.plot_digit_grid(saved, figure, title=f"{len(saved)} {kind} samples "
                                 f"({Path(task.model).name}, seed {task.seed})")
        log(f"wrote {figure}")
    return Path(out)


@dataclasses.dataclass(frozen=True)
class EvaluateTask:
    """What ``stdpsim evaluate`` asks for: the model, the MNIST folder, the number of
    samples and their seed, the results' JSON (default: a new run folder), and whether the
    model card records the result."""

    model: str = str(DEFAULT_MODEL)
    data: str | None = None
    n_samples: int = PAPER_SAMPLES
    seed: int = 0
    out: str | None = None
    update_card: bool = False


def evaluate(task: EvaluateTask, log: Log = print) -> dict:
    """Parzen log-likelihood of the test set under GENERATE and ancestral samples, and the
    digit classes the samples look like; returns the results (also written as JSON)."""
    from .. import evaluation, model_files, rate_model

    if task.n_samples < 2:
        raise ValueError(f"--n-samples must be at least 2, got {task.n_samples}")
    runs.check_memory(task.n_samples * SAMPLE_BYTES, f"--n-samples {task.n_samples}")
    if task.n_samples < PAPER_SAMPLES:
        info(f"note: with {task.n_samples} samples the Parzen estimate is biased low (it "
             f"rises with the number of samples); the paper's protocol, and the numbers in "
             f"the docs, use {PAPER_SAMPLES}")
    out = task.out or str(runs.new_run_folder("evaluate") / "parzen.json")
    runs.check_output(out, "--out", ".json")
    model = model_files.load_model(task.model)
    x_test, _ = load_mnist("test", task.data)
    x_all, y_all = load_mnist("train", task.data)
    x_train, y_train, x_valid = x_all[:N_TRAIN], y_all[:N_TRAIN], x_all[N_TRAIN:]
    rng = np.random.default_rng(task.seed)
    data_share = evaluation.class_proportions(y_train)
    results = {"model": shown_path(task.model), "seed": task.seed,
               "n_samples": task.n_samples, "train_class_share": data_share.round(4).tolist()}
    draw = {"generate": rate_model.generate, "ancestral": rate_model.ancestral_sample}
    bar = stages(4, "evaluate: sample, score, sample, score")
    for name, sampler in draw.items():
        samples = sampler(model, task.n_samples, rng)
        bar.update()
        r = evaluation.score_samples(samples, x_test, x_valid, x_train, y_train)
        bar.update()
        results[name] = r
        fixed = r["fixed_sigma"]
        log(f"{name}: Parzen log-likelihood {r['mean']:.1f} ± {r['sem']:.1f} nats "
            f"(sigma {r['sigma']:.3f} chosen on validation images; at sigma "
            f"{fixed['sigma']:g}: {fixed['mean']:.1f} ± {fixed['sem']:.1f}; "
            f"{r['n_test']} test images, {r['n_samples']} samples); classes "
            + shares(r["class_share"]) + "; by angle " + shares(r["class_share_cosine"]))
    bar.close()
    log("training data classes " + shares(data_share))
    write_json(out, results)
    log(f"wrote {out}")
    if task.update_card:
        record_metrics(task.model, "parzen", {
            kind: {k: results[kind][k] for k in ("mean", "sem", "sigma", "fixed_sigma",
                                                 "n_samples", "class_share_max_abs_diff",
                                                 "class_share_max_abs_diff_cosine")}
            for kind in ("generate", "ancestral")}, log)
    return results
