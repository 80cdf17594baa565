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
    inputs do (documented in docs/stdp_curve.md).

All parameters carry Brian2 units.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from brian2 import NeuronGroup, mV, ms

_FREE_TEMPLATE = """
dv_free{s}/dt = dvdt{s}{noise} : volt
dvdt{s} = (u{s}{g} - v_free{s})/tau_m : volt/second{stored}
"""
_RESET_TEMPLATE = """dr{s}/dt = {recovery} : volt
v{s} = v_free{s} - r{s}{own_noise} : volt
"""

SPIKE_GENERATORS = ("leaky", "integrating")
"""How the reset deficit ``r`` recovers after a spike.

``leaky``
    With the membrane time constant, dr/dt = −r/τ_m: ``v`` obeys the LIF equation, and a
    constant ``v_free`` above threshold fires at 1 / (τ_m ln(1 + D/(v_free − v_th))) (D, the
    reset depth), nothing at or below it.
``integrating``
    At the pace of the free potential's depolarisation above ``v_zero`` (a namespace
    constant, volt): dr/dt = dvdt − [v_free − v_zero]₊/τ_m, so that ``v`` rises at
    [v_free − v_zero]₊/τ_m while ``v_free`` itself still leaks and moves with its inputs.
    The spike generator is then a perfect integrator of the depolarisation: a constant
    ``v_free`` fires at exactly (v_free − v_zero)/(τ_m·D), with no dead zone between
    ``v_zero`` and threshold, and below ``v_zero`` the generator holds its phase.  It stops
    integrating once ``v`` is one reset depth above threshold, so a drive above what the
    refractory period allows does not build up a backlog of spikes (at most that depth and
    one time step's rise).  The reading: a leaky dendrite whose depolarisation drives a soma
    at rates where the soma's own leak is negligible (a two-compartment neuron).  Needs the
    ``dvdt`` of the same membrane.
"""

_RECOVERY = {
    "leaky": "-r{s}/tau_m",
    "integrating": ("dvdt{s} - int(v{s} < v_th + reset_depth{s})"
                    " * clip(v_free{s} - v_zero, 0*mV, inf*mV)/tau_m"),
}
_RESET_CONSTANTS = """reset_depth{s} : volt (constant)
resets{s} : 1 (constant)
"""


def lif_equations(suffix: str = "", *, noise: bool = True, synaptic_input: bool = True,
                  stored_slope: bool = False, generator: str = "leaky") -> str:
    """The LIF membrane as Brian2 equation lines (see the module docstring).

    Parameters
    ----------
    suffix
        Appended to every variable name (``v_free_rec``, ``dvdt_rec``, ``r_rec``, ...), so
        that one neuron can carry two membranes of this same model; the constants
        (``tau_m``, ``tau_syn``) keep their names.
    noise
        Include the white membrane noise ``sigma*sqrt(2/tau_m)*xi`` (and the ``sigma``
        parameter); its noise variable is ``xi`` + ``suffix``.
    synaptic_input
        Include the decaying synaptic input ``g`` (volt), which spikes arriving through
        :func:`stdpsim.plasticity.sdvdt_synapses` increment.
    stored_slope
        Evaluate ``dvdt`` once per time step and store it (Brian2's ``constant over dt``)
        instead of recomputing it wherever it is read, e.g. by every synapse that learns
        from it at each presynaptic spike.
    generator
        How the reset deficit recovers, one of :data:`SPIKE_GENERATORS`.

    The caller adds a line defining ``u`` + ``suffix`` (volt).
    """
    s = suffix
    if s and not s.isidentifier():
        raise ValueError(f"suffix must be an identifier part, got {s!r}")
    if generator not in SPIKE_GENERATORS:
        raise ValueError(f"generator must be one of {SPIKE_GENERATORS}, got {generator!r}")
    free = _FREE_TEMPLATE.format(
        s=s,
        stored=" (constant over dt)" if stored_slope else "",
        noise=f" + sigma{s}*sqrt(2/tau_m)*xi{s}" if noise else "",
        g=f" + g{s}" if synaptic_input else "")
    recovery = _RECOVERY[generator].format(s=s)
    return (free + _RESET_TEMPLATE.format(s=s, own_noise="", recovery=recovery)
            + (f"dg{s}/dt = -g{s}/tau_syn : volt\n" if synaptic_input else "")
            + (f"sigma{s} : volt (constant)\n" if noise else "")
            + _RESET_CONSTANTS.format(s=s))


def lif_member_equations(*suffixes: str, noise: bool = False) -> str:
    """The spike generators of LIF neurons whose reset-free potentials live in another group.

    An ensemble of neurons that receive the same input shares one reset-free potential: each
    member links ``v_free`` + suffix (``(linked)``, e.g. to its unit's membrane) and has its
    own reset deficit ``r`` + suffix, its own ``v = v_free − r``, reset depth and reset
    switch, one per suffix (one neuron may carry several membranes, see
    :func:`lif_equations`), and one threshold offset ``theta`` (volt) shared by its
    membranes: it fires when ``v > v_th + theta`` (:func:`lif_threshold` with
    ``offset="theta"``).  The resets of :func:`lif_reset` apply unchanged; ``dvdt`` stays
    with the membrane that owns ``v_free``.

    ``noise``: each member also receives its own background input, so that its potential
    is the shared one plus its own Ornstein–Uhlenbeck fluctuation ``v_noise`` (time constant
    ``tau_m``, stationary standard deviation ``sigma``, volt; what white noise through the
    member's own membrane adds), ``v = v_free − r + v_noise`` for each of its membranes.
    Near threshold a member then fires by noise-driven crossings (escape noise) instead of
    on its logarithmic f-I curve.  The caller sets ``sigma`` and starts ``v_noise`` (e.g.
    ``sigma*randn()``).
    """
    if not suffixes:
        suffixes = ("",)
    lines = ["theta : volt (constant)\n"]
    if noise:
        lines.append("dv_noise/dt = -v_noise/tau_m + sigma*sqrt(2/tau_m)*xi_member : volt\n"
                     "sigma : volt (constant)\n")
    for s in suffixes:
        if s and not s.isidentifier():
            raise ValueError(f"suffix must be an identifier part, got {s!r}")
        lines.append(f"v_free{s} : volt (linked)\n"
                     + _RESET_TEMPLATE.format(s=s, own_noise=" + v_noise" if noise else "",
                                              recovery=_RECOVERY["leaky"].format(s=s))
                     + _RESET_CONSTANTS.format(s=s))
    return "".join(lines)


LIF_EQUATIONS = lif_equations()
"""LIF model.  The caller adds a line defining ``u`` (the voltage the drive pulls towards, in
volts), e.g. ``u = v_rest : volt`` or a time-dependent ramp.  ``sigma`` is the stationary
standard deviation of the membrane noise; ``reset_depth`` how far below threshold a spike
resets ``v``.  ``resets = 0`` switches the reset off: the membrane is never reset and the
neuron emits a spike every refractory period while ``v`` is above threshold (a
threshold-crossing read-out of the voltage).
"""

RESETS = ("value", "subtract")
"""Reset modes: ``value`` puts ``v`` at ``v_th − reset_depth`` (the classical hard reset);
``subtract`` lowers ``v`` by ``reset_depth`` and keeps the overshoot above threshold (the
"soft" reset), so that the mean rate stays exact however coarse the time step."""


def lif_threshold(suffix: str = "", offset: str | None = None) -> str:
    """Threshold condition of the membrane with that suffix: ``v > v_th``, or with a
    per-neuron ``offset`` (a variable name, volt) ``v > v_th + offset``."""
    return f"v{suffix} > v_th" + (f" + {offset}" if offset else "")


def lif_reset(suffix: str = "", mode: str = "value") -> str:
    """Reset statement of the membrane with that suffix (``mode``: one of :data:`RESETS`).

    Only ``r`` changes, so the reset-free ``v_free`` and the slope ``dvdt`` the rule reads
    are untouched.  ``value``: ``v`` jumps to ``v_th − reset_depth``.  ``subtract``: ``v``
    drops by ``reset_depth``.  For a constant ``v_free`` above threshold both fire at
    1 / max(t_ref, τ_m ln(1 + reset_depth / (v_free − v_th))) in continuous time (``r``
    recovers through the refractory period too); on a time grid the soft reset carries the
    overshoot over, so its mean rate stays exact, where the hard reset rounds every interval
    up to whole time steps.
    """
    s = suffix
    if mode == "value":
        return f"r{s} = resets{s}*(v_free{s} - (v_th - reset_depth{s}))"
    if mode == "subtract":
        return f"r{s} += resets{s}*reset_depth{s}"
    raise ValueError(f"reset mode must be one of {RESETS}, got {mode!r}")


LIF_THRESHOLD = lif_threshold()
LIF_RESET = lif_reset()


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
    reset_depth
        How far below threshold a spike resets ``v`` (10 mV); :func:`lif_group` starts
        every neuron with this reset switched on.
    """

    tau_m: Any = dataclasses.field(default_factory=lambda: 20 * ms)
    tau_syn: Any = dataclasses.field(default_factory=lambda: 5 * ms)
    v_th: Any = dataclasses.field(default_factory=lambda: -50 * mV)
    t_ref: Any = dataclasses.field(default_factory=lambda: 1 * ms)
    reset_depth: Any = dataclasses.field(default_factory=lambda: 10 * mV)

    def __post_init__(self) -> None:
        from brian2 import have_same_dimensions, second, volt

        for name, unit, what in (("tau_m", second, "a time (e.g. 20*ms)"),
                                 ("tau_syn", second, "a time (e.g. 5*ms)"),
                                 ("t_ref", second, "a time (e.g. 1*ms)"),
                                 ("v_th", volt, "a voltage (e.g. -50*mV)"),
                                 ("reset_depth", volt, "a voltage (e.g. 10*mV)")):
            if not have_same_dimensions(getattr(self, name), unit):
                raise ValueError(f"{name} must be {what}, got {getattr(self, name)!r}")
        for name in ("tau_m", "tau_syn"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if float(self.t_ref) < 0:
            raise ValueError(f"t_ref must not be negative, got {self.t_ref!r}")
        if not float(self.reset_depth) > 0:
            raise ValueError(f"the threshold v_th ({self.v_th!r}) must lie above the reset "
                             f"v_th − reset_depth: reset_depth must be positive, got "
                             f"{self.reset_depth!r}")

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
    reset: bool = True,
) -> NeuronGroup:
    """A group of ``n`` LIF neurons (see the module docstring) with the given drive.

    Every neuron starts without membrane noise (``sigma = 0``) and, with ``reset`` (the
    default), with the reset on: a spike puts ``v`` at ``v_th − params.reset_depth``.
    ``v_free`` starts at Brian2's default of 0 V, above threshold: set it (e.g. to ``u``).
    ``reset=False`` leaves the reset off (``resets = 0``): the neuron then spikes every
    refractory period while ``v`` is above threshold, the threshold-crossing read-out of
    Figure 1's main condition.  Both can be changed per neuron afterwards through the
    ``resets`` and ``reset_depth`` variables.

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
    reset
        Whether a spike resets the membrane (see above).
    """
    params = params or LIFParameters()
    namespace = params.namespace()
    namespace.update(extra_namespace or {})
    group = NeuronGroup(
        n,
        LIF_EQUATIONS + drive,
        threshold=LIF_THRESHOLD,
        reset=LIF_RESET,
        refractory=params.t_ref,
        method="euler",
        namespace=namespace,
        name=name,
    )
    group.resets = 1 if reset else 0
    group.reset_depth = params.reset_depth
    return group
