"""The options of the ``stdpsim`` command line, each defined once: a flag means one thing
wherever it appears, and every default a help text quotes is read from the code that uses
it (presets, task defaults)."""

from __future__ import annotations

import math
from collections.abc import Callable

import click

from . import backend, rate_config
from .data import HALVES
from .spiking.parameters import EVENT_TIMINGS, LearningParameters
from .spiking.presets import EVENTS_SD
from .tasks import common, inpainting
from .tasks.network import SpikingNetwork


class Finite(click.FloatRange):
    """A finite number (nan and ±inf are refused), optionally within a range (as
    :class:`click.FloatRange`): every float option of the command line takes one, so no
    option takes nan or inf."""

    name = "number"

    def _describe_range(self) -> str:
        # an unbounded one has no range to show in --help (click would write "x<=None")
        return "" if self.min is None and self.max is None else super()._describe_range()

    def convert(self, value, param, ctx):
        x = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(x):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(x, param, ctx)


FINITE = Finite()
"""Any finite number."""
POSITIVE = Finite(min=0, min_open=True)
"""A finite number above 0."""
TIME_MS = Finite(min=0, max=10_000, min_open=True)
"""A time constant in ms: above 0 and at most 10 s (longer ones would simulate for days)."""


def options(*opts: Callable) -> Callable:
    """Several click options as one decorator (listed in the order given)."""
    def decorate(f: Callable) -> Callable:
        for opt in reversed(opts):
            f = opt(f)
        return f
    return decorate


def default(preset: str, name: str, unit: str) -> str:
    """A spiking preset's ``name`` in ``unit`` (a Brian2 unit's name), for help texts."""
    import brian2

    from .spiking import preset as spiking_preset

    return f"{float(getattr(spiking_preset(preset), name) / getattr(brian2, unit)):g}"


DEVICE = click.option("--device", default="auto", show_default=True,
                      help=f"Brian2 target: auto, {', '.join(backend.DEVICES)}.")
CACHE = click.option("--cache", type=click.Path(file_okay=False), default=None,
                     help=f"Build cache folder [default: ${backend.CACHE_ENV} or "
                          "$XDG_CACHE_HOME/stdpsim, ~/.cache/stdpsim].")
DATA = click.option("--data", "data", type=click.Path(), default=None,
                    help="Folder with the MNIST IDX files [default: $STDPSIM_DATA, else "
                         "where 'stdpsim data fetch' puts them].")
MODEL = click.option("--model", "model", type=click.Path(dir_okay=False),
                     default=str(common.DEFAULT_MODEL), show_default=True,
                     help="Rate-model file (.npz), any number of hidden layers.")
SEED = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                    help="Random seed.")
CARD = click.option("--update-card", is_flag=True,
                    help="Also record the result under 'metrics' in the model's card "
                         "(MODEL.json).")
RESUME = click.option("--resume", is_flag=True,
                      help="Continue from OUT's checkpoint (OUT.ckpt.npz).")


def out_dir(command: str, what: str) -> Callable:
    return click.option("--out-dir", type=click.Path(file_okay=False), default=None,
                        help=f"Where {what} go [default: a new folder runs/{command}-<time>/].")


def network(preset: str, neuron: bool = True) -> Callable:
    """The spiking network's options, with the defaults of ``preset``."""
    from .neurons import SPIKE_GENERATORS
    from .spiking import NEURONS
    from .spiking import preset as spiking_preset

    opts = [
        click.option("--r-max", type=Finite(min=0, max=100_000, min_open=True), default=None,
                     help=f"Top firing rate per neuron in Hz [default: "
                          f"{default(preset, 'r_max', 'Hz')}]."),
        click.option("--tau", type=TIME_MS, default=None,
                     help="INFERENCE time constant in ms; one step lasts δ·tau [default: "
                          f"{default(preset, 'tau', 'ms')}]."),
        click.option("--tau-syn", type=TIME_MS, default=None,
                     help="Synaptic trace time constant in ms [default: "
                          f"{default(preset, 'tau_syn', 'ms')}]."),
        click.option("--tau-ff", type=TIME_MS, default=None,
                     help="Settling time constant in ms: how fast each digit's values follow "
                          "their feed-forward values before INFERENCE [default: "
                          f"{default(preset, 'tau_ff', 'ms')}]."),
        click.option("--tau-m", type=TIME_MS, default=None,
                     help="LIF membrane time constant in ms (with --ensemble at cortical "
                          f"rates e.g. 20) [default: {default(preset, 'tau_m', 'ms')}]."),
        click.option("--ensemble", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Neurons per unit, each firing at up to --r-max (e.g. --ensemble "
                          "10 --r-max 200: cortical rates)."),
        click.option("--member-sigma", type=Finite(min=0, max=100), default=None,
                     help="LIF ensembles: standard deviation of each member's own membrane "
                          "noise in mV (about 0.2 reset depths at 20-50 Hz, e.g. 2 at "
                          "--r-max 50 --tau-m 20) [default: 0]."),
        click.option("--spike-generator", type=click.Choice(SPIKE_GENERATORS), default=None,
                     help="LIF, one neuron per unit: how the reset recovers; 'leaky' fires "
                          "nothing below half a reset depth above value 0, 'integrating' "
                          "fires at r_max·value for every value ≥ 0 [default: "
                          f"{spiking_preset(preset).spike_generator}]."),
        DEVICE,
    ]
    if neuron:
        opts.insert(0, click.option(
            "--neuron", type=click.Choice(NEURONS), default=NEURONS[0], show_default=True,
            help="Units that are leaky integrate-and-fire neurons (threshold, reset, "
                 "refractory period) or Poisson spike sources."))
    return options(*opts)


def network_of(kw: dict, keep_seed: bool = False) -> SpikingNetwork:
    """The spiking network from its options and ``--seed`` (removed from ``kw``; the seed
    stays there too with ``keep_seed``, for a task that also draws with it)."""
    seed = kw["seed"] if keep_seed else kw.pop("seed")
    return SpikingNetwork(neuron=kw.pop("neuron", "lif"), r_max_hz=kw.pop("r_max"),
                          tau_ms=kw.pop("tau"), tau_syn_ms=kw.pop("tau_syn"),
                          tau_ff_ms=kw.pop("tau_ff"), tau_m_ms=kw.pop("tau_m"),
                          ensemble=kw.pop("ensemble"),
                          member_sigma_mv=kw.pop("member_sigma"),
                          spike_generator=kw.pop("spike_generator"), device=kw.pop("device"),
                          seed=seed)


def fig1_default(name: str) -> str:
    from .stdp_curve import STDPCurveConfig

    cfg = STDPCurveConfig()
    return f"{cfg.main.n_trials if name == 'trials' else getattr(cfg, name):g}"


SIZES = click.option("--sizes", default=None, help="Layer widths, visible first, e.g. "
                     "784,1000,500,100 for three hidden layers [default: 784,1000,100].")

LOSS = click.option("--loss", type=click.Choice(list(rate_config.LOSSES)), default=None,
                    help="through: the error through the nonlinearity (for the S·dV/dt rule: "
                         "the postsynaptic gain factor act′); delta: the delta rule (no act′) "
                         "[default: through].")
OPTIMIZER = click.option("--optimizer", type=click.Choice(list(rate_config.OPTIMIZERS)),
                         default=None,
                         help="How a minibatch's changes (tags) become weight changes: "
                              "centred RMSprop with momentum (per weight), Adam, or sgd (the "
                              "summed change times the learning rate; S·dV/dt rule only) "
                              "[default: rmsprop; sgd with train spiking --batch-size 1].")

RATE_TRAIN_OPTIONS = options(
    SIZES,
    click.option("--rule", type=click.Choice(list(rate_config.RULES)), default=None,
                 help="local: Algorithm 2's local losses; sdvdt: the rate twin of the spiking "
                      "S·dV/dt learner (tags consolidated per minibatch by --optimizer; "
                      "--loss through: the gain factor; the --noise levels corrupt its "
                      "predictions)."),
    click.option("--decoder-hidden", type=click.Choice(["softplus", "linear"]), default=None,
                 help="Activation of g2 (and of deeper hidden decoders)."),
    LOSS,
    OPTIMIZER,
    click.option("--lr", type=FINITE, default=None, help="Learning rate of every layer."),
    click.option("--lr-encoders", type=FINITE, default=None,
                 help="Learning rate of f1, f2, ... [default: the preset's, authors "
                      f"{rate_config.PRESETS['authors'].lr_encoders:g}]."),
    click.option("--lr-decoders", type=FINITE, default=None,
                 help="Learning rate of g1, g2, ... [default: the preset's, authors "
                      f"{rate_config.PRESETS['authors'].lr_decoders:g}]."),
    click.option("--lr-final", type=FINITE, default=None,
                 help="Last epoch's learning rate as a fraction of the first (cosine "
                      "schedule; 1 = constant) [default: the preset's, authors "
                      f"{rate_config.PRESETS['authors'].lr_final:g}]."),
    click.option("--batch-size", type=int, default=None,
                 help="Examples per minibatch [default: 100]; 1 with --optimizer sgd makes "
                      "--rule sdvdt learn after every example, as the spiking learner's first "
                      "design does."),
    click.option("--weight-decay", type=FINITE, default=None, help="Decoupled weight decay."),
    click.option("--noise", type=FINITE, default=None,
                 help="One Gaussian corruption s.d. for x, the encoders' and the decoders' "
                      "inputs (sets the three below)."),
    click.option("--noise-x", type=FINITE, default=None, help="Corruption s.d. of x (f1)."),
    click.option("--noise-h", type=FINITE, default=None,
                 help="Corruption s.d. of the inputs of f2, f3, ..."),
    click.option("--noise-g", type=FINITE, default=None,
                 help="Corruption s.d. of the inputs of g1, ... (not the top decoder, whose "
                      "input is the mean of --n-spikes Bernoulli draws)."),
    click.option("--n-spikes", type=int, default=None,
                 help="Bernoulli draws averaged for the top decoder's corrupted input "
                      "[default: 3]; 0 (--rule sdvdt only): its clean input."),
    click.option("--init", type=click.Choice(["orthogonal", "gaussian"]), default=None,
                 help="Initial weights."),
    click.option("--prior-var-scale", type=FINITE, default=None,
                 help="Prior variance as a multiple of the inferred top layer's variance "
                      "(the authors' 16 = 4 × the s.d.; the paper's text says 4)."),
    click.option("--valid-every", type=int, default=None,
                 help="Score validation Parzen every N epochs and keep the best epoch "
                      "(0: keep the last)."),
)


def default_eps(which: str) -> str:
    from .spiking import training_learning

    first = getattr(training_learning(), f"eps_{which}")
    return (f"{rate_config.SHIPPED_LR:g} with --optimizer rmsprop or adam (the shipped rate "
            f"model's), {first:g} with sgd")


def default_learning(name: str, unit: str) -> str:
    """The ``training`` preset's learning parameter ``name`` in ``unit``, for help texts."""
    import brian2

    from .spiking import training_learning

    return f"{float(getattr(training_learning(), name) / getattr(brian2, unit)):g}"


def spiking_run_default(name: str) -> str:
    from .spiking_training import SpikingTrainConfig

    return f"{getattr(SpikingTrainConfig(), name)}"


SPIKING_TRAIN_OPTIONS = options(
    click.option("--eps", type=FINITE, default=None, help="ε of the rule for every layer."),
    click.option("--eps-encoders", type=FINITE, default=None,
                 help="ε of the encoders f1, f2, ... [default: the preset's, "
                      f"{default_eps('encoders')}]."),
    click.option("--eps-decoders", type=FINITE, default=None,
                 help="ε of the decoders g1, g2, ... [default: the preset's, "
                      f"{default_eps('decoders')}]."),
    click.option("--eps-final", type=FINITE, default=None,
                 help="ε of the last chunk as a fraction of the first (cosine schedule; 1 = "
                      f"constant) [default: {spiking_run_default('eps_final')}]."),
    click.option("--chunk", type=int, default=None, help="Examples per checkpoint (and, with "
                 "--batch-size 1, per simulation run) [default: "
                 f"{spiking_run_default('chunk')}]."),
    click.option("--batch-size", type=int, default=None,
                 help="Examples whose synaptic tags are consolidated together (divides --chunk); "
                      "1 (with --optimizer sgd, its default there) is the first design, "
                      "weights changing at every spike [default: "
                      f"{spiking_run_default('batch_size')}, or the largest divisor of "
                      "--chunk below it]."),
    click.option("--shard", type=int, default=None,
                 help="Examples per simulation run within a minibatch, the unit of parallel work "
                      f"(divides --batch-size) [default: {spiking_run_default('shard')}, or the "
                      "largest divisor of --batch-size below it]."),
    OPTIMIZER,
    LOSS,
    click.option("--noise-x", type=FINITE, default=None,
                 help="Corruption s.d. of x (f1): each visible unit's own variability in an "
                      "example, sent as corruption events that h1's prediction and f1's "
                      "learning see and INFERENCE does not [default: "
                      f"{EVENTS_SD['training']:g}, at which h1's prediction carries the "
                      f"authors' {rate_config.PRESETS['authors'].noise_x:g}; 0 with "
                      "--batch-size 1]."),
    click.option("--noise-rate", type=FINITE, default=None,
                 help="With --noise-x: the corruption events' rate per unit of abs(n) in Hz, "
                      "each carrying r_max/rate data spikes' weight (higher: less count "
                      f"noise, more events) [default: {default_learning('noise_rate', 'Hz')}]."),
    click.option("--event-timing", type=click.Choice(EVENT_TIMINGS), default=None,
                 help="With --noise-x: how a visible unit times its corruption events: "
                      "poisson (the count adds its own noise to the unit's variability) or "
                      "regular (the count is the variability's to within one event) "
                      f"[default: {LearningParameters.event_timing}]."),
    click.option("--t-settle", type=TIME_MS, default=None,
                 help="Settling before INFERENCE in ms, whole INFERENCE steps [default: "
                      f"{default('training', 't_settle', 'ms')}]."),
    click.option("--t-noisy", type=TIME_MS, default=None,
                 help="Settling's corrupted part in ms: h1 settles on its corrupted "
                      "prediction, and f1 learns from its end on; shorter than --t-settle "
                      f"[default: {default_learning('t_noisy', 'ms')}]."),
    click.option("--value-floor", is_flag=True, default=False,
                 help="Hidden units' values also stop at 0 from below, as at the top their "
                      "spikes code from above (below 0 a unit is silent whatever its value)."),
    click.option("--scheduler", default=None,
                 help="Address of a running dask scheduler for the shards [default: a "
                      "LocalCluster of --workers]; 'serial' runs them here."),
    click.option("--workers", type=int, default=None,
                 help="LocalCluster worker processes [default: the usable cores]."),
)
"""The spiking learner's own options of ``train spiking`` (ε, chunks, the second design's
mechanisms, where the shards run)."""


GENERATE_OPTIONS = options(
    MODEL,
    click.option("--n", type=int, default=100, show_default=True, help="Number of samples."),
    SEED,
    click.option("--out", type=click.Path(dir_okay=False), default=None,
                 help="Output .npy file, (N, 784) floats in [0, 1] [default: samples.npy in "
                      "a new folder runs/generate-<time>/]."),
    click.option("--figure", type=click.Path(dir_okay=False), is_flag=False, flag_value="",
                 default=None, help="Also draw the first 100 samples into this image (e.g. "
                 ".png); alone, into a .png beside --out."),
)


INPAINT_OPTIONS = options(
    MODEL,
    DATA,
    click.option("--half", type=click.Choice(HALVES), default="right", show_default=True,
                 help="Which half of each image is hidden."),
    click.option("--n-images", type=int, default=None,
                 help="First N test images [default: all; spiking "
                      f"{common.SPIKING_IMAGES}, or all when there are fewer]."),
    click.option("--n-show", type=int, default=None,
                 help=f"Examples drawn in the figure [default: {inpainting.N_SHOW}, or "
                      "--n-images when fewer]."),
    click.option("--out", type=click.Path(dir_okay=False), default=None,
                 help="Also save the filled images, (N, 784) floats in [0, 1], as .npy."),
)
