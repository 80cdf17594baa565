"""Kinds of unit behind one small interface: leaky integrate-and-fire and Poisson.

A kind turns a :class:`~stdpsim.spiking.stack.Layer` into Brian2 objects:

* :meth:`UnitKind.equations` — the layer's equations (:mod:`.equations` plus the kind's own
  way of holding a value);
* :meth:`UnitKind.units` — the layer's :class:`brian2.NeuronGroup`: with ``spiking`` its
  units emit ``spike`` (the value) and, below the top, ``recon`` events (the
  reconstruction); without, they only integrate (their ensemble's members spike);
* :meth:`UnitKind.start` — what the units reset at the start of every digit;
* :meth:`UnitKind.members` — ``ensemble`` member neurons per unit that read their unit's
  values through linked variables and emit the same events.

``lif`` (:class:`LIF`, the default)
    Every membrane is the LIF membrane of :mod:`stdpsim.neurons`.  A unit's value h sits in
    its reset-free potential, v_free = v_zero + v_unit·h; ``u``, the voltage the membrane
    relaxes towards, is u = v_free + τ_m·v_unit·dh/dt (a neural integrator), so ``dvdt``,
    which the S·dV/dt rule reads, is v_unit·dh/dt.  Spikes come from threshold and soft
    reset with refractory period ``t_ref``, at 1 / max(t_ref, τ_m ln(1 + D/(v_free − v_th)))
    ≈ r_max·h/range (D, the reset depth, = v_span/(τ_m·r_max)), nothing below D/2 above
    value 0; with the ``integrating`` spike generator
    (:data:`stdpsim.neurons.SPIKE_GENERATORS`) at exactly r_max·h/range.  Layers below the
    top carry a second membrane (suffix ``_rec``) for their reconstruction, which emits
    ``recon``.
    Ensemble members are spike generators (:func:`stdpsim.neurons.lif_member_equations`)
    sharing their unit's reset-free potential, with thresholds spread over one reset depth
    (:func:`threshold_offsets`) and optionally their own membrane noise.
``poisson`` (:class:`Poisson`)
    Poisson spike sources at r_max·clip(value/range, 0, 1), with no threshold, reset or
    refractory period; the value is a dimensionless variable ``v``.

A new kind subclasses :class:`UnitKind` and registers in :data:`KINDS`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import neurons
from ..rate_model import RateModel
from . import equations as eq
from .parameters import SpikingParameters, b2
from .stack import Layer


class UnitKind:
    """The interface of a kind of unit (see the module docstring)."""

    name = ""
    value = "v"
    """The variable holding a hidden unit's value (recorded after every step)."""
    learns = False
    """Whether the S·dV/dt learner can run on this kind (it reads a membrane's dV/dt)."""

    def equations(self, layer: Layer, model: RateModel, learning: bool = False,
                  corruption: eq.CorruptionEvents | None = None,
                  generator: str = "leaky") -> str:
        raise NotImplementedError

    def units(self, layer: Layer, eqs: str, namespace: dict, p: SpikingParameters, *,
              spiking: bool = True, learner: bool = False,
              corruption: eq.CorruptionEvents | None = None) -> Any:
        raise NotImplementedError

    def start(self, layer: Layer, members: bool, generator: str = "leaky") -> str:
        raise NotImplementedError

    def members(self, units: Any, layer: Layer, p: SpikingParameters, namespace: dict,
                period: Any, learner: bool = False) -> Any:
        raise NotImplementedError


class Poisson(UnitKind):
    name = "poisson"

    def equations(self, layer: Layer, model: RateModel, learning: bool = False,
                  corruption: eq.CorruptionEvents | None = None,
                  generator: str = "leaky") -> str:
        if learning or corruption:
            raise ValueError("the spiking learner needs LIF units (the rule reads their "
                             "dV/dt); got neuron='poisson'")
        if layer.index == 0:
            return eq.visible_equations(model)
        return eq.hidden_read_out(layer, model, f"\ndv/dt = {eq.drive(layer, 'v')} : 1\n")

    def _value(self, layer: Layer) -> str:
        return "x_in" if layer.index == 0 else "v"

    def units(self, layer: Layer, eqs: str, namespace: dict, p: SpikingParameters, *,
              spiking: bool = True, learner: bool = False,
              corruption: eq.CorruptionEvents | None = None) -> Any:
        if not spiking:
            return b2().NeuronGroup(layer.size, eqs, method="euler", namespace=namespace,
                                    name=layer.name)
        events = ({"recon": eq.rate_expression(eq.prediction(layer), layer.scale)}
                  if layer.has_recon else None)
        return b2().NeuronGroup(layer.size, eqs, method="euler",
                                threshold=eq.rate_expression(self._value(layer), layer.scale),
                                events=events, namespace=namespace, name=layer.name)

    def start(self, layer: Layer, members: bool, generator: str = "leaky") -> str:
        return "" if layer.index == 0 else "v = 0\n"

    def members(self, units: Any, layer: Layer, p: SpikingParameters, namespace: dict,
                period: Any, learner: bool = False) -> Any:
        u = b2()
        links = [("value", self._value(layer))]
        if layer.has_recon:
            links.append(("value_recon", eq.prediction(layer)))
        events = ({"recon": eq.rate_expression("value_recon", layer.scale)}
                  if layer.has_recon else None)
        group = u.NeuronGroup(units.N * p.ensemble,
                              "".join(f"{var} : 1 (linked)\n" for var, _ in links),
                              threshold=eq.rate_expression("value", layer.scale),
                              events=events, namespace=namespace, name=f"{layer.name}_members")
        owner = np.repeat(np.arange(units.N), p.ensemble)
        for var, target in links:
            setattr(group, var, u.linked_var(units, target, index=owner))
        return group


# ------------------------------------------------------------------------------------ LIF


def lif_membrane(suffix: str, slope: str, stored_slope: bool = False,
                 generator: str = "leaky") -> str:
    """One LIF membrane whose reset-free potential has slope ``slope`` (volt/s), with no
    membrane noise (the spikes' own timing is the noise) and no synaptic input (the traces
    carry it); ``stored_slope``: ``dvdt`` computed once per time step (for the synapses that
    read it); ``generator``: one of :data:`stdpsim.neurons.SPIKE_GENERATORS`."""
    return (neurons.lif_equations(suffix, noise=False, synaptic_input=False,
                                  stored_slope=stored_slope, generator=generator)
            + f"u{suffix} = v_free{suffix} + tau_m * ({slope}) : volt\n")


def _follow(suffix: str, value: str, v_unit: str, tau: str = "tau_rec",
            stored_slope: bool = False, generator: str = "leaky") -> str:
    """A reconstruction membrane following v_zero + v_unit·``value`` with time constant
    ``tau``, and the time of its last event (for its refractory period)."""
    return lif_membrane(suffix, f"(v_zero + {v_unit} * ({value}) - v_free{suffix}) / {tau}",
                        stored_slope, generator) + f"t_last{suffix} : second\n"


def lif_recon_event(offset: str | None = None) -> str:
    """The reconstruction membrane's spike condition (threshold ``offset`` as in
    :func:`stdpsim.neurons.lif_threshold`), with its own refractory period (Brian2's
    ``refractory`` covers only the group's ``spike`` event), counted in whole time steps as
    Brian2 counts its own: compared in seconds, t − t_last_rec falls short of t_ref by a
    rounding error in about a third of the steps, so a membrane that should fire at every
    step skips some, more or fewer as the run's clock advances."""
    return (f"{neurons.lif_threshold('_rec', offset)}"
            " and timestep(t - t_last_rec, dt) >= timestep(t_ref, dt)")


def threshold_offsets(n: int, reset_depth: Any) -> Any:
    """Threshold offsets of the n LIF members of a unit, evenly spread over one reset depth
    D around 0: D·((k + ½)/n − ½) for k = 0 … n − 1 (volt; 0 for n = 1).  The lowest
    threshold lies D/(2n) above the potential of value 0, so the population's dead zone is
    1/n of a single neuron's, and the offsets average to 0, so far above threshold the
    members' mean rate stays r_max·value."""
    k = np.arange(n)
    return reset_depth * ((k + 0.5) / n - 0.5)


LEARNER_EVENTS = {
    "spike": "recon_phase == 0",
    "recon": "recon_phase == 0",
    "spike_recon": "recon_phase == 1",
}
"""What each population of the learner sends in which phase (conditions added to its events).
The spikes of settling and INFERENCE (``spike``: the encoders' data pathways, the decoders'
predictions) and the reconstruction events (``recon``) are read only until the
reconstruction phase, where the latent values stay.  There the hidden layers keep firing at
their values as ``spike_recon`` events, the presynaptic spikes with which the decoders learn,
driving only the decoders."""


class LIF(UnitKind):
    name = "lif"
    value = "h"
    learns = True

    def equations(self, layer: Layer, model: RateModel, learning: bool = False,
                  corruption: eq.CorruptionEvents | None = None,
                  generator: str = "leaky") -> str:
        """``corruption`` (learner only): the visible units send these corruption events
        and h1's settling reads them (:data:`stdpsim.spiking.equations.CORRUPTION_SOURCE`);
        ``generator``: every membrane's spike generator
        (:data:`stdpsim.neurons.SPIKE_GENERATORS`)."""
        if corruption and not learning:
            raise ValueError("corruption events belong to the learner's network")
        if layer.index == 0:
            return self._visible(model, learning, corruption, generator)
        v_unit = layer.v_unit
        eqs = eq.hidden_read_out(layer, model, f"\nh = (v_free - v_zero) / {v_unit} : 1")
        if not learning:
            eqs += lif_membrane("", f"{v_unit} * ({eq.drive(layer, 'h')})",
                                generator=generator)
            return eqs + (_follow("_rec", "top_down", v_unit, generator=generator)
                          if layer.has_recon else "")
        eqs = eq.learnable(eqs, eq.biases(layer)) + eq.learning_phases(corruption is not None)
        noisy = corruption is not None and layer.index == 1
        if noisy:
            eqs += eq.corrupted_read_out(layer, model)
        drive = eq.drive(layer, "h", noisy)
        eqs += eq.saturation(layer, drive) + lif_membrane(
            "", f"{v_unit} * (1 - recon_phase) * (1 - blocked) * ({drive})", stored_slope=True,
            generator=generator)
        if layer.has_recon:
            eqs += _follow("_rec", "top_down * (1 - recon_phase) + h * recon_phase", v_unit,
                           "tau_follow", stored_slope=True, generator=generator)
        return eqs

    @staticmethod
    def _visible(model: RateModel, learning: bool,
                 corruption: eq.CorruptionEvents | None = None,
                 generator: str = "leaky") -> str:
        """One membrane codes what the data spikes carry (x, or in-painting's x_in); a second
        (``_rec``) the reconstruction x̂; ``learning``: in the reconstruction phase x̂'s
        membrane moves to the data x; ``corruption``: each unit's variability ``noise`` and
        what times its events."""
        data = lif_membrane("", "(v_zero + v_span * x_in - v_free) / tau_rec",
                            generator=generator)
        if not learning:
            return (eq.visible_equations(model) + data
                    + _follow("_rec", "x_recon", "v_span", generator=generator))
        return (eq.learnable(eq.visible_equations(model), ("b_g1",))
                + eq.learning_phases(corruption is not None)
                + data + _follow("_rec", "x_recon * (1 - recon_phase) + x * recon_phase",
                                 "v_span", "tau_follow", stored_slope=True,
                                 generator=generator)
                + (corruption.source if corruption else ""))

    def units(self, layer: Layer, eqs: str, namespace: dict, p: SpikingParameters, *,
              spiking: bool = True, learner: bool = False,
              corruption: eq.CorruptionEvents | None = None) -> Any:
        noise = corruption if layer.index == 0 else None
        return lif_group(layer.size, eqs, layer.name, namespace, p, recon=layer.has_recon,
                         learner=learner, decoder_pre=learner and layer.index > 0,
                         spiking=spiking, corruption=noise)

    def start(self, layer: Layer, members: bool, generator: str = "leaky") -> str:
        """Potentials at value 0 (visible: at the digit); without members also the reset
        deficits, a random fraction of a reset depth above what keeps v below threshold
        (random phases, and no burst while the deficit builds up); with the ``integrating``
        generator, v uniform over the reset depth below threshold (its phase), wherever
        v_free starts."""
        def deficit(s: str, leaky: str) -> str:
            return (f"r{s} = v_free{s} - v_th + reset_depth{s} * rand()"
                    if generator == "integrating" else f"r{s} = {leaky}")

        lines = ["v_free = v_zero + v_span * x" if layer.index == 0 else "v_free = v_zero",
                 deficit("", "clip(v_free - v_th, 0*mV, inf*mV) + reset_depth * rand()"
                         if layer.index == 0 else "reset_depth * rand()")]
        if layer.has_recon:
            lines += ["v_free_rec = v_zero", deficit("_rec", "reset_depth_rec * rand()")]
        return "".join(line + "\n" for line in lines
                       if not members or line.startswith("v_free"))

    def members(self, units: Any, layer: Layer, p: SpikingParameters, namespace: dict,
                period: Any, learner: bool = False) -> Any:
        """LIF members restart their reset deficits every ``period`` (a digit or example),
        after their units (``order``); ``learner``: their events gated by their unit's
        phase."""
        u = b2()
        recon = layer.has_recon
        suffixes = ("", "_rec") if recon else ("",)
        noise = float(p.member_sigma) > 0
        eqs = (neurons.lif_member_equations(*suffixes, noise=noise)
               + ("t_last_rec : second\n" if recon else "")
               + ("recon_phase : 1 (linked)\n" if learner else ""))
        group = lif_group(units.N * p.ensemble, eqs, f"{layer.name}_members", namespace, p,
                          recon=recon, learner=learner,
                          decoder_pre=learner and layer.index > 0, offset="theta")
        group.theta = np.tile(threshold_offsets(p.ensemble, p.reset_depth), units.N)
        if noise:  # each member's own fluctuation starts from its stationary distribution
            group.sigma = p.member_sigma
            group.v_noise = "sigma * randn()"
        owner = np.repeat(np.arange(units.N), p.ensemble)
        for s in suffixes:
            setattr(group, f"v_free{s}", u.linked_var(units, f"v_free{s}", index=owner))
        if learner:
            group.recon_phase = u.linked_var(units, "recon_phase", index=owner)
        first = ("r = clip(v_free - v_th - theta, 0*mV, inf*mV) + reset_depth * rand()"
                 if layer.index == 0 else "r = reset_depth * rand()")
        restart = first + "\n" + ("r_rec = reset_depth_rec * rand()\n" if recon else "")
        group.run_regularly(restart, dt=period, when="start", order=1,
                            name=f"{layer.name}_members_next_digit")
        return group


def lif_group(n: int, eqs: str, name: str, namespace: dict, p: SpikingParameters,
              recon: bool, learner: bool = False, decoder_pre: bool = False,
              spiking: bool = True, offset: str | None = None,
              corruption: eq.CorruptionEvents | None = None) -> Any:
    """A group of LIF units (threshold, soft reset, refractory period); with ``recon`` a
    reconstruction membrane with its own ``recon`` event.  ``spiking=False``: the membranes
    without threshold or events (an ensemble's units).  ``offset``: a per-neuron threshold
    offset variable (the members' ``theta``).  ``learner``: events split by phase
    (:data:`LEARNER_EVENTS`); with ``decoder_pre`` also a ``spike_recon`` event, with the
    same reset and refractory period as ``spike``.  ``corruption``: the visible units'
    corruption events (a ``noise`` event with its own reset)."""
    u = b2()
    if not spiking:
        return u.NeuronGroup(n, eqs, method="euler", namespace=namespace, name=name)

    def when(event: str) -> str:
        return f" and {LEARNER_EVENTS[event]}" if learner else ""

    events = {"noise": corruption.condition} if corruption else {}
    if recon:
        events["recon"] = lif_recon_event(offset) + when("recon")
    if decoder_pre:  # refractoriness as for ``spike``: Brian2's not_refractory
        events["spike_recon"] = (f"{neurons.lif_threshold(offset=offset)}"
                                 f"{when('spike_recon')} and not_refractory")
    group = u.NeuronGroup(n, eqs, method="euler",
                          threshold=neurons.lif_threshold(offset=offset) + when("spike"),
                          reset=neurons.lif_reset(mode="subtract"), refractory=p.t_ref,
                          namespace=namespace, name=name, events=events or None)
    group.resets = 1
    group.reset_depth = p.reset_depth
    if corruption and corruption.reset:
        group.run_on_event("noise", corruption.reset)
    if recon:
        group.resets_rec = 1
        group.reset_depth_rec = p.reset_depth
        group.t_last_rec = -1 * u.second
        group.run_on_event("recon", neurons.lif_reset("_rec", mode="subtract")
                           + "\nt_last_rec = t")
    if decoder_pre:
        group.run_on_event("spike_recon", neurons.lif_reset(mode="subtract")
                           + "\nlastspike = t")
    return group


KINDS: dict[str, UnitKind] = {"lif": LIF(), "poisson": Poisson()}
"""The kinds of unit by name (:data:`stdpsim.spiking.parameters.NEURONS`)."""
