"""The ``stdpsim`` command line.

Every error a user can cause (a bad option, a missing file, an impossible parameter) is
reported as one line, ``stdpsim: error: ...``, with exit status 2 (usage) or 1 (other).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from . import backend, rate_training, runs, shipped
from .data import HALVES, DataError, default_data_dir, half_mask, load_mnist
from .runs import RunFileError, load_spikes, read_json, shown_path, write_json

_USER_ERRORS = (backend.BackendError, DataError, RunFileError, ValueError)
"""Errors a user's input or environment causes: one line, no traceback (a failed
download is a ValueError too)."""
DEBUG_ENV = "STDPSIM_DEBUG"
"""Set to 1 to get full tracebacks instead of one-line errors."""

SAMPLE_BYTES = 4 * 4 * (784 + 1000 + 1000 + 100)
"""Rough memory per GENERATE sample: float32 pixels, h1, g2(h2) and h2, about four copies of
each alive at once (INFERENCE's states and temporaries)."""


def _check_outputs(folder: str | Path, names: tuple[str, ...], option: str) -> None:
    """Check, before any work, that the files ``names`` can be written into ``folder``."""
    for name in names:
        runs.check_output(Path(folder) / name, option)


def _info(msg: str) -> None:
    click.echo(msg, err=True)


def _stages(total: int, desc: str):
    """A progress bar over a command's ``total`` stages (on stderr, only on a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="stage", leave=False,
                disable=not sys.stderr.isatty())


def _device_option(f):
    return click.option(
        "--device", default="auto", show_default=True,
        help=f"Brian2 target: auto, {', '.join(backend.DEVICES)}.")(f)


def _neuron_option(f):
    from .spiking_network import NEURONS

    return click.option(
        "--neuron", type=click.Choice(NEURONS), default=NEURONS[0], show_default=True,
        help="--spiking: units that are leaky integrate-and-fire neurons (threshold, reset, "
             "refractory period) or Poisson spike sources.")(f)


def _cache_option(f):
    return click.option(
        "--cache", type=click.Path(file_okay=False), default=None,
        help=f"Build cache folder [default: ${backend.CACHE_ENV} or ~/.cache/stdpsim].")(f)


DEFAULT_RATE_MODEL = shipped.model_path(shipped.RATE_MODEL)
"""The shipped rate model (embedded default of generate/evaluate/infer/inpaint)."""
N_TRAIN = 20_000
"""The first N_TRAIN training images train the rate model; the rest validate it."""
TRAIN_ALPHA = rate_training.PRESETS["authors"].alpha
"""INFERENCE's α during training (Algorithm 2), drawn as the reference curve of Figure 4."""
FIGURE4_ALPHA = 0.1
"""Figure 4's α: with it log p(x, h) rises at every INFERENCE step of the shipped model
(with training's α it falls; README, Figure 4)."""


def _data_option(f):
    return click.option("--data", "data_path", type=click.Path(), default=None,
                        help="Folder with the MNIST IDX files [default: $STDPSIM_DATA, else "
                             "where 'stdpsim data fetch' puts them].")(f)


def _card_option(f):
    return click.option("--update-card", is_flag=True,
                        help="Also record the result under 'metrics' in the model's card "
                             "(MODEL.json).")(f)


def _record_metrics(model_path: str, key: str, metrics: dict) -> None:
    """Add ``metrics`` under ``card["metrics"][key]`` of the model card beside the model."""
    card_path = Path(model_path).with_suffix(".json")
    card = read_json(card_path) if card_path.exists() else {}
    card.setdefault("metrics", {})[key] = metrics
    write_json(card_path, card)
    click.echo(f"recorded {key} metrics in {card_path}")


def _n_images_option(f):
    return click.option("--n-images", type=int, default=None,
                        help="First N test images [default: the whole test set].")(f)


def _test_images(data_path: str | None, n_images: int | None, minimum: int = 1,
                 option: str = "--n-images") -> np.ndarray:
    """The MNIST test images, or the first ``n_images`` of them (checked; ``option`` names
    the flag in the error)."""
    x, _ = load_mnist("test", data_path)
    if n_images is None:
        return x
    if not minimum <= n_images <= x.shape[0]:
        raise ValueError(f"{option} must be in {minimum}..{x.shape[0]}, got {n_images}")
    return x[:n_images]


def _model_option(f):
    return click.option("--model", "model_path", type=click.Path(dir_okay=False),
                        default=str(DEFAULT_RATE_MODEL), show_default=True,
                        help="Rate-model file (.npz).")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stdpsim")
def cli() -> None:
    """stdpsim: spike-timing-dependent plasticity as gradient descent, in Brian2."""


def _out_dir_option(command: str, what: str):
    """``--out-dir`` of a command that writes several files: a new run folder by default."""
    return click.option("--out-dir", type=click.Path(file_okay=False), default=None,
                        help=f"Where {what} go [default: a new folder runs/{command}-<time>/]."
                        )


def _out_dir(out_dir: str | None, command: str) -> Path:
    """``--out-dir``, or a new run folder for ``command``."""
    return Path(out_dir) if out_dir is not None else runs.new_run_folder(command)


def _spiking_train_defaults():
    """``train --model spiking``'s run settings (for help texts)."""
    from .spiking_training import SpikingTrainConfig

    return SpikingTrainConfig()


def _in_unit(quantity, unit: str) -> str:
    """A Brian2 quantity as a number of ``unit`` (a Brian2 unit's name), for help texts."""
    import brian2

    return f"{float(quantity / getattr(brian2, unit)):g}"


def _spiking_default(name: str, unit: str) -> str:
    """The spiking network's default ``name`` in ``unit`` (for help texts)."""
    from .spiking_network import SpikingParameters

    return _in_unit(getattr(SpikingParameters(), name), unit)


def _training_default(name: str, unit: str) -> str:
    """``train --model spiking``'s default ``name`` in ``unit`` (for help texts)."""
    from .spiking_training import training_network

    return _in_unit(training_network()[name], unit)


def _ensemble_options(flag_scope: str) -> Callable:
    """``--ensemble`` (neurons per unit), ``--tau-m`` (LIF membrane time constant) and
    ``--member-sigma`` (LIF ensemble members' own noise)."""
    def decorate(fn: Callable) -> Callable:
        fn = click.option(
            "--member-sigma", type=click.FloatRange(min=0), default=None,
            help=f"{flag_scope}: LIF ensembles: standard deviation of each member's own "
                 "membrane noise in mV (about 0.2 reset depths at 20-50 Hz, e.g. 2 at "
                 "--r-max 50 --tau-m 20; more at higher rates) [default: 0].")(fn)
        fn = click.option(
            "--tau-m", type=float, default=None,
            help=f"{flag_scope}: LIF membrane time constant in ms (with --ensemble at "
                 "cortical rates e.g. 20) [default: "
                 f"{_spiking_default('tau_m', 'ms')}].")(fn)
        return click.option(
            "--ensemble", type=click.IntRange(min=1), default=1, show_default=True,
            help=f"{flag_scope}: neurons per unit, each firing at up to --r-max (e.g. "
                 "--ensemble 10 --r-max 200: cortical rates).")(fn)
    return decorate


def _fig1_defaults():
    """Figure 1's default configuration (the help texts quote it)."""
    from .stdp_curve import STDPCurveConfig

    return STDPCurveConfig()


@cli.command("stdp-curve")
@_device_option
@_cache_option
@_out_dir_option("stdp-curve", "fig1_stdp_curve.png/.json and the spikes (spikes.npz)")
@click.option("--spikes-dir", type=click.Path(file_okay=False), default=None,
              help="Where the run's spikes.npz goes instead [default: --out-dir].")
@click.option("--trials", type=int, default=None,
              help="Trials per slope in the main condition "
                   f"[default: {_fig1_defaults().main.n_trials}].")
@click.option("--dt-ms", type=float, default=None,
              help=f"Time step in ms [default: {_fig1_defaults().dt_ms:g}].")
@click.option("--duration-ms", type=float, default=None,
              help="Simulated time in ms, pre spike in the middle "
                   f"[default: {_fig1_defaults().duration_ms:g}].")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help=f"Random seed [default: {_fig1_defaults().seed}].")
def stdp_curve_cmd(device: str, cache: str | None, out_dir: str | None,
                   spikes_dir: str | None, trials: int | None, dt_ms: float | None,
                   duration_ms: float | None, seed: int | None) -> None:
    """Figure 1: the STDP curve of the rule ΔW ∝ S_pre·dV_post/dt in LIF neurons.

    Example: stdpsim stdp-curve --device cpp_standalone
    """
    from . import plotting, stdp_curve

    cfg = _fig1_defaults()
    changes: dict = {}
    if trials is not None:
        if trials < 1:
            raise ValueError(f"--trials must be at least 1, got {trials}")
        changes["main"] = dataclasses.replace(cfg.main, n_trials=trials)
    if dt_ms is not None:
        changes["dt_ms"] = dt_ms
    if duration_ms is not None:
        if not duration_ms > 0:
            raise ValueError(f"--duration-ms must be positive, got {duration_ms}")
        changes.update(duration_ms=duration_ms, t_pre_ms=duration_ms / 2)
    if seed is not None:
        changes["seed"] = seed
    cfg = dataclasses.replace(cfg, **changes)
    cfg.validate()
    out = _out_dir(out_dir, "stdp-curve")
    spikes = Path(spikes_dir or out) / "spikes.npz"
    _check_outputs(out, ("fig1_stdp_curve.json", "fig1_stdp_curve.png"), "--out-dir")
    runs.check_output(spikes, "--spikes-dir" if spikes_dir else "--out-dir")
    device = backend.resolve_device(device)
    _info(f"stdp-curve: {sum(c.n_neurons for c in cfg.conditions)} trials on {device} "
          "(the first cpp_standalone/cython run compiles; later runs reuse the build)")
    results = stdp_curve.run_experiment(cfg, device=device, cache=cache, spikes_path=spikes)
    json_path = write_json(out / "fig1_stdp_curve.json", results)
    png_path = plotting.plot_stdp_curve(read_json(json_path), out / "fig1_stdp_curve.png")
    f = results["fit"]
    click.echo(
        f"fit: A+ = {f['A_plus']:.4g} mV, tau+ = {f['tau_plus_ms']:.2f} ms; "
        f"A- = {f['A_minus']:.4g} mV, tau- = {f['tau_minus_ms']:.2f} ms "
        f"(Bi & Poo: tau+ = {stdp_curve.BI_POO_TAU_PLUS_MS}, "
        f"tau- = {stdp_curve.BI_POO_TAU_MINUS_MS} ms)")
    click.echo(f"shape checks: {results['checks']}")
    click.echo(f"simulation {results['sim_s']:.2f} s, build {results['build_s']:.2f} s "
               f"(cached: {results['build_cached']}), total {results['wall_s']:.2f} s")
    click.echo(f"wrote {json_path}, {png_path}, {spikes}")


@cli.command("raster")
@click.argument("run", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="PNG to write [default: raster.png in a new folder runs/raster-<time>/].")
@click.option("--max-neurons", type=int, default=300, show_default=True,
              help="Neurons drawn, evenly spaced through the run's display order.")
@click.option("--rows", default=None,
              help="START:STOP slice of the display order, or 'main' for the run's main "
                   "condition (Figure-1 runs) [default: all].")
@click.option("--t-min-ms", type=float, default=None, help="Start of the time axis (ms).")
@click.option("--t-max-ms", type=float, default=None, help="End of the time axis (ms).")
def raster_cmd(run: str, out: str | None, max_neurons: int, rows: str | None,
               t_min_ms: float | None, t_max_ms: float | None) -> None:
    """Plot a spike raster (neuron against time in ms) of a saved run.

    RUN is a spike file (.npz) or a run folder holding spikes.npz.

    Example: stdpsim raster runs/fig1_stdp_curve --rows main --t-min-ms 40 --t-max-ms 200
    """
    from . import plotting

    if t_min_ms is not None and t_max_ms is not None and t_min_ms >= t_max_ms:
        raise ValueError(f"--t-min-ms ({t_min_ms:g}) must be below --t-max-ms ({t_max_ms:g})")
    spikes = load_spikes(run)
    row_range = None
    if rows == "main":
        if "main_rows" not in spikes["meta"]:
            raise ValueError("--rows main: this run has no main condition")
        row_range = tuple(spikes["meta"]["main_rows"])
    elif rows is not None:
        parts = rows.split(":")
        if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise ValueError(f"--rows must be START:STOP or 'main', got {rows!r}")
        row_range = (int(parts[0]), int(parts[1]))
    target = Path(out) if out else runs.new_run_folder("raster") / "raster.png"
    runs.check_output(target, "--out")
    path = plotting.plot_raster(spikes, target, max_neurons=max_neurons, rows=row_range,
                                t_min_ms=t_min_ms, t_max_ms=t_max_ms)
    click.echo(f"{spikes['spike_i'].size} spikes of {int(spikes['n'])} neurons; wrote {path}")


@cli.group("data", invoke_without_command=True)
@_data_option
@click.pass_context
def data_cmd(ctx: click.Context, data_path: str | None) -> None:
    """Check and summarise the MNIST IDX files; 'stdpsim data fetch' downloads them.

    Examples: stdpsim data fetch; stdpsim data --data ../shared/data/mnist
    """
    if ctx.invoked_subcommand is not None:
        return
    for split in ("train", "test"):
        x, y = load_mnist(split, data_path)
        counts = " ".join(str(c) for c in np.bincount(y, minlength=10))
        click.echo(f"{split}: {x.shape[0]} images of {x.shape[1]} pixels in "
                   f"[{x.min():.0f}, {x.max():.0f}]; per-digit counts {counts}")


@data_cmd.command("fetch")
@click.option("--dest", type=click.Path(file_okay=False), default=None,
              help=f"Folder for the files [default: {default_data_dir()}, which the other "
                   "commands read when neither --data nor $STDPSIM_DATA is given].")
@click.option("--mirror", "mirrors", multiple=True,
              help="Base URL to download from instead of the public mirrors (repeatable, "
                   "tried in order); the files must still match the published checksums.")
def data_fetch_cmd(dest: str | None, mirrors: tuple[str, ...]) -> None:
    """Download the four MNIST IDX files (about 11 MB) from public mirrors, tried in order,
    and check each against its published MD5 checksum.

    Example: stdpsim data fetch
    """
    from . import download

    folder = download.fetch_mnist(dest, mirrors=mirrors or download.MIRRORS,
                                  log=click.echo)
    click.echo(f"MNIST is in {folder}")


def _train_options(f):
    """The ``train`` options that override one setting of the chosen preset."""
    opts = [
        click.option("--sizes", default=None,
                     help="Layer widths, visible first, e.g. 784,1000,500,100 for three "
                          "hidden layers [default: 784,1000,100]."),
        click.option("--rule", type=click.Choice(list(rate_training.RULES)), default=None,
                     help="local: Algorithm 2's local losses; sdvdt: the rate twin of the "
                          "spiking S·dV/dt learner (plain SGD, --lr per example)."),
        click.option("--decoder-hidden", type=click.Choice(["softplus", "linear"]),
                     default=None, help="Activation of g2 (and of deeper hidden decoders)."),
        click.option("--loss", type=click.Choice(list(rate_training.LOSSES)), default=None,
                     help="Layer loss gradient: through the nonlinearity, or the delta rule."),
        click.option("--optimizer", type=click.Choice(list(rate_training.OPTIMIZERS)),
                     default=None, help="Centred RMSprop with momentum, or Adam."),
        click.option("--lr", type=float, default=None, help="Learning rate of every layer."),
        click.option("--batch-size", type=int, default=None,
                     help="Examples per minibatch [default: 100]; 1 makes --rule sdvdt learn "
                          "online, as the spiking learner does."),
        click.option("--lr-encoders", type=float, default=None,
                     help="Learning rate of f1, f2, ..."),
        click.option("--lr-decoders", type=float, default=None,
                     help="Learning rate of g1, g2, ..."),
        click.option("--lr-final", type=float, default=None,
                     help="Last epoch's learning rate as a fraction of the first (cosine "
                          "schedule; 1 = constant)."),
        click.option("--weight-decay", type=float, default=None,
                     help="Decoupled weight decay."),
        click.option("--noise", type=float, default=None,
                     help="One Gaussian corruption s.d. for x, the encoders' and the "
                          "decoders' inputs (sets the three below)."),
        click.option("--noise-x", type=float, default=None, help="Corruption s.d. of x (f1)."),
        click.option("--noise-h", type=float, default=None,
                     help="Corruption s.d. of the inputs of f2, f3, ..."),
        click.option("--noise-g", type=float, default=None,
                     help="Corruption s.d. of the inputs of g1, ... (not the top decoder, "
                          "whose input is the mean of 3 Bernoulli draws)."),
        click.option("--init", type=click.Choice(["orthogonal", "gaussian"]), default=None,
                     help="Initial weights."),
        click.option("--prior-var-scale", type=float, default=None,
                     help="Prior variance as a multiple of the inferred top layer's variance "
                          "(the authors' 16 = 4 × the s.d.; the paper's text says 4)."),
        click.option("--valid-every", type=int, default=None,
                     help="Score validation Parzen every N epochs and keep the best epoch "
                          "(0: keep the last)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


_NON_NEGATIVE = ("noise", "noise_x", "noise_h", "noise_g", "weight_decay", "valid_every")


def _check_override(key: str, value: float) -> None:
    """The range checks a ``train`` option shares between the rate and spiking models."""
    flag = "--" + key.replace("_", "-")
    if key in _NON_NEGATIVE and value < 0:
        raise ValueError(f"{flag} must be non-negative, got {value}")
    if key.startswith("lr") and key != "lr_final" and not value > 0:
        raise ValueError(f"{flag} must be positive, got {value}")
    if key == "lr_final" and not 0 < value <= 1:
        raise ValueError(f"--lr-final must be in (0, 1], got {value}")


def _train_config(preset: str, epochs: int | None, seed: int, overrides: dict
                  ) -> "rate_training.TrainConfig":
    """The preset with the command line's overrides, each checked with a message naming
    its flag."""
    changes: dict = {"seed": seed}
    if epochs is not None:
        if epochs < 1:
            raise ValueError(f"--epochs must be at least 1, got {epochs}")
        changes["epochs"] = epochs
    for key, value in overrides.items():
        if value is None:
            continue
        _check_override(key, value)
        if key == "batch_size" and value < 1:
            raise ValueError(f"--batch-size must be at least 1, got {value}")
        if key == "prior_var_scale" and not value > 0:
            raise ValueError(f"--prior-var-scale must be positive, got {value}")
        if key == "sizes":
            try:
                value = tuple(int(v) for v in value.split(","))
            except ValueError:
                raise ValueError(f"--sizes must be comma-separated integers, got "
                                 f"{value!r}") from None
        if key == "noise":
            changes.update(noise_x=value, noise_h=value, noise_g=value)
        elif key == "lr":
            changes.update(lr_encoders=value, lr_decoders=value)
        else:
            changes[key] = value
    return dataclasses.replace(rate_training.PRESETS[preset], **changes)


@cli.command("train")
@click.option("--model", "kind", type=click.Choice(["rate", "spiking"]), default="rate",
              show_default=True,
              help="rate: the rate model (numpy); spiking: LIF neurons in Brian2 learning "
                   "with ΔW = η·S_pre·dV_post/dt.")
@click.option("--preset", type=click.Choice(list(rate_training.PRESETS)), default="authors",
              show_default=True,
              help="authors: the settings of the authors' published training script; "
                   "adam-v1: this project's first shipped model.")
@click.option("--epochs", type=int, default=None,
              help="Passes over the training set [default: the preset's, "
                   + " / ".join(f"{n} {p.epochs}" for n, p in rate_training.PRESETS.items())
                   + f"; {_spiking_train_defaults().epochs} with --model spiking].")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@_data_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where the trained model goes (never the shipped model unless asked) "
                   "[default: runs/rate_mnist.npz, or runs/spiking_mnist.npz with --model "
                   "spiking].")
@click.option("--resume", is_flag=True, help="Continue from OUT's checkpoint (OUT.ckpt.npz).")
@_train_options
@click.option("--chunk", type=int, default=None,
              help="--model spiking: examples per compiled simulation run and checkpoint "
                   f"[default: {_spiking_train_defaults().chunk}].")
@click.option("--max-chunks", type=int, default=None,
              help="--model spiking: stop after this many chunks in this call (resume later).")
@click.option("--r-max", type=float, default=None,
              help="--model spiking: top firing rate in Hz "
                   f"[default: {_training_default('r_max', 'Hz')}].")
@click.option("--tau", type=float, default=None,
              help="--model spiking: INFERENCE time constant in ms "
                   f"[default: {_training_default('tau', 'ms')}].")
@_ensemble_options("--model spiking")
@_device_option
def train_cmd(kind: str, preset: str, epochs: int | None, seed: int, data_path: str | None,
              out: str | None, resume: bool, chunk: int | None, max_chunks: int | None,
              r_max: float | None, tau: float | None, ensemble: int, tau_m: float | None,
              member_sigma: float | None, device: str, **overrides) -> None:
    """Train the generative model: the rate model (layer-local targetprop, Algorithm 2, or
    with --rule sdvdt its spiking learner's rate twin), or with --model spiking LIF neurons
    in Brian2 whose synapses learn by ΔW = η·S_pre·dV_post/dt, no gradient computed outside
    the simulation.

    Every setting of the preset can be changed by its option; all are recorded in the model
    card (OUT.json).  With validation scoring (the authors' preset) the saved model is the
    epoch with the best validation Parzen log-likelihood.

    Examples: stdpsim train --data ../shared/data/mnist --out runs/rate.npz;
    stdpsim train --model spiking --data ../shared/data/mnist --out runs/spiking.npz
    """
    out = out or f"runs/{kind}_mnist.npz"
    if kind == "spiking":
        settings = _spiking_settings(epochs, seed, chunk, max_chunks,
                                     {"r_max": r_max, "tau": tau, "tau_m": tau_m,
                                      "ensemble": ensemble, "member_sigma": member_sigma},
                                     overrides)
        runs.check_output(out, "--out", ".npz")
    else:
        spiking_only = {"--chunk": chunk, "--max-chunks": max_chunks, "--r-max": r_max,
                        "--tau": tau, "--tau-m": tau_m, "--member-sigma": member_sigma,
                        "--ensemble": None if ensemble == 1 else ensemble}
        given = [flag for flag, value in spiking_only.items() if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: only for --model spiking")
        cfg = _train_config(preset, epochs, seed, overrides)
    x, _ = load_mnist("train", data_path)
    if x.shape[0] <= N_TRAIN:
        raise ValueError(f"need more than {N_TRAIN} training images, found {x.shape[0]}")
    x_train, x_valid = x[:N_TRAIN], x[N_TRAIN:]
    if kind == "spiking":
        _train_spiking(x_train, x_valid, out, resume, max_chunks, device, *settings)
        return
    model = rate_training.train_model(x_train, x_valid, cfg, out, resume=resume,
                                      command="stdpsim " + " ".join(sys.argv[1:]),
                                      preset=preset)
    click.echo(f"wrote {out} (epoch {model.meta['chosen_epoch']} of {cfg.epochs}; model card "
               f"{Path(out).with_suffix('.json')})")


SPIKING_TRAIN_OPTIONS = ("lr", "lr_encoders", "lr_decoders", "lr_final")
"""The rate model's training options that ``train --model spiking`` also takes."""


def _network_options(options: dict[str, Any]) -> dict[str, Any]:
    """The spiking network's options given on the command line (None: not given) with their
    units: r_max in Hz, tau, tau_syn and tau_m in ms, ensemble a count, member_sigma in mV."""
    from brian2 import Hz, mV, ms

    units = {"r_max": Hz, "tau": ms, "tau_syn": ms, "tau_m": ms, "ensemble": 1,
             "member_sigma": mV}
    return {k: v * units[k] for k, v in options.items() if v is not None}


def _spiking_settings(epochs: int | None, seed: int, chunk: int | None,
                      max_chunks: int | None, network_options: dict[str, Any],
                      overrides: dict) -> tuple:
    """``train --model spiking``'s settings from its options, each checked with a message
    naming its flag: (SpikingTrainConfig, SpikingParameters, LearningParameters).
    ``network_options``: r_max (Hz), tau, tau_m (ms), ensemble, member_sigma (mV); None:
    the default."""
    from . import spiking_training

    rate_only = [f"--{k.replace('_', '-')}" for k, v in overrides.items()
                 if v is not None and k not in SPIKING_TRAIN_OPTIONS]
    if rate_only:
        raise ValueError(f"{', '.join(rate_only)}: only for the rate model (--model rate)")
    if max_chunks is not None and max_chunks < 1:
        raise ValueError(f"--max-chunks must be at least 1, got {max_chunks}")
    for key in SPIKING_TRAIN_OPTIONS:
        if overrides.get(key) is not None:
            _check_override(key, overrides[key])
    lr = {k: overrides.get(k) for k in ("lr_encoders", "lr_decoders")}
    if overrides.get("lr") is not None:
        lr = {k: overrides["lr"] for k in lr}
    cfg_args: dict = {"seed": seed}
    if overrides.get("lr_final") is not None:
        cfg_args["lr_final"] = overrides["lr_final"]
    if epochs is not None:
        if epochs < 1:
            raise ValueError(f"--epochs must be at least 1, got {epochs}")
        cfg_args["epochs"] = epochs
    if chunk is not None:
        if chunk < 1 or N_TRAIN % chunk:
            raise ValueError(f"--chunk must divide the {N_TRAIN} training images, got {chunk}")
        # validation about as often as the default, at the end of a chunk
        every = spiking_training.SpikingTrainConfig.valid_every
        cfg_args.update(chunk=chunk, valid_every=chunk * max(1, round(every / chunk)))
    network = {k: v for k, v in lr.items() if v is not None}
    network.update(_network_options(network_options))
    return (spiking_training.SpikingTrainConfig(**cfg_args),
            *spiking_training.training_parameters(**network))


def _train_spiking(x_train: np.ndarray, x_valid: np.ndarray, out: str, resume: bool,
                   max_chunks: int | None, device: str, cfg, params, learning) -> None:
    """``stdpsim train --model spiking``: train, save, report."""
    from . import spiking_training

    model = spiking_training.train_model(
        x_train, x_valid, cfg, params, learning, out, resume=resume,
        command="stdpsim " + " ".join(sys.argv[1:]), device=device, max_chunks=max_chunks)
    click.echo(f"wrote {out} ({model.meta['examples_seen']} examples seen"
               f"{'' if model.meta['finished'] else ', not finished: go on with --resume'}; "
               f"model card {Path(out).with_suffix('.json')})")


@cli.command("generate")
@_model_option
@click.option("--n", type=int, default=100, show_default=True, help="Number of samples.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Output .npy file, (N, 784) floats in [0, 1] [default: samples.npy in a "
                   "new folder runs/generate-<time>/].")
@click.option("--figure", type=click.Path(dir_okay=False), is_flag=False, flag_value="",
              default=None,
              help="Also draw the first 100 samples into this image (e.g. .png); alone, "
                   "into a .png beside --out.")
@click.option("--spiking", is_flag=True,
              help="GENERATE's 3 rounds of INFERENCE run in the spiking network (Brian2), "
                   "all samples in one simulation.")
@_neuron_option
@_device_option
def generate_cmd(model_path: str, n: int, seed: int, out: str | None, figure: str | None,
                 spiking: bool, neuron: str, device: str) -> None:
    """GENERATE samples from the rate model (prior, decoder, 3 rounds of INFERENCE), or with
    --spiking with spiking INFERENCE.

    Examples: stdpsim generate --n 100 --figure;
    stdpsim generate --spiking --n 100 --out spiking.npy --figure spiking.png
    """
    from . import plotting, rate_model

    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    runs.check_memory(n * SAMPLE_BYTES, f"--n {n}")
    out = out or str(runs.new_run_folder("generate") / "samples.npy")
    if figure == "":
        figure = str(Path(out).with_suffix(".png"))
    runs.check_output(out, "--out", ".npy")
    if figure:
        runs.check_output(figure, "--figure")
    model = rate_model.load_model(model_path)
    rng = np.random.default_rng(seed)
    if spiking:
        from . import spiking_network

        params = spiking_network.generate_parameters(neuron=neuron)
        x, events, info = spiking_network.run_generate(model, n, rng, params, device=device,
                                                       seed=seed)
        click.echo(f"spiking GENERATE ({neuron} units) on {info.device}: run {info.run_s:.1f} s "
                   f"({events['synaptic'] / info.run_s / 1e6:.0f} M synaptic events/s), "
                   f"build {info.build_s:.1f} s")
    else:
        x = rate_model.generate(model, n, rng)
    runs.save_npy(out, x.astype(np.float32))
    click.echo(f"wrote {out}: {x.shape[0]} samples of {x.shape[1]} pixels")
    if figure:
        saved = x[:100].astype(np.float32)
        kind = "spiking GENERATE" if spiking else "GENERATE"
        plotting.plot_digit_grid(saved, figure, title=f"{len(saved)} {kind} samples "
                                 f"({Path(model_path).name}, seed {seed})")
        click.echo(f"wrote {figure}")


def _shares(share) -> str:
    """Class shares as "0:10% 1:11% ..."."""
    return " ".join(f"{c}:{100 * p:.0f}%" for c, p in enumerate(share))


@cli.command("evaluate")
@_model_option
@_data_option
@click.option("--n-samples", type=int, default=10_000, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Results JSON [default: parzen.json in a new folder runs/evaluate-<time>/].")
@_card_option
def evaluate_cmd(model_path: str, data_path: str | None, n_samples: int, seed: int,
                 out: str | None, update_card: bool) -> None:
    """Parzen log-likelihood of the MNIST test set under GENERATE and ancestral samples,
    and the digit classes the samples look like (5 nearest training images, by Euclidean
    distance and by angle).

    Example: stdpsim evaluate --data ../shared/data/mnist
    """
    from . import evaluation, rate_model

    if n_samples < 2:
        raise ValueError(f"--n-samples must be at least 2, got {n_samples}")
    runs.check_memory(n_samples * SAMPLE_BYTES, f"--n-samples {n_samples}")
    out = out or str(runs.new_run_folder("evaluate") / "parzen.json")
    runs.check_output(out, "--out", ".json")
    model = rate_model.load_model(model_path)
    x_test, _ = load_mnist("test", data_path)
    x_all, y_all = load_mnist("train", data_path)
    x_train, y_train, x_valid = x_all[:N_TRAIN], y_all[:N_TRAIN], x_all[N_TRAIN:]
    rng = np.random.default_rng(seed)
    data_share = evaluation.class_proportions(y_train)
    results = {"model": shown_path(model_path), "seed": seed, "n_samples": n_samples,
               "train_class_share": data_share.round(4).tolist()}
    draw = {"generate": rate_model.generate, "ancestral": rate_model.ancestral_sample}
    bar = _stages(4, "evaluate: sample, score, sample, score")
    for name, sampler in draw.items():
        samples = sampler(model, n_samples, rng)
        bar.update()
        r = evaluation.score_samples(samples, x_test, x_valid, x_train, y_train)
        bar.update()
        results[name] = r
        fixed = r["fixed_sigma"]
        click.echo(f"{name}: Parzen log-likelihood {r['mean']:.1f} ± {r['sem']:.1f} nats "
                   f"(sigma {r['sigma']:.3f} chosen on validation images; at sigma "
                   f"{fixed['sigma']:g}: {fixed['mean']:.1f} ± {fixed['sem']:.1f}; "
                   f"{r['n_test']} test images, {r['n_samples']} samples); classes "
                   + _shares(r["class_share"])
                   + "; by angle " + _shares(r["class_share_cosine"]))
    bar.close()
    click.echo("training data classes " + _shares(data_share))
    write_json(out, results)
    click.echo(f"wrote {out}")
    if update_card:
        _record_metrics(model_path, "parzen", {
            kind: {k: results[kind][k] for k in ("mean", "sem", "sigma", "fixed_sigma",
                                                 "n_samples",
                                                 "class_share_max_abs_diff",
                                                 "class_share_max_abs_diff_cosine")}
            for kind in ("generate", "ancestral")})


@cli.command("infer")
@_model_option
@_data_option
@click.option("--n-steps", type=int, default=20, show_default=True,
              help="INFERENCE iterations.")
@_n_images_option
@click.option("--n-traces", type=click.IntRange(min=0), default=20, show_default=True,
              help="Individual traces drawn in panel b.")
@_out_dir_option("infer", "fig4_inference_loglik.png/.json (with --spiking "
                 "spiking_inference.png/.json and spiking_inference_spikes.npz)")
@_card_option
@click.option("--spiking", is_flag=True,
              help="Spiking INFERENCE in Brian2 on the first --digits test digits, in one "
                   "simulation, beside the rate model (spiking_inference.png/.json; spikes of "
                   "the first 2 digits in spiking_inference_spikes.npz, which stdpsim raster "
                   "draws).")
@click.option("--alpha", type=float, default=None,
              help="Pull α of each hidden layer towards the layer above's prediction "
                   f"[default: 0.1; with --spiking {TRAIN_ALPHA}, training's value]; Figure 4 "
                   "draws Algorithm 2 as trained and the curve without the prior's term "
                   "beside it.")
@click.option("--prior-alpha", type=float, default=0.001, show_default=True,
              help="Weight β of the prior's term β(μ − h_L)/σ² in the top layer's update "
                   "(0: Algorithm 2's own update).")
@click.option("--digits", type=int, default=100, show_default=True,
              help="Test digits for --spiking.")
@click.option("--r-max", type=float, default=None,
              help="--spiking: top firing rate in Hz "
                   f"[default: {_spiking_default('r_max', 'Hz')}].")
@click.option("--tau", type=float, default=None,
              help="--spiking: membrane time constant in ms; one step lasts δ·tau "
                   f"[default: {_spiking_default('tau', 'ms')}].")
@click.option("--tau-syn", type=float, default=None,
              help="--spiking: synaptic trace time constant in ms "
                   f"[default: {_spiking_default('tau_syn', 'ms')}].")
@_ensemble_options("--spiking")
@_neuron_option
@_device_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="--spiking: noise seed.")
def infer_cmd(model_path: str, data_path: str | None, n_steps: int, n_images: int | None,
              n_traces: int, out_dir: str | None, update_card: bool, spiking: bool,
              alpha: float, prior_alpha: float, digits: int,
              r_max: float | None, tau: float | None, tau_syn: float | None,
              ensemble: int, tau_m: float | None, member_sigma: float | None, neuron: str,
              device: str, seed: int) -> None:
    """log p(x, h) along INFERENCE on the test set (the paper's Figure 4), or with
    --spiking along spiking INFERENCE, with the rasters of every population.

    Examples: stdpsim infer --data ../shared/data/mnist;
    stdpsim infer --spiking --digits 1000 --data ../shared/data/mnist
    """
    from . import evaluation, plotting, rate_model

    if n_steps < 1:
        raise ValueError(f"--n-steps must be at least 1, got {n_steps}")
    if alpha is not None and alpha < 0:
        raise ValueError(f"--alpha must be non-negative, got {alpha}")
    names = ("spiking_inference.json", "spiking_inference.png",
             SPIKING_INFERENCE_SPIKES) if spiking else ("fig4_inference_loglik.json",
                                            "fig4_inference_loglik.png")
    out = _out_dir(out_dir, "infer")
    _check_outputs(out, names, "--out-dir")
    if spiking:
        _infer_spiking(model_path, data_path, n_steps, digits,
                       {"r_max": r_max, "tau": tau, "tau_syn": tau_syn, "tau_m": tau_m,
                        "ensemble": ensemble, "member_sigma": member_sigma}, neuron,
                       device, seed, out, TRAIN_ALPHA if alpha is None else alpha)
        return
    given = [f for f, v in (("--ensemble", ensemble != 1), ("--tau-m", tau_m is not None),
                            ("--member-sigma", member_sigma is not None)) if v]
    if given:
        raise ValueError(f"{', '.join(given)}: only with --spiking")
    alpha = FIGURE4_ALPHA if alpha is None else alpha
    if prior_alpha < 0:
        raise ValueError(f"--prior-alpha must be non-negative, got {prior_alpha}")
    model = rate_model.load_model(model_path)
    x = _test_images(data_path, n_images, minimum=2)  # a standard error needs two
    # the chosen setting first, then Algorithm 2 as trained and without the prior's term
    settings = [(alpha, prior_alpha), (TRAIN_ALPHA, 0.0), (alpha, 0.0)]
    settings = list(dict.fromkeys(settings))
    curves, traces = [], None
    bar = _stages(len(settings), "infer: settings")
    for a, beta in settings:
        lp = rate_model.inference_log_joint(model, x, n_steps, alpha=a, prior_alpha=beta)
        bar.update()
        rise = evaluation.rise_summary(lp.mean(axis=1))
        traces = lp[:, :n_traces].T.tolist() if traces is None else traces
        curves.append({"alpha": a, "prior_alpha": beta, "mean": lp.mean(axis=1).tolist(),
                       "sem": (lp.std(axis=1, ddof=1) / np.sqrt(x.shape[0])).tolist(),
                       "mean_increase_per_step": rise["increase_per_step"],
                       "rises_every_step": rise["rises_every_step"],
                       "smallest_step": rise["smallest_step"],
                       "share_of_images_rising_overall": float(np.mean(lp[-1] > lp[0]))})
        click.echo(f"alpha {a:g}, prior term beta {beta:g}: log p(x,h) {lp[0].mean():.1f} -> "
                   f"{lp[-1].mean():.1f} nats over {n_steps} iterations ({x.shape[0]} test "
                   f"images); mean rises at every step: {rise['rises_every_step']} (smallest "
                   f"step {rise['smallest_step']:+.3f} nats)")
    bar.close()
    results = {"model": shown_path(model_path), "n_images": int(x.shape[0]),
               "n_steps": n_steps, **curves[0], "traces": traces, "curves": curves}
    write_json(out / "fig4_inference_loglik.json", results)
    plotting.plot_inference_loglik(read_json(out / "fig4_inference_loglik.json"),
                                   out / "fig4_inference_loglik.png")
    click.echo(f"wrote {out / 'fig4_inference_loglik.png'} and .json")
    if update_card:
        _record_metrics(model_path, "inference_log_p", {
            "n_images": results["n_images"], **{
                f"alpha {c['alpha']:g}, beta {c['prior_alpha']:g}": {
                    "start": c["mean"][0], "end": c["mean"][-1],
                    "rises_every_step": c["rises_every_step"],
                    "smallest_step": c["smallest_step"]} for c in curves}})


RASTER_DIGITS = 2
"""``infer --spiking`` records the spikes of this many digits (the rasters), counts the rest."""
SPIKING_INFERENCE_SPIKES = "spiking_inference_spikes.npz"
"""``infer --spiking``'s spike file (a spike file ``stdpsim raster`` reads, populations
labelled)."""


def _infer_spiking(model_path: str, data_path: str | None, n_steps: int, digits: int,
                   network: dict[str, Any], neuron: str, device: str, seed: int, out: Path,
                   alpha: float) -> None:
    """``stdpsim infer --spiking``: run, compare with the rate model, save, plot.
    ``network``: the options r_max (Hz), tau, tau_syn, tau_m (ms), ensemble, member_sigma
    (mV); None: default."""
    from . import plotting, rate_model, spiking_network

    params = spiking_network.SpikingParameters(n_steps=n_steps, alpha=alpha, neuron=neuron,
                                               **_network_options(network))
    model = rate_model.load_model(model_path)
    spiking_network.check_model(model)  # two hidden layers that chain
    x = _test_images(data_path, digits, option="--digits")
    summary = spiking_network.parameters_summary(params)
    _info(f"infer --spiking: {digits} test digits, {digits * summary['t_digit_ms']:.0f} ms of "
          f"biological time on {backend.resolve_device(device)} ({neuron} units"
          + (f", {params.ensemble} neurons per unit" if params.ensemble > 1 else "")
          + (f" with their own noise of {summary['member_sigma_mv']:g} mV"
             if "member_sigma_mv" in summary else "")
          + f", r_max {summary['r_max_hz']:g} Hz, tau {summary['tau_ms']:g} ms)")
    # every spike of a long run would take gigabytes: count them, and record the rasters in
    # a second, short run of the first digits (same network and seed)
    result = spiking_network.run_inference(model, x, params, device=device, seed=seed,
                                           record_spikes=False)
    n_raster = min(RASTER_DIGITS, digits)
    raster = spiking_network.run_inference(model, x[:n_raster], params, device=device,
                                           seed=seed, record_spikes=True)
    comparison = spiking_network.compare_with_rate(result, model, x)
    info = result.info
    biological_s = digits * summary["t_digit_ms"] / 1000
    results = {"model": shown_path(model_path), "device": info.device, "seed": seed,
               "n_digits": digits, "params": summary, "t_digit_ms": summary["t_digit_ms"],
               "t_settle_ms": summary["t_settle_ms"], "step_ms": summary["step_ms"],
               **comparison,
               "events": result.events,
               "raster": {"n_digits": n_raster,
                          "spike_counts": {k: int(v[0].size) for k, v in raster.spikes.items()}},
               "timing": {"wall_s": info.wall_s, "build_s": info.build_s,
                          "compile_s": info.compile_s, "run_s": info.run_s,
                          "cached_build": info.cached, "biological_s": biological_s,
                          "run_s_per_biological_s": info.run_s / biological_s,
                          "synaptic_events_per_s": result.events["synaptic"] / info.run_s}}
    sizes = [n * params.ensemble for n in model.sizes]  # neurons, members with ensembles
    t_digit = summary["t_digit_ms"]
    spikes_path = runs.save_population_spikes(
        out / SPIKING_INFERENCE_SPIKES,
        {name: (i, t * 1000, n) for (name, (i, t)), n in zip(raster.spikes.items(), sizes)},
        duration_ms=n_raster * t_digit,
        meta={"experiment": "infer --spiking", "digit_starts_ms":
              [k * t_digit for k in range(n_raster)],
              "settling_ms": [[k * t_digit, k * t_digit + summary["t_settle_ms"]]
                              for k in range(n_raster)]})
    write_json(out / "spiking_inference.json", results)
    plotting.plot_spiking_inference(read_json(out / "spiking_inference.json"),
                                    load_spikes(spikes_path), out / "spiking_inference.png")
    sp, rt = comparison["spiking"]["mean"], comparison["rate"]["mean"]
    click.echo(f"spiking log p(x,h): {sp[0]:.1f} -> {sp[-1]:.1f} nats over {n_steps} steps "
               f"({digits} test digits; rate model {rt[0]:.1f} -> {rt[-1]:.1f}); correlation "
               f"with the rate trajectory h1 {comparison['corr_h1']:.3f}, h2 "
               f"{comparison['corr_h2']:.3f}")
    click.echo(f"{biological_s:.2f} s of biological time: run {info.run_s:.1f} s "
               f"({result.events['synaptic'] / info.run_s / 1e6:.0f} M synaptic events/s), "
               f"build {info.build_s:.1f} s ({'cached' if info.cached else 'compiled'})")
    click.echo(f"wrote {out / 'spiking_inference.png'}, .json and {spikes_path.name}")


INPAINT = {"start": "nearest", "n_steps": 50, "alpha": 0.001, "n_rounds": 1}
"""The rate model's in-painting procedure, chosen on validation images
(``experiments/inpaint_tuning.py``)."""
INPAINT_STARTS = ("mean", "nearest")
"""Starts of the hidden half for ``inpaint --start``."""
SPIKING_INPAINT_STEPS = 20
"""Default INFERENCE steps of ``inpaint --spiking`` (one round, the network's own α)."""
SPIKING_INPAINT_IMAGES = 100
"""Default number of test images for ``inpaint --spiking`` (5 s of biological time)."""


@cli.command("inpaint")
@_model_option
@_data_option
@click.option("--half", type=click.Choice(HALVES), default="right", show_default=True,
              help="Which half of each image is hidden.")
@click.option("--start", type=click.Choice(INPAINT_STARTS), default=None,
              help="What the hidden half starts as: the mean training image, or the mean of "
                   "the 10 training images nearest on the visible half (the baseline fill, "
                   f"refined by the model) [default: {INPAINT['start']}, chosen on "
                   "validation images; mean with --spiking].")
@click.option("--n-steps", type=int, default=None,
              help=f"INFERENCE iterations with the visible pixels clamped [default: "
                   f"{INPAINT['n_steps']}, chosen on validation images].")
@click.option("--alpha", type=float, default=None,
              help=f"Pull of h1 towards g2(h2) [default: {INPAINT['alpha']}, chosen on "
                   "validation images].")
@click.option("--n-rounds", type=int, default=None,
              help="Rounds, each restarting INFERENCE from the feed-forward pass of the "
                   f"filled image [default: {INPAINT['n_rounds']}, chosen on validation "
                   "images].")
@_n_images_option
@click.option("--n-show", type=int, default=10, show_default=True,
              help="Examples drawn in the figure.")
@_out_dir_option("inpaint", "fig5_inpainting.png/.json (with --spiking "
                 "spiking_inpainting.png/.json)")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also save the filled images, (N, 784) floats in [0, 1], as .npy.")
@_card_option
@click.option("--spiking", is_flag=True,
              help="In-paint with spiking INFERENCE (Brian2), all images in one simulation "
                   f"(default --n-images {SPIKING_INPAINT_IMAGES}); writes "
                   "spiking_inpainting.png/.json.")
@_neuron_option
@_device_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="--spiking: noise seed.")
def inpaint_cmd(model_path: str, data_path: str | None, half: str, start: str | None,
                n_steps: int | None,
                alpha: float | None, n_rounds: int | None, n_images: int | None,
                n_show: int, out_dir: str | None, out: str | None,
                update_card: bool, spiking: bool, neuron: str, device: str, seed: int) -> None:
    """Fill in half of each test image by INFERENCE with the other half clamped; the hidden
    half starts as the mean training image or the 10-nearest-neighbour fill (--start).

    Reports the squared error on the hidden pixels beside two fills that use no model: the
    mean training image, and the mean of the 10 training images nearest on the visible half.
    Example: stdpsim inpaint --half right --data ../shared/data/mnist
    """
    from . import evaluation, plotting, rate_model

    if spiking and (alpha is not None or n_rounds is not None):
        raise ValueError("--alpha and --n-rounds apply to the rate model's in-painting; "
                         "spiking in-painting runs one round with the network's own alpha")
    procedure = {"start": start, "n_steps": n_steps, "alpha": alpha, "n_rounds": n_rounds}
    for key, value in procedure.items():
        if key == "start":
            procedure[key] = value or ("mean" if spiking else INPAINT[key])
            continue
        flag = "--" + key.replace("_", "-")
        if value is None:
            procedure[key] = INPAINT[key]
        elif key == "alpha" and value < 0:
            raise ValueError(f"--alpha must be non-negative, got {value}")
        elif key != "alpha" and value < 1:
            raise ValueError(f"{flag} must be at least 1, got {value}")
    if spiking:
        procedure = {"start": procedure["start"], "n_steps": n_steps or SPIKING_INPAINT_STEPS}
    n_steps = procedure["n_steps"]
    if out:
        runs.check_output(out, "--out", ".npy")
    name = "spiking_inpainting" if spiking else "fig5_inpainting"
    out_path = _out_dir(out_dir, "inpaint")
    _check_outputs(out_path, (f"{name}.json", f"{name}.png"), "--out-dir")
    model = rate_model.load_model(model_path)
    if spiking and n_images is None:
        n_images = SPIKING_INPAINT_IMAGES
    x = _test_images(data_path, n_images)
    if not 1 <= n_show <= x.shape[0]:
        raise ValueError(f"--n-show must be in 1..{x.shape[0]}, got {n_show}")
    mask = half_mask(half)
    x_train = load_mnist("train", data_path)[0][:N_TRAIN]
    mean_image = x_train.mean(axis=0)
    bar = _stages(2, "inpaint: nearest-neighbour fill, in-painting")
    nearest = evaluation.nearest_neighbour_fill(x, mask, x_train, k=10)
    bar.update()
    fill = mean_image if procedure["start"] == "mean" else nearest
    results = {"model": shown_path(model_path), "half": half, **procedure,
               "n_images": int(x.shape[0])}
    if spiking:
        from . import spiking_network

        params = spiking_network.SpikingParameters(n_steps=n_steps, neuron=neuron)
        filled, events, info = spiking_network.run_inpaint(model, x, mask, fill, params,
                                                           device=device, seed=seed)
        results.update(params=spiking_network.parameters_summary(params), device=info.device,
                       seed=seed, run_s=info.run_s, build_s=info.build_s, events=events)
    else:
        filled = rate_model.inpaint(model, x, mask, fill,
                                    **{k: v for k, v in procedure.items() if k != "start"})
    bar.update()
    bar.close()
    errors = evaluation.inpainting_errors(filled, x, mask, mean_image)
    results.update(mse_inpainting=errors["mse_inpainting"], mse_mean_image=errors["mse_fill"],
                   mse_nearest_10=evaluation.masked_mse(nearest, x, mask))
    write_json(out_path / f"{name}.json", results)
    if out:
        runs.save_npy(out, filled.astype(np.float32))
    shown_start = np.where(mask, fill, x)[:n_show]
    start_text = ("the mean training image" if procedure["start"] == "mean"
                  else "the 10 nearest training images' mean")
    plotting.plot_inpainting(x[:n_show], shown_start, filled[:n_show],
                             out_path / f"{name}.png",
                             title=f"{half} half hidden, started from {start_text}, "
                             f"filled by {n_steps} {'spiking ' if spiking else ''}"
                             "INFERENCE steps" + (f" × {procedure['n_rounds']} round"
                                                  f"{'s' if procedure['n_rounds'] > 1 else ''}, "
                                                  f"α = {procedure['alpha']:g}"
                                                  if not spiking else ""))
    click.echo(f"squared error per hidden pixel: {'spiking ' if spiking else ''}in-painting "
               f"{results['mse_inpainting']:.4f}; mean training image "
               f"{results['mse_mean_image']:.4f}; mean of the 10 nearest training images "
               f"{results['mse_nearest_10']:.4f} ({x.shape[0]} test images, {half} half "
               "hidden)")
    click.echo(f"wrote {out_path / name}.png and .json")
    if update_card and not spiking:
        _record_metrics(model_path, "inpainting", results)


@cli.command("cache")
@_cache_option
@click.option("--clear", is_flag=True, help="Delete every cached build.")
def cache_cmd(cache: str | None, clear: bool) -> None:
    """Show (or clear) the cache of compiled Brian2 builds.

    Example: stdpsim cache --clear
    """
    root = backend.cache_dir(cache)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    click.echo(f"{root}: {size / 1e6:.1f} MB")
    if clear:
        for child in root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        click.echo("cleared")


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI and turns user errors into one line on stderr."""
    t0 = time.perf_counter()
    try:
        cli.main(args=argv, prog_name="stdpsim", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("stdpsim: interrupted", err=True)
        return 130
    except click.ClickException as e:
        click.echo(f"stdpsim: error: {e.format_message()}", err=True)
        return e.exit_code
    except _USER_ERRORS as e:
        if os.environ.get(DEBUG_ENV):
            raise
        click.echo(f"stdpsim: error: {e}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo(f"stdpsim: interrupted after {time.perf_counter() - t0:.1f} s", err=True)
        return 130
    except MemoryError:
        if os.environ.get(DEBUG_ENV):
            raise
        click.echo("stdpsim: error: not enough memory for this command; ask for fewer "
                   "samples, images or digits", err=True)
        return 1
    except Exception as e:  # a bug: one line, the traceback only when asked for
        if os.environ.get(DEBUG_ENV):
            raise
        click.echo(f"stdpsim: error: unexpected {type(e).__name__}: {e} (set {DEBUG_ENV}=1 "
                   "for the traceback)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
