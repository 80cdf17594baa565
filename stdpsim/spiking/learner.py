"""The spiking learner: S·dV/dt synapses on a stack of LIF units of any depth.

Each example has three phases (:data:`stdpsim.spiking.equations.LEARNING_PHASES`):
settling, INFERENCE (the encoders learn) and reconstruction (the values stay, each
reconstruction membrane moves from its prediction to its target, the decoders learn).  Every
plastic synapse runs :func:`stdpsim.plasticity.sdvdt_learning_line`: the encoders' data
pathways read the latent membranes' ``dvdt`` gated by ``learn_enc``, the decoders read the
reconstruction membranes' ``dvdt_rec`` gated by ``learn_dec``.  Biases are the weights of
synapses from an always-on unit (firing at r_max), delivered as summed variables (so they add
no noise) and learned by the same rule.  The rule's rate limit is
:func:`stdpsim.plasticity.sdvdt_updates`.

What the synapses do with the rule's output is compiled in (:class:`Mechanisms`): change
their weights at every spike (the first design, :func:`run_learning`), or add it to a
synaptic tag while the weights stay, the tags coming out of the run for consolidation
(:func:`run_tags`, :mod:`stdpsim.consolidation`); either with the postsynaptic gain factor.
With ``LearningParameters.noise_x`` > 0 the visible units also send corruption events
(:data:`stdpsim.spiking.equations.CORRUPTION_SOURCE`), which f1 delivers on a third
pathway, ``noise``, to h1's settling and, during INFERENCE, to its learning rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from ..plasticity import sdvdt_learning_line
from ..rate_model import RateModel
from . import wiring
from .parameters import LearningParameters, SpikingParameters, b2
from .presets import preset
from .stack import Layer, check_model, checked_images, layers
from .units import KINDS, lif_group, lif_membrane


def eta(name: str, learning: LearningParameters, params: SpikingParameters,
        stack: list[Layer]) -> Any:
    """η (second/volt) of a layer's synapses (``"f1"``, ``"g2"``…) or of its bias
    (``"b_f1"``…): ε·range_pre / (r_max·v_unit_post), with the ranges of
    :class:`~stdpsim.spiking.stack.Layer` (range_pre 1 for a bias)."""
    bias = name.startswith("b_")
    layer = name[2:] if bias else name
    l = int(layer[1:])
    encoder = layer.startswith("f")
    pre, post = (stack[l - 1], stack[l]) if encoder else (stack[l], stack[l - 1])
    eps = learning.eps_encoders if encoder else learning.eps_decoders
    range_pre = 1.0 if bias else pre.value_range
    v_unit_post = params.v_span / post.value_range
    return eps * range_pre / (params.r_max * v_unit_post)


def synapse_model(tags: bool) -> str:
    """A plastic synapse: its weight, its pathway's η (a run input) and, with ``tags``, the
    tag its changes go to."""
    return "w : 1\neta : second/volt (shared, constant)" + ("\ntag : 1" if tags else "")


@dataclasses.dataclass(frozen=True)
class Mechanisms:
    """What the learner's synapses do, compiled into its network.

    Attributes
    ----------
    learn
        The rule's statements (False: the same network without them, the reference for
        what learning costs).
    tags
        Changes go to synaptic tags, the weights stay (:mod:`stdpsim.consolidation`);
        else the weights change at every spike (the first design).
    gain_factor
        The postsynaptic gain factor multiplies every change
        (:func:`stdpsim.spiking.equations.gain_factors`).
    """

    learn: bool = True
    tags: bool = False
    gain_factor: bool = False


def _rule(mech: Mechanisms) -> Callable[[str, str], str]:
    """The rule's statement for a slope and a gate (with the gain factor, times the
    postsynaptic gain of that pathway: ``gain_f`` for the encoders' ``dvdt``, ``gain_g``
    for the decoders' ``dvdt_rec``), or nothing (``learn=False``)."""
    def rule(slope: str, gate: str) -> str:
        if not mech.learn:
            return ""
        if mech.gain_factor:
            gate += "*gain_f_post" if slope == "dvdt" else "*gain_g_post"
        return sdvdt_learning_line(slope, gate, "tag" if mech.tags else "w") + "\n"
    return rule


def _plastic_pathways(ns: dict, mech: Mechanisms, corrupted: bool = False
                      ) -> tuple[Callable, Callable]:
    """The learner's encoder and decoder factories for :func:`wiring.pathways`: encoders
    learn on their data pathway from the target's ``dvdt`` while it infers; decoders predict
    while the network infers and learn from the reconstruction membrane's ``dvdt_rec`` on
    the late ``spike_recon`` events.  ``corrupted``: f1 also delivers the visible units'
    corruption events (``noise``: sign(n) times ``noise_weight`` = r_max/noise_rate times a
    data spike's effect, on h1's ``i_noise`` and, while h1 infers, on the rule)."""
    rule = _rule(mech)
    model = synapse_model(mech.tags)

    def encoder(source: Any, target: Any, name: str, gain: float) -> Any:
        on_pre = {"data": f"{rule('dvdt', 'learn_enc_post')}i_data_post += w * gain",
                  "recon": "i_recon_post += w * gain"}
        on_event = {"data": "spike", "recon": "recon"}
        if corrupted and name == "f1":
            signed = "noise_weight * sign(noise_pre)"
            on_pre["noise"] = (f"{rule('dvdt', f'learn_enc_post*{signed}')}"
                               f"i_noise_post += {signed} * w * gain")
            on_event["noise"] = "noise"
        return b2().Synapses(source, target, model=model, on_pre=on_pre, on_event=on_event,
                             namespace={**ns, "gain": gain}, name=name)

    def decoder(source: Any, target: Any, name: str, gain: float, trace: str) -> Any:
        return b2().Synapses(source, target, model=model,
                             on_pre={"predict": f"{trace}_post += w * gain",
                                     "learn": f"{rule('dvdt_rec', 'learn_dec_post')}"
                                              f"{trace}_post += w * gain"},
                             on_event={"predict": "spike", "learn": "spike_recon"},
                             namespace={**ns, "gain": gain}, name=name)

    return encoder, decoder


def _bias_pathways(stack: wiring.Stack, layers_: list[str], bias: Any, ns: dict,
                   mech: Mechanisms) -> dict[str, Any]:
    """One synapse from the always-on ``bias`` unit per layer (f_l's bias lives in h_l,
    g_l's in layer l − 1), delivered as a summed variable and learned by the same rule."""
    rule = _rule(mech)
    out = {}
    for name in layers_:
        l = int(name[1:])
        target, slope, gate = ((stack.units[l], "dvdt", "learn_enc_post") if name[0] == "f"
                               else (stack.units[l - 1], "dvdt_rec", "learn_dec_post"))
        out[name] = b2().Synapses(bias, target,
                                  model=f"{synapse_model(mech.tags)}\n"
                                        f"b_{name}_post = w : 1 (summed)",
                                  on_pre=rule(slope, gate) or None, namespace=ns,
                                  name=f"bias_{name}")
        out[name].connect()
    return out


def _predictions(stack: wiring.Stack, p: SpikingParameters) -> dict[str, np.ndarray]:
    """At the end of a run: each hidden layer's value ``h_<l>`` (held through the
    reconstruction phase), its encoder prediction's pre-activation ``a_ff_<l>`` (held from
    the end of settling) and, for layers with a reconstruction, the decoder prediction's
    ``a_td_<l>`` (:func:`stdpsim.spiking.equations.gain_factors`): how much spike noise the
    predictions carry (``experiments/spiking_corruption.py``)."""
    out = {}
    for layer, group in zip(stack.layers, stack.units):
        if layer.index > 0:
            v_free = np.asarray(group.v_free[:])  # volt (h itself is a subexpression)
            v_unit = float(p.v_span) / layer.value_range
            out[f"h_{layer.name}"] = (v_free - float(p.v_zero)) / v_unit
            out[f"a_ff_{layer.name}"] = np.asarray(group.a_ff[:])
        if layer.has_recon:
            out[f"a_td_{layer.name}"] = np.asarray(group.a_td[:])
    return out


def learning_builder(model: RateModel, n_examples: int, params: SpikingParameters,
                     learning: LearningParameters, mech: Mechanisms = Mechanisms()):
    """A :func:`stdpsim.backend.simulate` builder for ``n_examples`` training examples.

    Only the model's shapes and activations are compiled in.  Inputs: ``digits``
    (n_examples, n_visible), with corruption events also ``noises`` (their draws, the same
    shape); ``w_<layer>`` (raveled (n_in·ensemble, n_out)), ``b_<layer>``
    (n_out,), ``eta_<layer>`` and ``eta_b_<layer>`` (second/volt) and ``plastic_<group>``
    (0 or 1).  The collected results hold the weights and biases after the run
    (``w_<layer>``, ``b_<layer>``), with tags also the tags (``tag_<layer>``,
    ``tag_b_<layer>``; the weights then stay as they came in), and the event counts.
    ``mech``: what is compiled in (:class:`Mechanisms`); the corruption events too when
    ``learning.noise_x`` > 0.
    """
    if not KINDS[params.neuron].learns:
        raise ValueError("the spiking learner needs LIF units (the rule reads their dV/dt); "
                         f"got neuron={params.neuron!r}")
    check_model(model)
    learning.check_against(params)
    p = params
    ns = {**wiring.namespace(p), "t_infer": p.n_steps * p.step_time,
          "tau_nudge": learning.tau_nudge, "w_min": -np.inf, "w_max": np.inf,
          "value_floor": float(learning.value_floor)}
    corrupted = learning.corrupted
    if corrupted:
        ns.update({"noise_rate": learning.noise_rate,
                   "noise_weight": float(p.r_max / learning.noise_rate),
                   "t_noisy": learning.t_noisy})
    t_example = learning.t_example(p)

    def build() -> backend.Simulation:
        u = b2()
        stimulus = u.TimedArray(np.zeros((n_examples, model.sizes[0])), dt=t_example,
                                name="digits")
        draws = (u.TimedArray(np.zeros((n_examples, model.sizes[0])), dt=t_example,
                              name="noises") if corrupted else None)
        stack = wiring.build_stack(model, p, ns, stimulus, t_example, "digits(t, i)",
                                   learning=True, gain_factor=mech.gain_factor,
                                   corruption_draws=draws,
                                   event_timing=learning.event_timing)
        bias = lif_group(1, lif_membrane("", "0*volt/second", generator=p.spike_generator),
                         "bias", ns, p, recon=False)
        bias.v_free = p.v_zero + p.v_span  # value 1: fires at r_max
        syn = wiring.pathways(stack, p, *_plastic_pathways(ns, mech, corrupted))
        biases = _bias_pathways(stack, list(syn), bias, ns, mech)
        monitors, read_events = wiring.event_monitors(stack)
        late = {layer.name: u.EventMonitor(src, "spike_recon", record=False,
                                           name=f"spike_recon_{layer.name}")
                for layer, src in zip(stack.layers[1:], stack.sources[1:])}
        inputs = {"digits": stimulus, **({"noises": draws} if corrupted else {})}
        inputs.update({f"plastic_{layer.name}": group.plastic
                       for layer, group in zip(stack.layers, stack.units)})
        for name in syn:
            inputs.update({f"w_{name}": syn[name].w, f"b_{name}": biases[name].w,
                           f"eta_{name}": syn[name].eta, f"eta_b_{name}": biases[name].eta})

        def collect() -> dict[str, np.ndarray]:
            out = {}
            for name in syn:  # a unit's weight: the mean over its members' synapses
                n_in, n_out = model.weights[name].shape
                out[f"w_{name}"] = np.asarray(syn[name].w[:]).reshape(
                    n_in, p.ensemble, n_out).mean(axis=1)
                out[f"b_{name}"] = np.asarray(biases[name].w[:])
                if mech.tags:
                    out[f"tag_{name}"] = np.asarray(syn[name].tag[:]).reshape(
                        n_in, p.ensemble, n_out).mean(axis=1)
                    out[f"tag_b_{name}"] = np.asarray(biases[name].tag[:])
            out.update(read_events())
            out.update({f"n_spike_recon_{group}": np.asarray(mon.num_events)
                        for group, mon in late.items()})
            if mech.gain_factor:  # the predictions' pre-activations as the last example left them
                out.update(_predictions(stack, p))
            return out

        objects = [*stack.objects, bias, *syn.values(), *biases.values(), *monitors,
                   *late.values()]
        return backend.Simulation(objects, inputs, collect)

    return build


def corruption_draws(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """The visible units' standard-normal draws for a run with spike seed ``seed``, one row
    per example (the corruption events' n is ``noise_x`` times them).  They depend on the
    seed alone, so a shard's draws, like its spikes, do not depend on the worker that runs
    it, and the rate twin can be given the same ones."""
    return np.random.default_rng([int(seed), 1]).standard_normal(shape)


def learning_inputs(model: RateModel, x: np.ndarray, params: SpikingParameters,
                    learning: LearningParameters, plastic: bool = True, seed: int = 0,
                    draws: np.ndarray | None = None) -> dict[str, Any]:
    """The run inputs of :func:`learning_builder` for ``model``'s weights and the images
    ``x``; with corruption events also each unit's n: ``noise_x`` times ``draws`` (shape of
    ``x``, standard normal), by default those of spike seed ``seed``
    (:func:`corruption_draws`).  n is an input, not a constant of the code, so one build
    serves every ``noise_x``."""
    stack = layers(model, params)
    values: dict[str, Any] = {"digits": np.asarray(x, dtype=np.float64)}
    if learning.corrupted:
        z = (corruption_draws(seed, np.shape(x)) if draws is None
             else np.asarray(draws, dtype=np.float64).reshape(np.shape(x)))
        values["noises"] = learning.noise_x * z
    for layer in stack:
        values[f"plastic_{layer.name}"] = float(plastic)
    for name in model.weights:  # every member of a unit starts with its unit's weights
        values[f"w_{name}"] = wiring.repeated_weights(model.weights[name], params.ensemble)
        values[f"b_{name}"] = model.biases[name].astype(np.float64)
        values[f"eta_{name}"] = eta(name, learning, params, stack)
        values[f"eta_b_{name}"] = eta(f"b_{name}", learning, params, stack)
    return values


def run_learning(model: RateModel, x: np.ndarray, params: SpikingParameters | None = None,
                 learning: LearningParameters | None = None, *, plastic: bool = True,
                 learn: bool = True, gain_factor: bool = False,
                 device: str | None = "auto", seed: int = 0, progress: bool | None = None
                 ) -> tuple[RateModel, dict[str, int], backend.RunInfo]:
    """The spiking learner on every row of ``x`` (shape (K, n_visible), values in [0, 1]),
    one example after another in one simulation, starting from ``model``'s weights.

    Returns a copy of ``model`` with the learned weights and biases (its prior unchanged),
    the event counts and the run's timings.  ``plastic=False`` runs the same network with
    learning switched off (the weights come back unchanged); ``learn=False`` the network
    built without learning statements (see :func:`learning_builder`); ``gain_factor``: the
    postsynaptic gain factors multiply every change.  ``progress``:
    Brian2's progress report (see :func:`stdpsim.backend.simulate`).
    """
    params = params or preset("inference")
    learning = learning or LearningParameters()
    x = checked_images(model, x)
    k = x.shape[0]
    build = learning_builder(model, k, params, learning,
                             Mechanisms(learn=learn, gain_factor=gain_factor))
    res, info = backend.simulate(build, learning_inputs(model, x, params, learning, plastic,
                                                        seed),
                                 k * learning.t_example(params), device=device, dt=params.dt,
                                 seed=seed, progress=progress)
    new = RateModel({n: res[f"w_{n}"].astype(np.float32) for n in model.weights},
                    {n: res[f"b_{n}"].astype(np.float32) for n in model.weights},
                    dict(model.activations), model.prior_mean.copy(), model.prior_var.copy(),
                    dict(model.meta))
    return new, learning_event_counts(res, model), info


def tag_unit(learning: LearningParameters) -> LearningParameters:
    """``learning`` with ε = 1: η then makes a synapse's tag the rate twin's ΔW/ε
    (:func:`stdpsim.plasticity.sdvdt_updates`); ε is the consolidation's
    (:mod:`stdpsim.consolidation`)."""
    return dataclasses.replace(learning, eps_encoders=1.0, eps_decoders=1.0)


def tag_builder(model: RateModel, n_examples: int, params: SpikingParameters,
                learning: LearningParameters, gain_factor: bool = False):
    """The builder of :func:`run_tags`'s network (for a :func:`stdpsim.backend.session`)."""
    return learning_builder(model, n_examples, params, tag_unit(learning),
                            Mechanisms(tags=True, gain_factor=gain_factor))


def tag_session(model: RateModel, n_examples: int, params: SpikingParameters,
                learning: LearningParameters, gain_factor: bool = False) -> Any:
    """A :func:`stdpsim.backend.session` of :func:`tag_builder`'s network for
    ``n_examples`` examples, for :func:`run_tags` (a context manager)."""
    build = tag_builder(model, n_examples, params, learning, gain_factor)
    session = backend.session(build, n_examples * learning.t_example(params), dt=params.dt)
    session.tag_network = (n_examples, gain_factor, learning.events)
    return session


def run_tags(model: RateModel, x: np.ndarray, params: SpikingParameters,
             learning: LearningParameters, *, gain_factor: bool = False, seed: int = 0,
             session: Any = None, device: str | None = "auto",
             draws: np.ndarray | None = None
             ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, int], float]:
    """The tags the learner sets on the rows of ``x`` (shape (K, n_visible)) with
    ``model``'s weights held fixed: ``{layer: (T_W, T_b)}`` summed over the examples, in
    the rate twin's units (:func:`stdpsim.plasticity.sdvdt_updates`), the event counts and
    the run's seconds.

    ``gain_factor``: the postsynaptic gain factors
    (:func:`stdpsim.spiking.equations.gain_factors`) multiply every change.  ``session``: a
    :func:`tag_session` for K examples and the same ``gain_factor``, whose binary runs
    without generating the network's code again; without one, a one-shot
    :func:`stdpsim.backend.simulate` on ``device``.  ``draws``: the corruption draws
    (default: spike seed ``seed``'s, as in training), so that other spike seeds can see the
    same corruption.
    """
    x = checked_images(model, x)
    k = x.shape[0]
    unit = tag_unit(learning)
    values = learning_inputs(model, x, params, unit, seed=seed, draws=draws)
    wanted = (k, gain_factor, learning.events)
    if session is not None and getattr(session, "tag_network", None) != wanted:
        raise ValueError(f"the session runs {getattr(session, 'tag_network', None)} "
                         f"(examples, gain factor, corruption events), not {wanted}")
    if session is not None:
        res, run_s = session.run(values, seed)
    else:
        res, info = backend.simulate(tag_builder(model, k, params, learning, gain_factor),
                                     values,
                                     k * learning.t_example(params), device=device,
                                     dt=params.dt, seed=seed, progress=False)
        run_s = info.run_s
    tags = {n: (res[f"tag_{n}"], res[f"tag_b_{n}"]) for n in model.weights}
    return tags, learning_event_counts(res, model), run_s


def learning_event_counts(res: dict[str, np.ndarray], model: RateModel) -> dict[str, int]:
    """The learner's event counts: ``spikes_<layer>`` count every spike, of which
    ``spike_recon_<layer>`` fell in reconstruction phases (they drive only the decoder
    below); ``synaptic`` the synaptic updates all events caused."""
    events = wiring.event_counts(res, model)
    sizes = model.sizes
    for l in range(1, model.depth + 1):
        count = int(res[f"n_spike_recon_h{l}"])
        events["synaptic"] += count * sizes[l - 1]
        events[f"spikes_h{l}"] += count
        events[f"spike_recon_h{l}"] = count
    return events
