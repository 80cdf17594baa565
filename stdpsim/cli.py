"""The ``stdpsim`` command line: it parses options and calls the tasks (:mod:`stdpsim.tasks`).

Every error a user can cause (a bad option, a missing file, an impossible parameter) is
reported as one line, ``stdpsim: error: ...``, with exit status 2 (usage) or 1 (other).
Commands that run a model come in two modes, ``rate`` and ``spiking`` (``stdpsim infer
spiking``), each with only its own options.
"""

from __future__ import annotations

import shutil
import sys

import click
import numpy as np

from . import backend, build_cache, errors, rate_config
from .data import default_data_dir, load_mnist
from .classifiers.config import LEARNERS as CLASSIFY_LEARNERS
from .classifiers.config import UNITS, ClassifyConfig
from .rate_model import PULLS
from .rate_training import PREDICT_FROM
from .tasks import classify, common, figure1, inference, inpainting, sampling, training
from . import cli_options as o



@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stdpsim")
def cli() -> None:
    """stdpsim: spike-timing-dependent plasticity as gradient descent, in Brian2."""


# ------------------------------------------------------------------------ Figure 1, files


@cli.command("stdp-curve")
@o.DEVICE
@o.CACHE
@o.out_dir("stdp-curve", "fig1_stdp_curve.png/.json and the spikes (spikes.npz)")
@click.option("--spikes-dir", type=click.Path(file_okay=False), default=None,
              help="Where the run's spikes.npz goes instead [default: --out-dir].")
@click.option("--trials", type=int, default=None, help="Trials per slope in the main "
              f"condition [default: {o.fig1_default('trials')}].")
@click.option("--dt-ms", type=o.FINITE, default=None,
              help=f"Time step in ms [default: {o.fig1_default('dt_ms')}].")
@click.option("--duration-ms", type=o.FINITE, default=None, help="Simulated time in ms, pre "
              f"spike in the middle [default: {o.fig1_default('duration_ms')}].")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help=f"Random seed [default: {o.fig1_default('seed')}].")
def stdp_curve_cmd(**kw) -> None:
    """Figure 1: the STDP curve of the rule ΔW ∝ S_pre·dV_post/dt in LIF neurons.

    Example: stdpsim stdp-curve --device cpp_standalone
    """
    figure1.run(figure1.Figure1Task(**kw), click.echo)


@cli.command("raster")
@click.argument("run", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="PNG to write [default: raster.png in a new folder runs/raster-<time>/].")
@click.option("--max-neurons", type=int, default=300, show_default=True,
              help="Neurons drawn, evenly spaced through the run's display order.")
@click.option("--rows", default=None,
              help="START:STOP slice of the display order, or 'main' for the run's main "
                   "condition (Figure-1 runs) [default: all].")
@click.option("--t-min-ms", type=o.FINITE, default=None, help="Start of the time axis (ms).")
@click.option("--t-max-ms", type=o.FINITE, default=None, help="End of the time axis (ms).")
def raster_cmd(run: str, out: str | None, max_neurons: int, rows: str | None,
               t_min_ms: float | None, t_max_ms: float | None) -> None:
    """Plot a spike raster (neuron against time in ms) of a saved run.

    RUN is a spike file (.npz) or a run folder holding spikes.npz.

    Example: stdpsim raster runs/fig1_stdp_curve --rows main --t-min-ms 40 --t-max-ms 200
    """
    from .tasks import raster

    raster.raster(raster.RasterTask(run, out, max_neurons, rows, t_min_ms, t_max_ms),
                  click.echo)


@cli.group("data", invoke_without_command=True)
@o.DATA
@click.pass_context
def data_cmd(ctx: click.Context, data: str | None) -> None:
    """Check and summarise the MNIST IDX files; 'stdpsim data fetch' downloads them.

    Examples: stdpsim data fetch; stdpsim data --data ../shared/data/mnist
    """
    if ctx.invoked_subcommand is not None:
        return
    for split in ("train", "test"):
        x, y = load_mnist(split, data)
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

    folder = download.fetch_mnist(dest, mirrors=mirrors or download.MIRRORS, log=click.echo)
    click.echo(f"MNIST is in {folder}")


@cli.command("cache")
@o.CACHE
@click.option("--clear", is_flag=True, help="Delete every cached build.")
@click.option("--prune", is_flag=True, help="Delete half builds, then the least recently "
              "used builds until the builds take at most --max-mb (done after every new "
              "build anyway).")
@click.option("--max-mb", type=o.POSITIVE, default=None,
              help=f"The builds' size bound in MB [default: ${build_cache.LIMIT_ENV}, else "
                   f"{build_cache.DEFAULT_LIMIT_MB:g}].")
def cache_cmd(cache: str | None, clear: bool, prune: bool, max_mb: float | None) -> None:
    """Show, prune or clear the cache of compiled Brian2 builds.

    Example: stdpsim cache --prune --max-mb 500
    """
    root = backend.cache_dir(cache)
    limit = build_cache.limit_bytes() if max_mb is None else int(max_mb * 1e6)
    click.echo(f"{root}: {build_cache.folder_bytes(root) / 1e6:.1f} MB (builds bound: "
               f"{limit / 1e6:g} MB)")
    if prune:
        done = build_cache.prune(root / "standalone", limit)
        click.echo(f"pruned {len(done.removed)} builds, {done.freed_bytes / 1e6:.1f} MB; the "
                   f"builds now take {done.kept_bytes / 1e6:.1f} MB")
    if clear:
        for child in root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        click.echo("cleared")


# -------------------------------------------------------------------------------- training

@cli.group("train")
def train_grp() -> None:
    """Train the MNIST generative model, the rate model (train rate) or the spiking
    learner (train spiking), or a classifier of the digits (train classify)."""


@train_grp.command("rate")
@click.option("--preset", type=click.Choice(list(rate_config.PRESETS)), default="authors",
              show_default=True, help="authors: the settings of the authors' published "
              "training script; adam-v1: this project's first shipped model.")
@click.option("--epochs", type=int, default=None, help="Passes over the training set "
              "[default: the preset's, " + " / ".join(
                  f"{n} {p.epochs}" for n, p in rate_config.PRESETS.items()) + "].")
@o.SEED
@o.DATA
@click.option("--out", type=click.Path(dir_okay=False), default="runs/rate_mnist.npz",
              show_default=True, help="Where the trained model goes.")
@o.RESUME
@o.RATE_TRAIN_OPTIONS
def train_rate_cmd(preset: str, epochs: int | None, seed: int, data: str | None, out: str,
                   resume: bool, **changes) -> None:
    """Train the rate model: layer-local targetprop (Algorithm 2), or with --rule sdvdt the
    spiking learner's rate twin.

    Every setting of the preset can be changed by its option; all are recorded in the model
    card (OUT.json).  With validation scoring (the authors' preset) the saved model is the
    epoch with the best validation Parzen log-likelihood.

    Example: stdpsim train rate --data ../shared/data/mnist --out runs/rate.npz
    """
    training.train_rate(training.RateTrainTask(preset, changes, epochs, seed, data, out,
                                               resume), click.echo)


@train_grp.command("spiking")
@click.option("--epochs", type=int, default=None,
              help=f"Passes over the training set [default: {o.spiking_run_default('epochs')}].")
@o.SEED
@o.DATA
@click.option("--out", type=click.Path(dir_okay=False), default="runs/spiking_mnist.npz",
              show_default=True, help="Where the trained model goes.")
@o.RESUME
@o.SIZES
@o.SPIKING_TRAIN_OPTIONS
@click.option("--max-chunks", type=int, default=None,
              help="Stop after this many chunks in this call (go on later with --resume).")
@o.network("training", neuron=False)
def train_spiking_cmd(**kw) -> None:
    """Train the MNIST model in Brian2: LIF neurons whose synapses learn by
    ΔW = η·S_pre·dV_post/dt, no gradient computed outside the simulation.

    Example: stdpsim train spiking --data ../shared/data/mnist --max-chunks 2
    """
    network = o.network_of(kw, keep_seed=True)
    task = training.SpikingTrainTask(**kw, network=network)
    training.train_spiking(task, click.echo)


@train_grp.command("classify")
@click.option("--learner", type=click.Choice(list(CLASSIFY_LEARNERS)),
              default=ClassifyConfig.learner,
              show_default=True, help="targetprop: Algorithm 2 with the label layer clamped "
              "to the label; backprop: the same stack end to end (the ceiling); dtp: "
              "difference target propagation; krotov_hopfield: competing hidden units, then "
              "a supervised top layer.")
@click.option("--hidden", default=",".join(map(str, ClassifyConfig.hidden)),
              show_default=True,
              help="Hidden layer widths, e.g. 1000,500 for two hidden layers.")
@click.option("--epochs", type=click.IntRange(min=1), default=ClassifyConfig.epochs,
              show_default=True,
              help="Passes over the training images (Krotov-Hopfield: of its supervised "
                   "stage).")
@click.option("--batch-size", type=click.IntRange(min=1), default=ClassifyConfig.batch_size,
              show_default=True,
              help="Examples per step.")
@click.option("--lr", type=o.POSITIVE, default=ClassifyConfig.lr, show_default=True,
              help="Learning rate (targetprop: centred RMSprop; the others: Adam).")
@click.option("--alpha", type=o.Finite(min=0), default=ClassifyConfig.alpha, show_default=True,
              help="targetprop: strength α of each layer's pull towards the state above "
                   "during INFERENCE (see --pull).")
@click.option("--noise", type=o.Finite(min=0), default=ClassifyConfig.noise, show_default=True,
              help="targetprop: s.d. of the corruption of every layer's input.")
@click.option("--pull", type=click.Choice(list(PULLS)), default=ClassifyConfig.pull,
              show_default=True,
              help="targetprop: INFERENCE pulls each layer by how far its own prediction of "
                   "the state above falls short (difference) or towards the decoder's value "
                   "from above (value, Algorithm 2).")
@click.option("--predict-from", type=click.Choice(list(PREDICT_FROM)),
              default=ClassifyConfig.predict_from, show_default=True,
              help="targetprop: each encoder predicts its inferred value from the bottom-up "
                   "value below (feed_forward) or the inferred one (inferred, Algorithm 2).")
@click.option("--units", type=click.Choice(list(UNITS)), default=ClassifyConfig.units,
              show_default=True,
              help="The stack's hidden units (not Krotov-Hopfield's): softplus, or sigmoid, "
                   "bounded (targetprop's values run away at depth with softplus).")
@o.SEED
@o.DATA
@click.option("--labels", type=click.Path(dir_okay=False), default=None,
              help="Classes of the training file's images (one per line, or .npy) "
                   "[default: MNIST's labels].")
@click.option("--out", type=click.Path(dir_okay=False), default="runs/classifier.npz",
              show_default=True, help="Where the trained classifier goes.")
def train_classify_cmd(data: str | None, labels: str | None, out: str, **settings) -> None:
    """Train a classifier of the MNIST digits on the first 20,000 training images, keeping
    the epoch with the lowest error on the other 2,699.

    Example: stdpsim train classify --learner backprop --hidden 1000 --epochs 5
    """
    classify.train_classify(classify.ClassifyTask(settings, data, labels, out), click.echo)


# ------------------------------------------------------------------ GENERATE, evaluation

@cli.group("generate")
def generate_grp() -> None:
    """GENERATE samples: prior, decoders, 3 rounds of INFERENCE (rate or spiking)."""


@generate_grp.command("rate")
@o.GENERATE_OPTIONS
def generate_rate_cmd(**kw) -> None:
    """GENERATE samples with the rate model's INFERENCE.

    Example: stdpsim generate rate --n 100 --figure
    """
    sampling.generate(sampling.GenerateTask(**kw), click.echo)


@generate_grp.command("spiking")
@o.GENERATE_OPTIONS
@o.network("generation")
def generate_spiking_cmd(**kw) -> None:
    """GENERATE samples with spiking INFERENCE (Brian2), all samples in one simulation.

    Example: stdpsim generate spiking --n 100 --out spiking.npy --figure spiking.png
    """
    network = o.network_of(kw, keep_seed=True)
    sampling.generate(sampling.GenerateTask(**kw, network=network), click.echo)


@cli.command("evaluate")
@o.MODEL
@o.DATA
@click.option("--n-samples", type=int, default=sampling.PAPER_SAMPLES, show_default=True,
              help="Generative models: samples per sampler; fewer than the paper's 10,000 "
                   "bias the Parzen estimate low.")
@o.SEED
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Results JSON [default: parzen.json, or classification.json for a "
                   "classifier, in a new folder runs/evaluate-<time>/].")
@o.CARD
@click.option("--results", type=click.Path(dir_okay=False), default=None,
              help="Classifiers: the comparators' results (figures/classification.json) "
                   "to print beside.")
def evaluate_cmd(results: str | None, **kw) -> None:
    """Evaluate a model on the MNIST test set.  A generative model: the Parzen
    log-likelihood under GENERATE and ancestral samples, and the digit classes the samples
    look like (5 nearest training images, by Euclidean distance and by angle).  A
    classifier (from train classify): its test error and a confusion matrix per way it
    classifies, beside the comparators of --results.

    Example: stdpsim evaluate --data ../shared/data/mnist
    """
    if classify.is_classifier(kw["model"]):
        classify.evaluate(classify.EvaluateTask(kw["model"], kw["data"], results, kw["out"]),
                          click.echo)
        return
    if results is not None:
        raise click.UsageError("--results lists the comparators of a classifier; "
                               f"{kw['model']} is a generative model")
    sampling.evaluate(sampling.EvaluateTask(**kw), click.echo)


# ----------------------------------------------------------------------- INFERENCE, in-painting


@cli.group("infer")
def infer_grp() -> None:
    """log p(x, h) along INFERENCE on test digits (rate, Figure 4; or spiking, with
    rasters)."""


@infer_grp.command("rate")
@o.MODEL
@o.DATA
@click.option("--n-steps", type=int, default=20, show_default=True,
              help="INFERENCE iterations.")
@click.option("--n-images", type=int, default=None,
              help="First N test images [default: the whole test set].")
@click.option("--n-traces", type=click.IntRange(min=0), default=20, show_default=True,
              help="Individual traces drawn in panel b.")
@click.option("--alpha", type=o.FINITE, default=inference.FIGURE4_ALPHA, show_default=True,
              help="Pull α of each hidden layer towards the layer above's prediction; the "
                   "figure draws Algorithm 2 as trained and the curve without the prior's "
                   "term beside it.")
@click.option("--prior-alpha", type=o.FINITE, default=0.001, show_default=True,
              help="Weight β of the prior's term β(μ − h_L)/σ² in the top layer's update "
                   "(0: Algorithm 2's own update).")
@o.out_dir("infer", "fig4_inference_loglik.png/.json")
@o.CARD
def infer_rate_cmd(**kw) -> None:
    """log p(x, h) along the rate model's INFERENCE on the test set (the paper's Figure 4).

    Example: stdpsim infer rate --data ../shared/data/mnist
    """
    inference.infer_rate(inference.RateInferenceTask(**kw), click.echo)


@infer_grp.command("spiking")
@o.MODEL
@o.DATA
@click.option("--n-steps", type=int, default=20, show_default=True,
              help="INFERENCE steps.")
@click.option("--n-images", type=int, default=None,
              help=f"First N test digits, in one simulation [default: {common.SPIKING_IMAGES},"
                   " or all when there are fewer].")
@click.option("--alpha", type=o.FINITE, default=inference.TRAIN_ALPHA, show_default=True,
              help="Pull α of each hidden layer towards the layer above's prediction "
                   "(training's value).")
@o.out_dir("infer", "spiking_inference.png/.json and spiking_inference_spikes.npz (the "
          "first 2 digits' spikes, which stdpsim raster draws)")
@o.network("inference")
@o.SEED
def infer_spiking_cmd(**kw) -> None:
    """Spiking INFERENCE in Brian2 beside the rate model: log p(x, h), the correlation of
    every hidden layer with the rate trajectory, events/s, and the rasters of every
    population.

    Example: stdpsim infer spiking --n-images 1000 --data ../shared/data/mnist
    """
    network = o.network_of(kw)
    inference.infer_spiking(inference.SpikingInferenceTask(**kw, network=network),
                            click.echo)


@cli.group("inpaint")
def inpaint_grp() -> None:
    """Fill in half of each test image by INFERENCE with the other half clamped (the
    paper's Figure 5), beside the mean-image and 10-nearest-neighbour fills."""


@inpaint_grp.command("rate")
@o.INPAINT_OPTIONS
@click.option("--start", type=click.Choice(inpainting.STARTS), default=None,
              help="What the hidden half starts as: the mean training image, or the mean of "
                   "the 10 training images nearest on the visible half [default: "
                   f"{inpainting.INPAINT['start']}, chosen on validation images].")
@click.option("--n-steps", type=int, default=None,
              help="INFERENCE iterations with the visible pixels clamped [default: "
                   f"{inpainting.INPAINT['n_steps']}, chosen on validation images].")
@click.option("--alpha", type=o.FINITE, default=None, help="Pull of h1 towards g2(h2) "
              f"[default: {inpainting.INPAINT['alpha']}, chosen on validation images].")
@click.option("--n-rounds", type=int, default=None,
              help="Rounds, each restarting INFERENCE from the feed-forward pass of the "
                   f"filled image [default: {inpainting.INPAINT['n_rounds']}, chosen on "
                   "validation images].")
@o.out_dir("inpaint", "fig5_inpainting.png/.json")
@o.CARD
def inpaint_rate_cmd(**kw) -> None:
    """In-paint with the rate model's INFERENCE.

    Example: stdpsim inpaint rate --half right --data ../shared/data/mnist
    """
    inpainting.inpaint(inpainting.InpaintTask(**kw), click.echo)


@inpaint_grp.command("spiking")
@o.INPAINT_OPTIONS
@click.option("--start", type=click.Choice(inpainting.STARTS), default="mean",
              show_default=True, help="What the hidden half starts as: the mean training "
              "image, or the mean of the 10 training images nearest on the visible half.")
@click.option("--n-steps", type=int, default=inpainting.SPIKING_STEPS, show_default=True,
              help="INFERENCE steps with the visible pixels clamped (one round, the "
                   "network's own α).")
@o.out_dir("inpaint", "spiking_inpainting.png/.json")
@o.network("inference")
@o.SEED
def inpaint_spiking_cmd(**kw) -> None:
    """In-paint with spiking INFERENCE (Brian2), all images in one simulation.

    Example: stdpsim inpaint spiking --n-images 10
    """
    network = o.network_of(kw)
    inpainting.inpaint(inpainting.InpaintTask(**kw, network=network), click.echo)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI and turns user errors into one line on stderr
    (:func:`stdpsim.errors.one_line`; click's usage errors keep their exit code 2)."""
    def run() -> int:
        try:
            cli.main(args=argv, prog_name="stdpsim", standalone_mode=False)
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        except click.ClickException as e:
            click.echo(f"stdpsim: error: {e.format_message()}", err=True)
            return e.exit_code
        return 0

    return errors.one_line("stdpsim", run)


if __name__ == "__main__":
    sys.exit(main())
