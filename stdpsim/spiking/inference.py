"""Spiking INFERENCE, GENERATE and in-painting on a stack of any depth.

Each digit gets ``t_settle`` of settling on the feed-forward values, then ``n_steps``
INFERENCE steps of length δ·τ (:mod:`stdpsim.spiking.equations`).  Values and traces are
reset at the start of every digit, so K digits run one after another in one simulation (one
compiled program), the digits switching through a :class:`brian2.TimedArray` passed at
start-up (:func:`stdpsim.backend.simulate`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
import numpy as np

from .. import backend
from ..rate_model import RateModel, ancestral_sample, log_joint
from . import wiring
from .parameters import SpikingParameters, b2
from .presets import preset
from .stack import check_model, checked_images, layer_names
from .units import KINDS


def network_builder(model: RateModel, n_digits: int, params: SpikingParameters,
                    record_spikes: bool = True, n_rounds: int = 1,
                    missing: np.ndarray | None = None):
    """A :func:`stdpsim.backend.simulate` builder for ``n_digits`` digits of INFERENCE.

    The digits are the input ``"digits"`` (shape (n_digits, n_visible)); weights and
    biases are set from ``model`` (so a different model file is a different build).  With
    ``n_rounds`` > 1 each digit gets that many INFERENCE periods in a row, and every period
    after the first takes as its input the network's own reconstruction x̂ = g1(h1) at the
    end of the previous one, averaged over its last step (GENERATE's x ← g1(h1)); that
    read-out at the end of each digit's last period is recorded as ``samples``.  With a
    boolean ``missing`` (n_visible,), those pixels are in-painted: after settling their data
    spikes carry the reconstruction, and ``samples`` are recorded too.
    """
    check_model(model)
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be at least 1, got {n_rounds}")
    p = params
    ns = wiring.namespace(p)
    t_input = n_rounds * p.t_digit  # one row of "digits" per input
    # 1 at the first period of an input, 0 at the later ones (GENERATE's rounds)
    first_round = (np.arange(n_digits * n_rounds) % n_rounds == 0).astype(float)
    value = KINDS[p.neuron].value

    def build() -> backend.Simulation:
        u = b2()
        stimulus = u.TimedArray(np.zeros((n_digits, model.sizes[0])), dt=t_input,
                                name="digits")
        visible_input = "digits(t, i)"
        if n_rounds > 1:  # a new input at its first period, else x ← x̂ (last step's mean)
            visible_input = ("first_round(t) * digits(t, i) + "
                             "(1 - first_round(t)) * clip(x_out, 0, 1)")
        stack = wiring.build_stack(model, p, ns, stimulus, p.t_digit, visible_input)
        vis = stack.units[0]
        if n_rounds > 1:
            vis.namespace["first_round"] = u.TimedArray(first_round, dt=p.t_digit)
        wiring.set_biases(stack, model)
        if missing is not None:
            vis.missing = np.asarray(missing, dtype=float)
        syn = wiring.pathways(stack, p, wiring.weight_tied, wiring.top_down)
        for name, s in syn.items():
            s.w = wiring.repeated_weights(model.weights[name], p.ensemble)

        # the values after every INFERENCE step, or GENERATE's and in-painting's samples
        monitors, collect = _read_out(stack, p, value, record_spikes, n_digits,
                                      t_input if n_rounds > 1 or missing is not None else None)
        objects = [*stack.objects, *syn.values(), *monitors]
        return backend.Simulation(objects, {"digits": stimulus}, collect)

    return build


def _read_out(stack: wiring.Stack, p: SpikingParameters, value: str, record_spikes: bool,
              n_digits: int, sample_every=None) -> tuple[list, Callable]:
    """The monitors of a run and the function collecting them: every hidden layer's
    ``value`` after every INFERENCE step (as ``v_h<l>``), or with ``sample_every`` (a
    time) x̂ at every input boundary (``samples``, row k: the end of input k); and the
    events (:func:`wiring.event_monitors`)."""
    u = b2()
    states = [u.StateMonitor(group, value, record=sample_every is None, dt=p.step_time,
                             name=f"v_{layer.name}")
              for layer, group in zip(stack.layers[1:], stack.units[1:])]
    events, read_events = wiring.event_monitors(stack, record_spikes)
    samples = None
    if sample_every is not None:  # before the reset of the next input
        samples = u.StateMonitor(stack.units[0], "x_out", record=True, dt=sample_every,
                                 when="start", order=-1, name="samples")

    def collect() -> dict[str, np.ndarray]:
        out = ({mon.name: np.asarray(getattr(mon, value)).T for mon in states}
               if samples is None else {})
        out.update(read_events())
        if samples is not None:  # row k: the end of input k − 1
            out["samples"] = np.asarray(samples.x_out).T[1:n_digits + 1]
        return out

    return [*states, *events] + ([samples] if samples is not None else []), collect


@dataclasses.dataclass
class SpikingInference:
    """What :func:`run_inference` returns.

    Attributes
    ----------
    hidden
        Read-out values of each hidden layer h_1 … h_L at the start (index 0, the end of
        settling) and after each INFERENCE step: shapes (n_digits, n_steps + 1, n_l).
    log_p
        log p(x, h) of those values under the rate model, (n_digits, n_steps + 1), nats.
    spikes
        ``{layer name: (neuron indices, spike times in s)}`` over the whole run (empty
        unless spikes were recorded); with ensembles the indices are the members',
        unit·ensemble + k.
    events
        Event counts over the whole run: ``spikes_<layer>``, ``recon_<layer>`` (every layer
        below the top), and ``synaptic``, the synaptic updates they caused.
    params
        The parameters used; the digit k occupies [k·t_digit, (k + 1)·t_digit).
    info
        Device, wall, build and run times (:class:`stdpsim.backend.RunInfo`).
    """

    hidden: list[np.ndarray]
    log_p: np.ndarray
    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    events: dict[str, int]
    params: SpikingParameters
    info: backend.RunInfo


def run_inference(model: RateModel, x: np.ndarray, params: SpikingParameters | None = None,
                  *, device: str | None = "auto", seed: int = 0,
                  record_spikes: bool = True) -> SpikingInference:
    """Spiking INFERENCE on every row of ``x`` (shape (K, n_visible), values in [0, 1]) in
    one simulation.  Returns values, log p(x, h) and spikes."""
    params = params or preset("inference")
    x = checked_images(model, x)
    k = x.shape[0]
    build = network_builder(model, k, params, record_spikes)
    res, info = backend.simulate(build, {"digits": x}, k * params.t_digit, device=device,
                                 dt=params.dt, seed=seed)
    per, first = params.steps_per_digit(), params.settle_steps()
    keep = first + np.arange(params.n_steps + 1)
    hidden = [res[f"v_h{l}"].reshape(k, per, -1)[:, keep].astype(np.float32)
              for l in range(1, model.depth + 1)]
    x32 = x.astype(np.float32)
    log_p = np.stack([log_joint(model, x32, *(h[:, s] for h in hidden))
                      for s in range(params.n_steps + 1)], axis=1)
    names = layer_names(model.depth)
    spikes = {name: (res[f"spike_i_{name}"], res[f"spike_t_{name}"])
              for name in names if f"spike_i_{name}" in res}
    return SpikingInference(hidden, log_p, spikes, wiring.event_counts(res, model), params,
                            info)


def run_generate(model: RateModel, n: int, rng: np.random.Generator,
                 params: SpikingParameters | None = None, *, n_rounds: int = 3,
                 device: str | None = "auto", seed: int = 0
                 ) -> tuple[np.ndarray, dict[str, int], backend.RunInfo]:
    """GENERATE with spiking INFERENCE: h_L ~ prior, x ← g1(…g_L(h_L)) (the rate decoders,
    no inference involved), then ``n_rounds`` periods of spiking INFERENCE (the
    ``generation`` preset unless ``params`` says otherwise), each fed the network's
    reconstruction x̂ = g1(h1) at the end of the one before (averaged over the last step);
    all ``n`` samples in one simulation.

    Returns the samples (n, n_visible) in [0, 1] (the last averaged x̂ of each), the event
    counts and the run's timings.
    """
    params = params or preset("generation")
    check_model(model)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    x0 = np.asarray(ancestral_sample(model, n, rng), dtype=np.float64)
    build = network_builder(model, n, params, record_spikes=False, n_rounds=n_rounds)
    # one extra time step, so that the monitor sees the end of the last sample
    duration = n * n_rounds * params.t_digit + params.dt
    res, info = backend.simulate(build, {"digits": x0}, duration, device=device,
                                 dt=params.dt, seed=seed)
    samples = np.clip(res["samples"], 0, 1).astype(np.float32)
    return samples, wiring.event_counts(res, model), info


def run_inpaint(model: RateModel, x: np.ndarray, missing: np.ndarray, fill: np.ndarray,
                params: SpikingParameters | None = None, *, device: str | None = "auto",
                seed: int = 0) -> tuple[np.ndarray, dict[str, int], backend.RunInfo]:
    """In-painting with spiking INFERENCE: the ``missing`` pixels (boolean, (n_visible,))
    of every row of ``x`` start as ``fill`` (e.g. the mean training image); after settling
    their data spikes carry the network's reconstruction, the visible pixels stay clamped
    (the paper's f1(x^visible, g1(h1)^missing) − f1(g1(h1))).  All rows in one simulation.

    Returns the filled images (K, n_visible) (visible pixels unchanged, missing ones the
    averaged reconstruction at the end), the event counts and the run's timings.
    """
    params = params or preset("inference")
    x = checked_images(model, x)
    missing = np.asarray(missing, dtype=bool)
    if missing.shape != (x.shape[1],):
        raise ValueError(f"missing must have shape ({x.shape[1]},), got {missing.shape}")
    start = np.where(missing, fill, x)
    build = network_builder(model, x.shape[0], params, record_spikes=False, missing=missing)
    duration = x.shape[0] * params.t_digit + params.dt  # the monitor sees the last end
    res, info = backend.simulate(build, {"digits": start}, duration, device=device,
                                 dt=params.dt, seed=seed)
    filled = np.where(missing, np.clip(res["samples"], 0, 1), x).astype(np.float32)
    return filled, wiring.event_counts(res, model), info
