"""Leaky integrate-and-fire neurons whose voltage slope dV/dt is a named variable.

The membrane is written as two parts so that the plasticity rule can read a slope that the
neuron's own reset does not touch::

    v = v_free - r

``v_free``
    The *free* membrane potential: the LIF equation integrated without any reset, i.e. the
    voltage that the neuron's inputs (drive ``u``, synaptic input ``g``, noise) produce.
``r``
    The reset deficit: set at a spike so that ``v`` jumps to ``v_reset``, then decaying with
    the membrane time constant.  ``v`` therefore obeys the ordinary LIF equation with a hard
    reset, ``tau_m dv/dt = u + g - v`` between spikes.

``dvdt``
    The drift of the free potential, ``(u + g - v_free) / tau_m``: the deterministic part of
    dV/dt given the present voltage.  This is what ΔW ∝ S_pre · dV_post/dt reads.  White
    noise has no derivative, so the noise term ``sigma*sqrt(2/tau_m)*xi`` is left out (it
    enters only through the voltage itself).  The reset jump is left out too, and so is the
    fast recovery from it: at and after a spike ``dvdt`` still says where the inputs are
    taking the voltage, not where the reset threw it.  A rule reading the reset membrane's
    drift instead would see a large positive slope just after every post spike, whatever its
    inputs do (documented in the README's Figure-1 section).

All parameters carry Brian2 units.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from brian2 import NeuronGroup, mV, ms

LIF_EQUATIONS = """
dv_free/dt = dvdt + sigma*sqrt(2/tau_m)*xi : volt
dvdt = (u + g - v_free)/tau_m : volt/second
dr/dt = -r/tau_m : volt
v = v_free - r : volt
dg/dt = -g/tau_syn : volt
sigma : volt (constant)
reset_depth : volt (constant)
resets : 1 (constant)
"""
"""LIF model.  The caller adds a line defining ``u`` (the voltage the drive pulls towards, in
volts), e.g. ``u = v_rest : volt`` or a time-dependent ramp.  ``sigma`` is the stationary
standard deviation of the membrane noise; ``reset_depth`` how far below threshold a spike
resets ``v``.  ``resets = 0`` switches the reset off: the membrane is never reset and the
neuron emits a spike every refractory period while ``v`` is above threshold (a
threshold-crossing read-out of the voltage).
"""

LIF_THRESHOLD = "v > v_th"
LIF_RESET = "r = resets*(v_free - (v_th - reset_depth))"


@dataclasses.dataclass(frozen=True)
class LIFParameters:
    """Parameters of :data:`LIF_EQUATIONS` (all with units).

    Attributes
    ----------
    tau_m
        Membrane time constant (20 ms, a typical cortical value).
    tau_syn
        Decay time constant of the synaptic input ``g`` (5 ms).
    v_th
        Firing threshold (−50 mV).
    t_ref
        Absolute refractory period (1 ms).
    """

    tau_m: Any = dataclasses.field(default_factory=lambda: 20 * ms)
    tau_syn: Any = dataclasses.field(default_factory=lambda: 5 * ms)
    v_th: Any = dataclasses.field(default_factory=lambda: -50 * mV)
    t_ref: Any = dataclasses.field(default_factory=lambda: 1 * ms)

    def namespace(self) -> dict[str, Any]:
        """The constants as a Brian2 namespace."""
        return {
            "tau_m": self.tau_m,
            "tau_syn": self.tau_syn,
            "v_th": self.v_th,
        }


def lif_group(
    n: int,
    drive: str,
    params: LIFParameters | None = None,
    *,
    extra_namespace: dict[str, Any] | None = None,
    name: str = "lif",
) -> NeuronGroup:
    """A group of ``n`` LIF neurons (see the module docstring) with the given drive.

    Parameters
    ----------
    n
        Number of neurons.
    drive
        Brian2 equation lines defining ``u : volt`` and any per-neuron parameters it uses.
    params
        Membrane constants.
    extra_namespace
        Constants used by ``drive``.
    name
        Brian2 object name (unique within a network).
    """
    params = params or LIFParameters()
    namespace = params.namespace()
    namespace.update(extra_namespace or {})
    return NeuronGroup(
        n,
        LIF_EQUATIONS + drive,
        threshold=LIF_THRESHOLD,
        reset=LIF_RESET,
        refractory=params.t_ref,
        method="euler",
        namespace=namespace,
        name=name,
    )
