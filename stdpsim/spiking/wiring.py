"""Wiring a stack of any depth: one group of units per layer, built in a loop over the
layers, and the pathways between each pair of neighbouring layers, keyed by layer index.

A receiving neuron reads a presynaptic population through exponentially decaying synaptic
traces (time constant ``tau_syn``) whose mean is the pre-activation W·h: a spike train at
r_max·value/range with gain range/(n·r_max·τ_syn) per spike (n: neurons per unit) gives a
trace of mean value × weight.  The spike trains' fluctuations are the paper's spike-like
corruption; the rate model is the limit of high rates.

The encoder f_l of each pair is **one** :class:`brian2.Synapses` object with one weight
array and two pathways: ``data`` on layer l − 1's ``spike`` event feeds ``i_data``,
``recon`` on its ``recon`` event (its reconstruction g_l(h_l), which lives in the same
neurons) feeds ``i_recon``.  The decoder g_l runs on layer l's spikes and feeds layer
l − 1's top-down trace.  Every member of an ensemble carries its unit's weights (rows
repeated) with 1/n of the gain, so the read-out averages the members.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..rate_model import RateModel
from . import equations as eq
from .parameters import SpikingParameters, b2
from .stack import Layer, layer_names, layers, synaptic_events
from .units import KINDS, UnitKind


def namespace(p: SpikingParameters) -> dict[str, Any]:
    """The constants the network's equations use."""
    ns = {"tau": p.tau, "tau_syn": p.tau_syn, "tau_ff": p.tau_ff, "r_max": p.r_max,
          "t_settle": p.t_settle, "leak": p.alpha / p.delta, "h_max": p.h_max,
          "tau_out": p.step_time}
    if p.neuron == "lif":
        ns.update({"tau_m": p.tau_m, "v_th": p.v_th, "v_zero": p.v_zero, "v_span": p.v_span,
                   "v_unit_h": p.v_span / p.h_max, "tau_rec": p.tau_rec, "t_ref": p.t_ref,
                   "top_rate": p.top_rate})
    return ns


def gain(p: SpikingParameters, layer: Layer) -> float:
    """Trace increment per spike of one of ``layer``'s neurons (see the module docstring)."""
    return float(1.0 / (p.ensemble * p.r_max * p.tau_syn)) * layer.value_range


def connect_all(syn: Any, n_in: int, n_out: int) -> None:
    """All-to-all, synapse k = i·n_out + j, so ``w`` is a (n_in, n_out) matrix raveled."""
    i, j = np.divmod(np.arange(n_in * n_out), n_out)
    syn.connect(i=i, j=j)


@dataclasses.dataclass
class Stack:
    """The Brian2 groups of a stack.

    Attributes
    ----------
    layers
        The layers, visible first (:func:`stdpsim.spiking.stack.layers`).
    units
        One group per layer: the units, which hold the values.
    sources
        One group per layer: the group whose events leave the layer (the units, or their
        ensemble's members).
    """

    layers: list[Layer]
    units: list[Any]
    sources: list[Any]

    @property
    def objects(self) -> list[Any]:
        """Every group (units and members)."""
        return self.units + [s for s, u in zip(self.sources, self.units) if s is not u]


def build_stack(model: RateModel, p: SpikingParameters, ns: dict[str, Any],
                stimulus: Any, period: Any, visible_input: str,
                learning: bool = False, gain_factor: bool = False,
                corruption_draws: Any = None, event_timing: str = "poisson") -> Stack:
    """The groups of every layer of ``model`` (``stimulus``: the TimedArray of the digits),
    restarted every ``period``: the visible units take a new input x = ``visible_input`` (an
    expression), traces go back to zero, settling restarts and each unit its kind's start
    (:meth:`~stdpsim.spiking.units.UnitKind.start`).  ``learning``: the learner's
    equations and events; ``gain_factor``: its gain factors too
    (:func:`stdpsim.spiking.equations.gain_factors`); ``corruption_draws``: the TimedArray
    of the visible units' standard-normal draws per example, which compiles in the
    learner's corruption events (:data:`stdpsim.spiking.equations.CORRUPTION_SOURCE`; single
    neurons per unit only), timed as ``event_timing`` says
    (:func:`stdpsim.spiking.equations.corruption_events`)."""
    kind: UnitKind = KINDS[p.neuron]
    stack = layers(model, p)
    spiking = p.ensemble == 1  # else the units integrate and their members spike
    corrupted = corruption_draws is not None
    corruption = eq.corruption_events(event_timing) if corrupted else None
    if corrupted and not spiking:
        raise ValueError("corruption events need one neuron per unit (ensemble = 1), got "
                         f"ensemble = {p.ensemble}")
    units = []
    for layer in stack:
        group_ns = ({**ns, "digits": stimulus, **({"noises": corruption_draws}
                                                  if corrupted else {})}
                    if layer.index == 0 else ns)
        eqs = kind.equations(layer, model, learning, corruption, p.spike_generator)
        if gain_factor:
            eqs += eq.gain_factors(layer, model, corrupted and layer.index == 1)
        units.append(kind.units(layer, eqs, group_ns, p, spiking=spiking, learner=learning,
                                corruption=corruption))
    for layer, group in zip(stack, units):
        if layer.index == 0:
            first = f"t_start = t\nx = {visible_input}\nu_g1 = 0\n"
            first += corruption.start if corruption else ""
        else:
            first = "t_start = t\ni_data = 0\ni_recon = 0\n" + ("i_td = 0\n"
                                                                 if layer.has_recon else "")
            first += "i_noise = 0\n" if corrupted and layer.index == 1 else ""
        if gain_factor:
            first += eq.gain_start(layer)
        _start_at_rest(group, p)
        group.run_regularly(first + kind.start(layer, not spiking, p.spike_generator),
                            dt=period, when="start", name=f"{layer.name}_next_digit")
    sources = units if spiking else [
        kind.members(group, layer, p, ns, period, learner=learning)
        for layer, group in zip(stack, units)]
    return Stack(stack, units, sources)


def _start_at_rest(group: Any, p: SpikingParameters) -> None:
    """Membranes at the potential of value 0 before the run, where every example's start
    code puts them: a slope stored once per time step (the learner's ``dvdt``) is computed
    at the first step before that code runs, and from Brian2's default of 0 V it would throw
    the first example's values several units below 0."""
    for name in ("v_free", "v_free_rec"):
        if name in group.variables:
            setattr(group, name, p.v_zero)


def set_biases(stack: Stack, model: RateModel) -> None:
    """Each layer's biases from ``model`` (b_f<l> in h_l, b_g<l> in layer l − 1)."""
    for layer, group in zip(stack.layers, stack.units):
        for bias in eq.biases(layer):
            setattr(group, bias, model.biases[bias[2:]])


def pathways(stack: Stack, p: SpikingParameters,
             encoder: Callable[[Any, Any, str, float], Any],
             decoder: Callable[[Any, Any, str, float, str], Any]) -> dict[str, Any]:
    """The synapses of every layer pair: ``encoder(source, target, name, gain)`` for f_l
    (layer l − 1 → l) and ``decoder(source, target, name, gain, trace)`` for g_l (layer l
    → l − 1's top-down ``trace``), connected all-to-all, keyed ``f<l>``, ``g<l>``."""
    syn = {}
    for lower, upper in zip(stack.layers, stack.layers[1:]):
        l = upper.index
        syn[f"f{l}"] = encoder(stack.sources[l - 1], stack.units[l], f"f{l}",
                               gain(p, lower))
        syn[f"g{l}"] = decoder(stack.sources[l], stack.units[l - 1], f"g{l}", gain(p, upper),
                               eq.top_down_trace(lower))
        connect_all(syn[f"f{l}"], lower.size * p.ensemble, upper.size)
        connect_all(syn[f"g{l}"], upper.size * p.ensemble, lower.size)
    return syn


def weight_tied(source: Any, target: Any, name: str, gain_: float) -> Any:
    """An encoder: one Synapses object, one weight array ``w``, two pathways: ``data`` on
    the source's spikes feeds ``i_data``, ``recon`` on its reconstruction events feeds
    ``i_recon``."""
    return b2().Synapses(source, target, model="w : 1",
                         on_pre={"data": "i_data_post += w * gain",
                                 "recon": "i_recon_post += w * gain"},
                         on_event={"data": "spike", "recon": "recon"},
                         namespace={"gain": gain_}, name=name)


def top_down(source: Any, target: Any, name: str, gain_: float, trace: str) -> Any:
    """A decoder: the source's spikes feed the target's top-down ``trace``."""
    return b2().Synapses(source, target, model="w : 1", on_pre=f"{trace}_post += w * gain",
                         namespace={"gain": gain_}, name=name)


def repeated_weights(w: np.ndarray, ensemble: int) -> np.ndarray:
    """A layer's (n_in, n_out) weights as its synapses hold them: every member of a unit
    carries its unit's row, raveled (float64)."""
    return np.repeat(w.astype(np.float64), ensemble, axis=0).ravel()


def event_monitors(stack: Stack, record_spikes: bool = False
                   ) -> tuple[list, Callable[[], dict[str, np.ndarray]]]:
    """Monitors of every layer's spikes (all of them, or only their count) and of the
    reconstruction events (count), and a function reading them out as
    ``n_spikes_<layer>``, ``n_recon_<layer>`` (and ``spike_i_``/``spike_t_``)."""
    u = b2()
    spikes = {layer.name: u.SpikeMonitor(src, record=record_spikes,
                                         name=f"spikes_{layer.name}")
              for layer, src in zip(stack.layers, stack.sources)}
    recons = {layer.name: u.EventMonitor(src, "recon", record=False,
                                         name=f"recon_{layer.name}")
              for layer, src in zip(stack.layers, stack.sources) if layer.has_recon}

    def read() -> dict[str, np.ndarray]:
        out = {}
        for name, mon in spikes.items():
            out[f"n_spikes_{name}"] = np.asarray(mon.num_spikes)
            if record_spikes:
                out[f"spike_i_{name}"] = np.asarray(mon.i)
                out[f"spike_t_{name}"] = np.asarray(mon.t / u.second)
        for name, mon in recons.items():
            out[f"n_recon_{name}"] = np.asarray(mon.num_events)
        return out

    return [*spikes.values(), *recons.values()], read


def event_counts(res: dict[str, np.ndarray], model: RateModel) -> dict[str, int]:
    """Spike and reconstruction-event counts of a run, and the synaptic updates they
    caused."""
    names = layer_names(model.depth)
    events = {f"spikes_{n}": int(res[f"n_spikes_{n}"]) for n in names}
    events.update({f"recon_{n}": int(res[f"n_recon_{n}"]) for n in names[:-1]})
    events["synaptic"] = synaptic_events(events, model)
    return events
