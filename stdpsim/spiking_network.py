"""Spiking targetprop INFERENCE in Brian2: voltages are the latent variables, spikes quantise them.

The rate model's INFERENCE (:func:`stdpsim.rate_model.inference`) is the Euler discretisation,
with step δ, of the ODEs

    τ dh2/dt = f2(h1) − f2(g2(h2))
    τ dh1/dt = f1(x) − f1(g1(h1)) + (α/δ) (g2(h2) − h1)

so N steps of INFERENCE take the time N·δ·τ.  Here each latent unit is a neuron whose
value h obeys this equation, and every quantity that crosses from one population to another
travels as spikes:

=============  =====  ==============================================  ========================
population     size   membranes / variables                            spikes ("spike", "recon")
=============  =====  ==============================================  ========================
``visible``    784    x (the digit), x̂ = g1(h1) from h1's spikes       r_max·x, r_max·x̂
``h1``         1000   h1; f1(x), f1(x̂), ĥ1 = g2(h2) from spikes        r_max·h1/h1_max, r_max·ĥ1/h1_max
``h2``         100    h2; f2(h1), f2(ĥ1) from spikes                   r_max·h2
=============  =====  ==============================================  ========================

Two kinds of unit (``SpikingParameters.neuron``):

``lif`` (default)
    Leaky integrate-and-fire neurons of :mod:`stdpsim.neurons`.  A unit's value lives in the
    reset-free potential of a membrane (v_free = v_zero + v_unit·h), whose slope ``dvdt`` is
    the one the S·dV/dt rule reads; spikes come from threshold and soft reset with a
    refractory period ``t_ref``, at the rate 1 / max(t_ref, τ_m ln(1 + D/(v_free − v_th)))
    ≈ r_max·h/scale (D = v_span/(τ_m·r_max), the reset depth).  The visible units and h1 carry
    a second membrane of the same model (suffix ``_rec``) for their reconstruction x̂ or ĥ1,
    which emits the ``recon`` events.  The spikes are nearly periodic: they quantise the value
    rather than add Poisson noise.  Two deviations from r_max·h: values below
    1/(2·τ_m·r_max) of the range do not fire (0.0125 at the defaults), and a changing value
    fires at r_max·(h + τ_m·dh/dt) (the soft reset's memory), which is why τ_m is short (5 ms).
``poisson``
    Poisson spike sources at r_max·clip(h/scale, 0, 1), with no threshold, reset or refractory
    period (the first spiking network of this project); the latent value is a dimensionless
    variable ``v``.

**Ensembles** (``SpikingParameters.ensemble`` = n > 1): every unit keeps its value (the
membrane's reset-free potential for ``lif``, ``v`` for ``poisson``) but does not spike itself;
n member neurons per unit (groups ``visible_members``, ``h1_members``, ``h2_members``) read it
through linked variables and fire at up to ``r_max`` each.  LIF members are spike generators of
:func:`stdpsim.neurons.lif_member_equations`: the unit's reset-free potential, their own reset
deficits and phases, and thresholds spread evenly over one reset depth
(:func:`threshold_offsets`), so the population begins to fire at value 0 where one neuron's
dead zone would swallow small values, and optionally their own membrane noise
(``member_sigma``).  Every member projects to its unit's targets with its unit's weights and
1/n of the gain, so the read-out averages the members.

A receiving neuron reads a presynaptic population through exponentially decaying synaptic
traces (time constant ``tau_syn``) whose mean is the pre-activation W·h: the spike trains'
fluctuations are the paper's spike-like corruption, and the rate model is the limit of high
rates.

The encoder of each pair is **one** :class:`brian2.Synapses` object with one weight array and
two pathways: the data pathway runs on the presynaptic population's ``spike`` event and feeds
the trace of f(h_below), the reconstruction pathway runs on its ``recon`` event (the
reconstruction g(h_above), which lives in the same neurons) and feeds the trace of f(g(h)).
The nonlinearities come from :data:`stdpsim.rate_model.ACTIVATION_EXPRESSIONS`, the same
definitions the rate model is tested against.

Each digit gets a period of ``t_settle`` in which the voltages relax quickly (``tau_ff``)
to the feed-forward values f1(x), f2(h1) — INFERENCE's start, computed by the network itself
from spikes — then ``n_steps`` INFERENCE steps of length δ·τ.  Voltages and traces are reset
at the start of every digit, so K digits run one after another in one simulation (one compiled
program), the digits switching through a :class:`brian2.TimedArray` passed at start-up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from . import backend, neurons
from .rate_model import (RateModel, activation_expression, ancestral_sample, inference,
                         log_joint)

N_VISIBLE, N_H1, N_H2 = 784, 1000, 100
NEURONS = ("lif", "poisson")
"""Kinds of unit: leaky integrate-and-fire (threshold, reset, refractory) or Poisson."""


@dataclasses.dataclass(frozen=True)
class SpikingParameters:
    """Time constants, rates and INFERENCE constants of the spiking network (with units).

    Attributes
    ----------
    tau
        Membrane time constant: one INFERENCE step (δ) lasts δ·τ (20 ms → 2 ms per step).
    tau_syn
        Decay time of the synaptic traces that turn spikes back into pre-activations.
    r_max
        Firing rate of a neuron at the top of its unit's range (h2 = 1, h1 = ``h1_max``,
        x = 1); a unit of ``ensemble`` neurons fires at up to ensemble·r_max.  The default
        8 kHz with one neuron per unit is far above a cortical neuron; ``ensemble`` = 10 at
        200 Hz is a cortical setting.  Fidelity against the rate per neuron, the ensemble
        and τ, for both kinds of unit: ``experiments/spiking_vs_rate.py``.
    h1_max
        The h1 value (softplus units, dimensionless) coded by ``r_max``; larger values clip.
    t_settle
        Feed-forward phase at the start of each digit (a multiple of δ·τ).
    tau_ff
        Time constant with which the voltages follow the feed-forward values while settling.
    dt
        Simulation time step (δ·τ must be a multiple of it).
    n_steps, delta, alpha
        INFERENCE: number of steps, step size δ, top-down weight α (as in the rate model).
    neuron
        ``"lif"``: every unit is a leaky integrate-and-fire neuron of
        :mod:`stdpsim.neurons` that spikes by threshold and (subtractive) reset, with a
        refractory period; ``"poisson"``: units fire Poisson spikes at their rate, with no
        threshold, reset or refractoriness (the first spiking network of this project).
    v_span
        LIF: how far the reset-free potential of a unit at the top of its range (h2 = 1,
        h1 = ``h1_max``, x = 1) sits above the potential of value 0.
    tau_m
        LIF: membrane time constant, with which the reset deficit recovers; with
        ``v_span`` and ``r_max`` it sets the reset depth v_span / (τ_m · r_max).
    v_th
        LIF: firing threshold.
    t_ref
        LIF: absolute refractory period (at most one spike per ``t_ref``).
    tau_rec
        LIF: time constant with which a reconstruction membrane (x̂ in the visible units,
        ĥ1 in h1) follows its prediction g(·).
    ensemble
        Neurons per latent unit.  With more than one, a unit's value no longer spikes
        itself: it drives ``ensemble`` member neurons that fire at up to ``r_max`` each, so
        the unit's population fires at up to ensemble·r_max, and receivers read it through
        the same traces with 1/ensemble of the gain per spike (the read-out averages the
        members).  LIF members share their unit's reset-free potential and have their own
        reset deficits, random phases and thresholds spread evenly over one reset depth;
        Poisson members draw independently.  Every member projects to every target of its
        unit: synapses grow ×ensemble, synaptic events with the population rate.
    member_sigma
        LIF ensembles: the standard deviation of each member's own membrane noise (volt;
        an Ornstein–Uhlenbeck fluctuation with time constant ``tau_m`` added to the shared
        potential, :func:`stdpsim.neurons.lif_member_equations`).  0 (default): members
        differ only in their thresholds and phases.  0.2 reset depths (2 mV at 50 Hz with
        ``tau_m`` = 20 ms) took 40 members per unit at 50 Hz each to an h2 correlation of
        0.96–0.97 (``experiments/spiking_vs_rate.py``).
    """

    tau: Any = dataclasses.field(default_factory=lambda: 20 * _b2().ms)
    tau_syn: Any = dataclasses.field(default_factory=lambda: 1 * _b2().ms)
    r_max: Any = dataclasses.field(default_factory=lambda: 8000 * _b2().Hz)
    h1_max: float = 4.0
    t_settle: Any = dataclasses.field(default_factory=lambda: 10 * _b2().ms)
    tau_ff: Any = dataclasses.field(default_factory=lambda: 2 * _b2().ms)
    dt: Any = dataclasses.field(default_factory=lambda: 0.05 * _b2().ms)
    n_steps: int = 20
    delta: float = 0.1
    alpha: float = 0.001
    neuron: str = "lif"
    v_span: Any = dataclasses.field(default_factory=lambda: 10 * _b2().mV)
    tau_m: Any = dataclasses.field(default_factory=lambda: 5 * _b2().ms)
    v_th: Any = dataclasses.field(default_factory=lambda: -50 * _b2().mV)
    t_ref: Any = dataclasses.field(default_factory=lambda: 0.1 * _b2().ms)
    tau_rec: Any = dataclasses.field(default_factory=lambda: 1 * _b2().ms)
    ensemble: int = 1
    member_sigma: Any = dataclasses.field(default_factory=lambda: 0 * _b2().mV)

    def __post_init__(self) -> None:
        b2 = _b2()
        if self.neuron not in NEURONS:
            raise ValueError(f"neuron must be one of {NEURONS}, got {self.neuron!r}")
        if isinstance(self.ensemble, bool) or not isinstance(self.ensemble, (int, np.integer)) \
                or self.ensemble < 1:
            raise ValueError(f"ensemble (neurons per unit) must be a whole number ≥ 1, got "
                             f"{self.ensemble!r}")
        for name in ("v_span", "v_th", "member_sigma"):
            if not b2.have_same_dimensions(getattr(self, name), b2.volt):
                raise ValueError(f"{name} must be a voltage (e.g. 10*mV), got "
                                 f"{getattr(self, name)!r}")
        for name in ("tau", "tau_syn", "t_settle", "tau_ff", "dt", "tau_m", "t_ref",
                     "tau_rec"):
            value = getattr(self, name)
            if not b2.have_same_dimensions(value, b2.second):
                raise ValueError(f"{name} must be a time (e.g. 10*ms), got {value!r}")
        if not b2.have_same_dimensions(self.r_max, b2.Hz):
            raise ValueError(f"r_max must be a rate (e.g. 1000*Hz), got {self.r_max!r}")
        for name in ("tau", "tau_syn", "tau_ff", "dt", "r_max", "h1_max", "delta", "t_settle",
                     "v_span", "tau_m", "tau_rec"):
            if not float(getattr(self, name)) > 0:  # (t_settle: INFERENCE starts from f(x))
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if float(self.t_ref) < 0:
            raise ValueError(f"t_ref must not be negative, got {self.t_ref!r}")
        if float(self.member_sigma) < 0:
            raise ValueError(f"member_sigma must not be negative, got {self.member_sigma!r}")
        if float(self.member_sigma) > 0 and (self.neuron != "lif" or self.ensemble < 2):
            raise ValueError("member_sigma is the noise of LIF ensemble members: it needs "
                             f"neuron='lif' and ensemble ≥ 2 (got {self.neuron!r}, "
                             f"{self.ensemble})")
        if self.alpha < 0:
            raise ValueError(f"alpha must not be negative, got {self.alpha}")
        if self.n_steps < 1:
            raise ValueError(f"n_steps must be at least 1, got {self.n_steps}")
        if float(self.r_max * self.dt) > 1:
            raise ValueError(f"r_max·dt = {float(self.r_max * self.dt):.3g} > 1: a unit cannot "
                             "fire more than once per time step; lower dt or r_max")
        if self.neuron == "lif" and float(self.r_max * self.t_ref) >= 1:
            raise ValueError(f"r_max·t_ref = {float(self.r_max * self.t_ref):.3g} ≥ 1: the "
                             "refractory period caps the rate below r_max; shorten t_ref")
        if self.neuron == "lif" and float(self.t_ref) > float(self.step_time):
            raise ValueError(f"t_ref ({self.t_ref}) is longer than one INFERENCE step δ·τ "
                             f"({self.step_time}): a unit could not fire within a step")
        for name, whole, part in (("δ·τ", self.step_time, self.dt),
                                  ("t_settle", self.t_settle, self.step_time)):
            ratio = float(whole / part)
            if abs(ratio - round(ratio)) > 1e-6:
                raise ValueError(f"{name} ({whole}) must be a whole multiple of {part}")

    @property
    def step_time(self) -> Any:
        """Duration of one INFERENCE step, δ·τ."""
        return self.delta * self.tau

    @property
    def t_digit(self) -> Any:
        """Time per digit: settling, ``n_steps`` steps, and one step of margin."""
        return self.t_settle + (self.n_steps + 1) * self.step_time

    @property
    def reset_depth(self) -> Any:
        """LIF: the voltage a spike takes off, v_span / (τ_m · r_max), so that a unit fires
        at r_max · (value / top of its range)."""
        return self.v_span / (self.tau_m * self.r_max)

    @property
    def v_zero(self) -> Any:
        """LIF: the reset-free potential of value 0, half a reset depth below threshold (the
        rate of a unit with a soft reset is then r_max · value, without an offset)."""
        return self.v_th - self.reset_depth / 2

    def steps_per_digit(self) -> int:
        return int(round(float(self.t_digit / self.step_time)))

    def settle_steps(self) -> int:
        return int(round(float(self.t_settle / self.step_time)))


def sweep_parameters(r_max_hz: float, tau_ms: float, **overrides: Any) -> SpikingParameters:
    """Parameters for one point of a sweep over r_max (Hz) and τ (ms), for the experiments
    that sweep them: dt at most 0.05 ms and 0.4/r_max and dividing a step (δ·τ), settling
    at least 10 ms and a whole number of steps, refractory period two time steps; the other
    parameters as ``overrides`` says or by default."""
    b2 = _b2()
    step_ms = overrides.get("delta", SpikingParameters.delta) * tau_ms
    dt = step_ms / np.ceil(step_ms / min(0.05, 400.0 / r_max_hz)) * b2.ms
    settle = np.ceil(10.0 / step_ms) * step_ms * b2.ms
    return SpikingParameters(**{"r_max": r_max_hz * b2.Hz, "tau": tau_ms * b2.ms, "dt": dt,
                                "t_settle": settle, "t_ref": 2 * dt, **overrides})


def _b2():
    import brian2

    return brian2


# ------------------------------------------------------------------------------ equations


def visible_equations(model: RateModel) -> str:
    """Visible units: the digit ``x``, the reconstruction x̂ = g1(h1) read from h1's spikes,
    ``x_out``, x̂ averaged over the last INFERENCE step (time constant δ·τ; the read-out that
    GENERATE feeds back and returns), and ``x_in``, what the data spikes carry: x, except
    that pixels flagged ``missing`` carry x_out once settling is over (in-painting's
    f1(x^visible, g1(h1)^missing))."""
    return f"""
x : 1
du_g1/dt = -u_g1 / tau_syn : 1
x_recon = {activation_expression(model.activations["g1"], "u_g1 + b_g1")} : 1
dx_out/dt = (x_recon - x_out) / tau_out : 1
x_in = x + missing * (1 - settle) * (clip(x_out, 0, 1) - x) : 1
settle = int(t - t_start < t_settle) : 1
t_start : second (shared)
missing : 1 (constant)
b_g1 : 1 (constant)
"""


def _encoder_read_out(activation: str, bias: str) -> str:
    """Equation lines shared by h1 and h2: their encoder f applied to the data trace and to
    the reconstruction trace, both traces, and the clock of the settling phase."""
    return f"""
f_data = {activation_expression(activation, f"i_data + {bias}")} : 1
f_recon = {activation_expression(activation, f"i_recon + {bias}")} : 1
di_data/dt = -i_data / tau_syn : 1
di_recon/dt = -i_recon / tau_syn : 1
settle = int(t - t_start < t_settle) : 1
t_start : second (shared)
{bias} : 1 (constant)
"""


def h1_equations(model: RateModel) -> str:
    """h1 units: τ dv/dt = f1(x) − f1(x̂) + (α/δ)(ĥ1 − v) after settling on f1(x)."""
    return f"""
dv/dt = (1 - settle) * (f_data - f_recon + leak * (top_down - v)) / tau
        + settle * (f_data - v) / tau_ff : 1
top_down = {activation_expression(model.activations["g2"], "i_td + b_g2")} : 1
di_td/dt = -i_td / tau_syn : 1
b_g2 : 1 (constant)
""" + _encoder_read_out(model.activations["f1"], "b_f1")


def h2_equations(model: RateModel) -> str:
    """h2 units: τ dv/dt = f2(h1) − f2(ĥ1) after settling on f2(h1)."""
    return """
dv/dt = (1 - settle) * (f_data - f_recon) / tau + settle * (f_data - v) / tau_ff : 1
""" + _encoder_read_out(model.activations["f2"], "b_f2")


def rate_expression(value: str, scale: str = "1") -> str:
    """Brian2 condition for a Poisson spike of a unit whose value is ``value`` (rate
    r_max·value/scale, clipped to [0, r_max])."""
    return f"rand() < r_max * clip(({value}) / {scale}, 0, 1) * dt"


# ------------------------------------------------------------------ LIF units (the default)
#
# Every membrane is the LIF membrane of :mod:`stdpsim.neurons` (reset-free potential
# ``v_free``, reset deficit ``r``, ``v = v_free − r``), with no membrane noise (the spikes'
# own timing is the noise) and no ``g`` (the traces below carry the synaptic input).  A
# unit's value h sits in its reset-free potential, v_free = v_zero + v_unit·h.  ``u``, the
# voltage the membrane relaxes towards, is chosen so that v_free obeys the targetprop
# dynamics: u = v_free + τ_m·v_unit·(dh/dt), i.e. the leak is balanced by the unit's own
# excitation — a neural integrator — and ``dvdt``, which the S·dV/dt rule reads, is
# v_unit·dh/dt.  Spikes come from threshold and soft reset: r recovers with τ_m, so the
# neuron fires at 1 / max(t_ref, τ_m ln(1 + D / (v_free − v_th))) ≈ r_max·h/scale.


def lif_membrane(suffix: str, slope: str, stored_slope: bool = False) -> str:
    """One LIF membrane (see above) whose reset-free potential has slope ``slope`` (volt/s);
    ``stored_slope``: ``dvdt`` computed once per time step (for the synapses that read it)."""
    return (neurons.lif_equations(suffix, noise=False, synaptic_input=False,
                                  stored_slope=stored_slope)
            + f"u{suffix} = v_free{suffix} + tau_m * ({slope}) : volt\n")


def _follow(suffix: str, value: str, v_unit: str, tau: str = "tau_rec",
            stored_slope: bool = False) -> str:
    """A reconstruction membrane following v_zero + v_unit·``value`` with time constant
    ``tau``, and the time of its last event (for its refractory period)."""
    return lif_membrane(suffix, f"(v_zero + {v_unit} * ({value}) - v_free{suffix}) / {tau}",
                        stored_slope) + f"t_last{suffix} : second\n"


LEARNING_PHASES = """
infer_phase = int(t - t_start >= t_settle) * int(t - t_start < t_settle + t_infer) : 1
recon_phase = int(t - t_start >= t_settle + t_infer) : 1
learn_enc = plastic * infer_phase : 1 (constant over dt)
learn_dec = plastic * recon_phase : 1 (constant over dt)
tau_follow = tau_rec + recon_phase * (tau_nudge - tau_rec) : second
plastic : 1 (shared)
"""
"""The phases of a training example, from the time since its start: settling (no learning),
inference (``learn_enc``: the encoders learn), reconstruction (``learn_dec``: the latent
values stay, the reconstruction membranes move from their predictions to their targets with
``tau_nudge``, the decoders learn).  ``plastic`` (0 or 1, set per run) switches all learning
off without recompiling."""


def _learnable(eqs: str, *biases: str) -> str:
    """``eqs`` with the biases as parameters the bias synapses can write (summed variables
    cannot target constants)."""
    for b in biases:
        eqs = eqs.replace(f"{b} : 1 (constant)", f"{b} : 1")
    return eqs


def visible_equations_lif(model: RateModel, learning: bool = False) -> str:
    """Visible LIF units: one membrane codes what the data spikes carry (x, or in-painting's
    x_in), following it with ``tau_rec``; a second (``_rec``) codes the reconstruction
    x̂ = g1(h1) read from h1's spikes.  ``learning``: in the reconstruction phase x̂'s
    membrane moves to the data x."""
    if not learning:
        return (visible_equations(model)
                + lif_membrane("", "(v_zero + v_span * x_in - v_free) / tau_rec")
                + _follow("_rec", "x_recon", "v_span"))
    return (_learnable(visible_equations(model), "b_g1") + LEARNING_PHASES
            + lif_membrane("", "(v_zero + v_span * x_in - v_free) / tau_rec")
            + _follow("_rec", "x_recon * (1 - recon_phase) + x * recon_phase", "v_span",
                      "tau_follow", stored_slope=True))


def h1_equations_lif(model: RateModel, learning: bool = False) -> str:
    """h1 LIF units: h = (v_free − v_zero)/v_unit_h1 obeys τ dh/dt = f1(x) − f1(x̂) +
    (α/δ)(ĥ1 − h) after settling on f1(x); a second membrane codes ĥ1 = g2(h2).
    ``learning``: in the reconstruction phase h stays and ĥ1's membrane moves to h."""
    drive = ("(1 - settle) * (f_data - f_recon + leak * (top_down - h)) / tau"
             " + settle * (f_data - h) / tau_ff")
    eqs = f"""
h = (v_free - v_zero) / v_unit_h1 : 1
top_down = {activation_expression(model.activations["g2"], "i_td + b_g2")} : 1
di_td/dt = -i_td / tau_syn : 1
b_g2 : 1 (constant)
""" + _encoder_read_out(model.activations["f1"], "b_f1")
    if not learning:
        return eqs + lif_membrane("", f"v_unit_h1 * ({drive})") \
            + _follow("_rec", "top_down", "v_unit_h1")
    return _learnable(eqs, "b_g2", "b_f1") + LEARNING_PHASES \
        + lif_membrane("", f"v_unit_h1 * (1 - recon_phase) * ({drive})", stored_slope=True) \
        + _follow("_rec", "top_down * (1 - recon_phase) + h * recon_phase", "v_unit_h1",
                  "tau_follow", stored_slope=True)


def h2_equations_lif(model: RateModel, learning: bool = False) -> str:
    """h2 LIF units: h = (v_free − v_zero)/v_span obeys τ dh/dt = f2(h1) − f2(ĥ1) after
    settling on f2(h1).  ``learning``: h stays in the reconstruction phase."""
    drive = "(1 - settle) * (f_data - f_recon) / tau + settle * (f_data - h) / tau_ff"
    eqs = """
h = (v_free - v_zero) / v_span : 1
""" + _encoder_read_out(model.activations["f2"], "b_f2")
    if not learning:
        return eqs + lif_membrane("", f"v_span * ({drive})")
    return _learnable(eqs, "b_f2") + LEARNING_PHASES \
        + lif_membrane("", f"v_span * (1 - recon_phase) * ({drive})", stored_slope=True)


def lif_recon_event(offset: str | None = None) -> str:
    """The reconstruction membrane's spike condition (threshold ``offset`` as in
    :func:`stdpsim.neurons.lif_threshold`), with its own refractory period (Brian2's
    ``refractory`` covers only the group's ``spike`` event)."""
    return f"{neurons.lif_threshold('_rec', offset)} and t - t_last_rec >= t_ref"


# ------------------------------------------------------------------------------ network


def _weight_tied(source, target, name: str, gain: float):
    """One Synapses object, one weight array ``w``, two pathways: ``data`` on the source's
    spikes feeds ``i_data``, ``recon`` on its reconstruction events feeds ``i_recon``."""
    b2 = _b2()
    syn = b2.Synapses(source, target, model="w : 1",
                      on_pre={"data": "i_data_post += w * gain",
                              "recon": "i_recon_post += w * gain"},
                      on_event={"data": "spike", "recon": "recon"},
                      namespace={"gain": gain}, name=name)
    return syn


def _connect_all(syn, n_in: int, n_out: int) -> None:
    """All-to-all, synapse k = i·n_out + j, so ``w`` is a (n_in, n_out) matrix raveled."""
    i, j = np.divmod(np.arange(n_in * n_out), n_out)
    syn.connect(i=i, j=j)


def _namespace(p: SpikingParameters) -> dict[str, Any]:
    """The constants the network's equations use."""
    ns = {"tau": p.tau, "tau_syn": p.tau_syn, "tau_ff": p.tau_ff, "r_max": p.r_max,
          "t_settle": p.t_settle, "leak": p.alpha / p.delta, "h1_max": p.h1_max,
          "tau_out": p.step_time}
    if p.neuron == "lif":
        ns.update({"tau_m": p.tau_m, "v_th": p.v_th, "v_zero": p.v_zero, "v_span": p.v_span,
                   "v_unit_h1": p.v_span / p.h1_max, "tau_rec": p.tau_rec, "t_ref": p.t_ref})
    return ns


def _gains(p: SpikingParameters) -> tuple[float, float]:
    """Trace increments per spike of a unit with range 1 and of an h1 unit (range h1_max):
    a spike train at r_max·value/range gives a trace whose mean is value × weight; the
    spikes of an ensemble's ``ensemble`` members add up, each with 1/ensemble of that."""
    gain_unit = float(1.0 / (p.ensemble * p.r_max * p.tau_syn))
    return gain_unit, gain_unit * p.h1_max


LIF_START = {"visible": "v_free = v_zero + v_span * x\n"
                        "r = clip(v_free - v_th, 0*mV, inf*mV) + reset_depth * rand()\n"
                        "v_free_rec = v_zero\nr_rec = reset_depth_rec * rand()\n",
             "h1": "v_free = v_zero\nr = reset_depth * rand()\n"
                   "v_free_rec = v_zero\nr_rec = reset_depth_rec * rand()\n",
             "h2": "v_free = v_zero\nr = reset_depth * rand()\n"}
"""LIF units at the start of every digit: potentials at value 0 (visible: at the digit),
reset deficits a random fraction of a reset depth above what keeps v below threshold (random
phases, as for Poisson units, and no burst while the deficit builds up)."""


# ------------------------------------------------------------------------------ ensembles
#
# With ``ensemble`` = n > 1 the unit groups above integrate their values without spiking, and
# each population's spikes come from a group of N·n members (member m belongs to unit m // n),
# which read their unit's values through linked variables and emit the same events
# (``spike`` and, except h2, ``recon``) to the same synapses.

LIF_UNIT_START = {name: "".join(line + "\n" for line in text.splitlines()
                                if line.startswith("v_free"))
                  for name, text in LIF_START.items()}
"""Ensembles of LIF members: what a unit resets at the start of every digit (its potentials;
the reset deficits are the members')."""

LIF_MEMBER_START = {
    "visible": "r = clip(v_free - v_th - theta, 0*mV, inf*mV) + reset_depth * rand()\n"
               "r_rec = reset_depth_rec * rand()\n",
    "h1": "r = reset_depth * rand()\nr_rec = reset_depth_rec * rand()\n",
    "h2": "r = reset_depth * rand()\n"}
"""Ensembles of LIF members: each member's reset deficits at the start of every digit (as in
:data:`LIF_START`, with the member's own threshold)."""

POISSON_LINKS = {"visible": (("value", "x_in"), ("value_recon", "x_recon")),
                 "h1": (("value", "v"), ("value_recon", "top_down")),
                 "h2": (("value", "v"),)}
"""Ensembles of Poisson members: which of its unit's variables a member's spikes and
reconstruction events code."""


def threshold_offsets(n: int, reset_depth: Any) -> Any:
    """Threshold offsets of the n LIF members of a unit, evenly spread over one reset depth
    D around 0: D·((k + ½)/n − ½) for k = 0 … n − 1 (volt; 0 for n = 1).  The lowest
    threshold lies D/(2n) above the potential of value 0, so the population's dead zone is
    1/n of a single neuron's, and the offsets average to 0, so far above threshold the
    members' mean rate stays r_max·value."""
    k = np.arange(n)
    return reset_depth * ((k + 0.5) / n - 0.5)


def _members(units: Any, name: str, p: SpikingParameters, ns: dict, recon: bool,
             period: Any, learner: bool = False, decoder_pre: bool = False) -> Any:
    """The ``ensemble`` member neurons of every unit of ``units`` (see above); LIF members
    restart their reset deficits every ``period`` (a digit or example), after their units
    (``order``).  ``learner``, ``decoder_pre``: the learner's events, as in
    :func:`_lif_units`, gated by their unit's phase (``recon_phase``, linked)."""
    b2 = _b2()
    n, n_units = p.ensemble, units.N
    owner = np.repeat(np.arange(n_units), n)
    if p.neuron == "lif":
        suffixes = ("", "_rec") if recon else ("",)
        noise = float(p.member_sigma) > 0
        eqs = (neurons.lif_member_equations(*suffixes, noise=noise)
               + ("t_last_rec : second\n" if recon else "")
               + ("recon_phase : 1 (linked)\n" if learner else ""))
        group = _lif_units(n_units * n, eqs, f"{name}_members", ns, p, recon=recon,
                           learner=learner, decoder_pre=decoder_pre, offset="theta")
        group.theta = np.tile(threshold_offsets(n, p.reset_depth), n_units)
        if noise:  # each member's own fluctuation starts from its stationary distribution
            group.sigma = p.member_sigma
            group.v_noise = "sigma * randn()"
        for s in suffixes:
            setattr(group, f"v_free{s}", b2.linked_var(units, f"v_free{s}", index=owner))
        if learner:
            group.recon_phase = b2.linked_var(units, "recon_phase", index=owner)
        group.run_regularly(LIF_MEMBER_START[name], dt=period, when="start", order=1,
                            name=f"{name}_members_next_digit")
        return group
    links = POISSON_LINKS[name]
    scale = "h1_max" if name == "h1" else "1"
    eqs = "".join(f"{var} : 1 (linked)\n" for var, _ in links)
    events = {"recon": rate_expression("value_recon", scale)} if recon else None
    group = b2.NeuronGroup(n_units * n, eqs, threshold=rate_expression("value", scale),
                           events=events, namespace=ns, name=f"{name}_members")
    for var, target in links:
        setattr(group, var, b2.linked_var(units, target, index=owner))
    return group


LEARNER_EVENTS = {
    "spike": "recon_phase == 0",
    "recon": "recon_phase == 0",
    "spike_recon": "recon_phase == 1",
}
"""What each population of the learner sends in which phase (conditions added to its events).
The spikes of settling and INFERENCE (``spike``: the encoders' data pathways, the decoders'
predictions) and the reconstruction events (``recon``) are read only until the
reconstruction phase, where the latent values stay.  There h1 and h2 keep firing at their
values as ``spike_recon`` events, the presynaptic spikes with which the decoders learn,
driving only the decoders.  Splitting the events by phase changes no spike and no weight
(the events left out were read by nothing); it saves their synaptic updates, and the
decoders' predictions in INFERENCE run without the learning statement."""


def _lif_units(n: int, eqs: str, name: str, namespace: dict, p: SpikingParameters,
               recon: bool | None = None, learner: bool = False,
               decoder_pre: bool = False, spiking: bool = True,
               offset: str | None = None) -> Any:
    """A group of LIF units (threshold, soft reset, refractory period); with ``recon``
    (default: every group but h2) a reconstruction membrane with its own ``recon`` event.
    ``spiking=False``: the membranes without threshold or events (the units of an
    ensemble, whose members spike; see :func:`_members`).  ``offset``: a per-neuron
    threshold offset variable (the members' ``theta``).

    ``learner``: events split by phase (:data:`LEARNER_EVENTS`); with ``decoder_pre`` (h1,
    h2) also a ``spike_recon`` event, with the same reset and refractory period as ``spike``.
    """
    b2 = _b2()
    recon = name != "h2" if recon is None else recon
    if not spiking:
        return b2.NeuronGroup(n, eqs, method="euler", namespace=namespace, name=name)

    def when(event: str) -> str:
        return f" and {LEARNER_EVENTS[event]}" if learner else ""

    events = {}
    if recon:
        events["recon"] = lif_recon_event(offset) + when("recon")
    if decoder_pre:
        # refractoriness as for ``spike``: Brian2's not_refractory, from lastspike
        events["spike_recon"] = (f"{neurons.lif_threshold(offset=offset)}"
                                 f"{when('spike_recon')} and not_refractory")
    group = b2.NeuronGroup(n, eqs, method="euler",
                           threshold=neurons.lif_threshold(offset=offset) + when("spike"),
                           reset=neurons.lif_reset(mode="subtract"), refractory=p.t_ref,
                           namespace=namespace, name=name, events=events or None)
    group.resets = 1
    group.reset_depth = p.reset_depth
    if recon:
        group.resets_rec = 1
        group.reset_depth_rec = p.reset_depth
        group.t_last_rec = -1 * b2.second
        group.run_on_event("recon", neurons.lif_reset("_rec", mode="subtract")
                           + "\nt_last_rec = t")
    if decoder_pre:
        group.run_on_event("spike_recon", neurons.lif_reset(mode="subtract")
                           + "\nlastspike = t")
    return group


def _restart_every(period: Any, vis: Any, h1: Any, h2: Any, visible_input: str,
                   start: dict[str, str]) -> None:
    """Every ``period``: the visible units take a new input x = ``visible_input`` (an
    expression), traces go back to zero, settling restarts, and each group runs its
    ``start`` statements (its voltages back to value 0)."""
    vis.run_regularly(f"t_start = t\nx = {visible_input}\nu_g1 = 0\n" + start["visible"],
                      dt=period, when="start", name="visible_next_digit")
    h1.run_regularly("t_start = t\ni_data = 0\ni_recon = 0\ni_td = 0\n" + start["h1"],
                     dt=period, when="start", name="h1_next_digit")
    h2.run_regularly("t_start = t\ni_data = 0\ni_recon = 0\n" + start["h2"],
                     dt=period, when="start", name="h2_next_digit")


def _event_monitors(vis: Any, h1: Any, h2: Any, record_spikes: bool = False
                    ) -> tuple[list, Callable[[], dict[str, np.ndarray]]]:
    """Monitors of every population's spikes (all of them, or only their count) and of the
    reconstruction events (count), and a function reading them out as
    ``n_spikes_<population>``, ``n_recon_<population>`` (and ``spike_i_``/``spike_t_``);
    the groups are the ones that spike (an ensemble's members: ``<population>_members``)."""
    b2 = _b2()

    def population(group: Any) -> str:
        return group.name.removesuffix("_members")

    spikes = {population(g): b2.SpikeMonitor(g, record=record_spikes,
                                             name=f"spikes_{population(g)}")
              for g in (vis, h1, h2)}
    recons = {population(g): b2.EventMonitor(g, "recon", record=False,
                                             name=f"recon_{population(g)}")
              for g in (vis, h1)}

    def read() -> dict[str, np.ndarray]:
        out = {}
        for name, mon in spikes.items():
            out[f"n_spikes_{name}"] = np.asarray(mon.num_spikes)
            if record_spikes:
                out[f"spike_i_{name}"] = np.asarray(mon.i)
                out[f"spike_t_{name}"] = np.asarray(mon.t / b2.second)
        for name, mon in recons.items():
            out[f"n_recon_{name}"] = np.asarray(mon.num_events)
        return out

    return [*spikes.values(), *recons.values()], read


def network_builder(model: RateModel, n_digits: int, params: SpikingParameters,
                    record_spikes: bool = True, n_rounds: int = 1,
                    missing: np.ndarray | None = None):
    """A :func:`stdpsim.backend.simulate` builder for ``n_digits`` digits of INFERENCE.

    The digits are the input ``"digits"`` (shape (n_digits, 784)); weights and biases are
    set from ``model`` (so a different model file is a different build).  With
    ``n_rounds`` > 1 each digit gets that many INFERENCE periods in a row, and every period
    after the first takes as its input the network's own reconstruction x̂ = g1(h1) at the
    end of the previous one, averaged over its last step (GENERATE's x ← g1(h1)); that
    read-out at the end of each digit's last period is recorded as ``samples``.  With a
    boolean ``missing`` (784,), those pixels are in-painted: after settling their data
    spikes carry the reconstruction, and ``samples`` are recorded too.
    """
    b2 = _b2()
    n_vis, n_h1 = model.weights["f1"].shape
    n_h2 = model.weights["f2"].shape[1]
    p = params
    ns = _namespace(p)
    gain_unit, gain_h1 = _gains(p)

    if n_rounds < 1:
        raise ValueError(f"n_rounds must be at least 1, got {n_rounds}")
    t_input = n_rounds * p.t_digit  # one row of "digits" per input
    # 1 at the first period of an input, 0 at the later ones (GENERATE's rounds)
    first_round = (np.arange(n_digits * n_rounds) % n_rounds == 0).astype(float)
    lif = p.neuron == "lif"

    ensemble = p.ensemble > 1

    def build() -> backend.Simulation:
        stimulus = b2.TimedArray(np.zeros((n_digits, n_vis)), dt=t_input, name="digits")
        if lif:
            spiking = not ensemble
            vis = _lif_units(n_vis, visible_equations_lif(model), "visible",
                             {**ns, "digits": stimulus}, p, spiking=spiking)
            h1 = _lif_units(n_h1, h1_equations_lif(model), "h1", ns, p, spiking=spiking)
            h2 = _lif_units(n_h2, h2_equations_lif(model), "h2", ns, p, spiking=spiking)
        elif ensemble:
            vis = b2.NeuronGroup(n_vis, visible_equations(model), method="euler",
                                 namespace={**ns, "digits": stimulus}, name="visible")
            h1 = b2.NeuronGroup(n_h1, h1_equations(model), method="euler", namespace=ns,
                                name="h1")
            h2 = b2.NeuronGroup(n_h2, h2_equations(model), method="euler", namespace=ns,
                                name="h2")
        else:
            vis = b2.NeuronGroup(n_vis, visible_equations(model), method="euler",
                                 threshold=rate_expression("x_in"),
                                 events={"recon": rate_expression("x_recon")},
                                 namespace={**ns, "digits": stimulus}, name="visible")
            h1 = b2.NeuronGroup(n_h1, h1_equations(model), method="euler",
                                threshold=rate_expression("v", "h1_max"),
                                events={"recon": rate_expression("top_down", "h1_max")},
                                namespace=ns, name="h1")
            h2 = b2.NeuronGroup(n_h2, h2_equations(model), method="euler",
                                threshold=rate_expression("v"), namespace=ns, name="h2")
        vis.b_g1 = model.biases["g1"]
        if missing is not None:
            vis.missing = np.asarray(missing, dtype=float)
        h1.b_f1 = model.biases["f1"]
        h1.b_g2 = model.biases["g2"]
        h2.b_f2 = model.biases["f2"]
        # every digit: new input, voltages and traces back to zero, settling restarts
        start = ((LIF_UNIT_START if ensemble else LIF_START) if lif
                 else {"visible": "", "h1": "v = 0\n", "h2": "v = 0\n"})
        if n_rounds == 1:
            visible_input = "digits(t, i)"
        else:  # a new input at its first period, else x ← x̂ (averaged over the last step)
            vis.namespace["first_round"] = b2.TimedArray(first_round, dt=p.t_digit)
            visible_input = ("first_round(t) * digits(t, i) + "
                             "(1 - first_round(t)) * clip(x_out, 0, 1)")
        _restart_every(p.t_digit, vis, h1, h2, visible_input, start)

        # the groups that spike: the units, or their ensembles' members
        src = {"visible": vis, "h1": h1, "h2": h2}
        if ensemble:
            src = {name: _members(group, name, p, ns, recon=name != "h2", period=p.t_digit)
                   for name, group in src.items()}
        f1 = _weight_tied(src["visible"], h1, "f1", gain_unit)
        f2 = _weight_tied(src["h1"], h2, "f2", gain_h1)
        g1 = b2.Synapses(src["h1"], vis, model="w : 1", on_pre="u_g1_post += w * gain",
                         namespace={"gain": gain_h1}, name="g1")
        g2 = b2.Synapses(src["h2"], h1, model="w : 1", on_pre="i_td_post += w * gain",
                         namespace={"gain": gain_unit}, name="g2")
        for syn, name in ((f1, "f1"), (f2, "f2"), (g1, "g1"), (g2, "g2")):
            n_in, n_out = model.weights[name].shape
            _connect_all(syn, n_in * p.ensemble, n_out)
            # every member of a unit carries its unit's weights (rows repeated)
            syn.w = np.repeat(model.weights[name].astype(np.float64), p.ensemble,
                              axis=0).ravel()

        # the voltages after every INFERENCE step (GENERATE and in-painting keep their samples)
        record_v = n_rounds == 1 and missing is None
        value = "h" if lif else "v"  # the unit's value (Poisson units: their v)
        mon_h1 = b2.StateMonitor(h1, value, record=record_v, dt=p.step_time, name="v_h1")
        mon_h2 = b2.StateMonitor(h2, value, record=record_v, dt=p.step_time, name="v_h2")
        monitors, read_events = _event_monitors(src["visible"], src["h1"], src["h2"],
                                                record_spikes)
        objects = [vis, h1, h2, f1, f2, g1, g2, mon_h1, mon_h2, *monitors]
        if ensemble:
            objects += list(src.values())
        samples = None
        if n_rounds > 1 or missing is not None:  # x̂ at every input boundary, before reset
            samples = b2.StateMonitor(vis, "x_out", record=True, dt=t_input, when="start",
                                      order=-1, name="samples")
            objects.append(samples)

        def collect() -> dict[str, np.ndarray]:
            out = ({"v_h1": np.asarray(getattr(mon_h1, value)).T,
                    "v_h2": np.asarray(getattr(mon_h2, value)).T} if record_v else {})
            out.update(read_events())
            if samples is not None:  # row k: the end of input k − 1
                out["samples"] = np.asarray(samples.x_out).T[1:n_digits + 1]
            return out

        return backend.Simulation(objects, {"digits": stimulus}, collect)

    return build


# ------------------------------------------------------------------------------ learning


@dataclasses.dataclass(frozen=True)
class LearningParameters:
    """The spiking learner's phases and learning rates.

    Attributes
    ----------
    t_recon
        Reconstruction phase after INFERENCE (the decoders learn).
    tau_nudge
        Time constant with which the reconstruction membranes move from their predictions to
        their targets in that phase.
    lr_encoders, lr_decoders
        ε of the f and g layers: the rate twin's learning rate
        (:func:`stdpsim.rate_training.sdvdt_updates`), per example.  A synapse changes by
        η·dv_post/dt at each presynaptic spike with η = ε·range_pre/(r_max·v_unit_post),
        so that at high rates it adds ε ∫ u_pre dh_post.  The default 1e-4 is the largest
        of 1e-4, 3e-4 and 1e-3 with which a pilot of the rate twin in minibatches of 100
        kept improving over 3 epochs (validation Parzen −26, 15, 40; 3e-4: 101, 25, −54;
        1e-3: 49, −187).  That twin is not quite the spiking learner's counterpart, which
        learns online: the twin trained one example at a time follows the spiking learner's
        learning curve (``experiments/spiking_learning_curve.py``).
    """

    t_recon: Any = dataclasses.field(default_factory=lambda: 20 * _b2().ms)
    tau_nudge: Any = dataclasses.field(default_factory=lambda: 4 * _b2().ms)
    lr_encoders: float = 1e-4
    lr_decoders: float = 1e-4

    def __post_init__(self) -> None:
        b2 = _b2()
        for name in ("t_recon", "tau_nudge"):
            value = getattr(self, name)
            if not (b2.have_same_dimensions(value, b2.second) and float(value) > 0):
                raise ValueError(f"{name} must be a positive time (e.g. 20*ms), got {value!r}")
        for name in ("lr_encoders", "lr_decoders"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    def t_example(self, params: SpikingParameters) -> Any:
        """Time per example: settling, the INFERENCE steps, reconstruction."""
        return params.t_settle + params.n_steps * params.step_time + self.t_recon

    def eta(self, layer: str, params: SpikingParameters) -> Any:
        """η (second/volt) of a layer's synapses (``"f1"``...) or of its bias (``"b_f1"``...):
        ε·range_pre / (r_max·v_unit_post), with ranges h1_max for h1 and 1 otherwise."""
        bias = layer.startswith("b_")
        name = layer[2:] if bias else layer
        eps = self.lr_encoders if name.startswith("f") else self.lr_decoders
        range_pre = 1.0 if bias else {"f1": 1.0, "f2": params.h1_max, "g1": params.h1_max,
                                      "g2": 1.0}[name]
        # post: h1 (f1's target, g2's reconstruction) codes h1_max over v_span
        post_h1 = name in ("f1", "g2")
        v_unit_post = params.v_span / params.h1_max if post_h1 else params.v_span
        return eps * range_pre / (params.r_max * v_unit_post)


LAYERS = ("f1", "f2", "g2", "g1")


def learning_builder(model: RateModel, n_examples: int, params: SpikingParameters,
                     learning: LearningParameters, learn: bool = True):
    """A :func:`stdpsim.backend.simulate` builder for ``n_examples`` training examples of the
    spiking learner (LIF units), each: settling, INFERENCE (encoders learn), reconstruction
    (decoders learn); see :data:`LEARNING_PHASES`.

    Only the model's shapes and activations are compiled in.  Inputs: ``digits``
    (n_examples, 784); ``w_<layer>`` (raveled (n_in, n_out)), ``b_<layer>`` (n_out,),
    ``eta_<layer>`` and ``eta_b_<layer>`` (second/volt), and ``plastic`` (0 or 1).  The
    collected results hold the weights and biases after the run and the event counts.

    Every plastic synapse runs :func:`stdpsim.plasticity.sdvdt_learning_line`: the encoders'
    data pathways read the latent membranes' ``dvdt`` gated by ``learn_enc``, the decoders
    read the reconstruction membranes' ``dvdt_rec`` gated by ``learn_dec``.  Biases are the
    weights of synapses from an always-on unit (firing at r_max), delivered to their neurons
    as summed variables (so they add no noise) and learned by the same rule.

    ``learn=False`` builds the same network without the learning statements (the reference
    for what learning costs).
    """
    from .plasticity import sdvdt_learning_line

    b2 = _b2()
    if params.neuron != "lif":
        raise ValueError("the spiking learner needs LIF units (the rule reads their dV/dt); "
                         f"got neuron={params.neuron!r}")
    check_model(model)
    ratio = float(learning.t_recon / params.dt)
    if abs(ratio - round(ratio)) > 1e-6:
        raise ValueError(f"t_recon ({learning.t_recon}) must be a whole multiple of dt "
                         f"({params.dt})")
    n_vis, n_h1 = model.weights["f1"].shape
    n_h2 = model.weights["f2"].shape[1]
    p = params
    ns = {**_namespace(p), "t_infer": p.n_steps * p.step_time, "tau_nudge": learning.tau_nudge,
          "w_min": -np.inf, "w_max": np.inf}
    gain_unit, gain_h1 = _gains(p)
    t_example = learning.t_example(p)
    eta_model = "w : 1\neta : second/volt (shared, constant)"

    n = p.ensemble

    def build() -> backend.Simulation:
        stimulus = b2.TimedArray(np.zeros((n_examples, n_vis)), dt=t_example, name="digits")
        spiking = n == 1  # else the units integrate and their ensembles' members spike
        vis = _lif_units(n_vis, visible_equations_lif(model, learning=True), "visible",
                         {**ns, "digits": stimulus}, p, learner=True, spiking=spiking)
        h1 = _lif_units(n_h1, h1_equations_lif(model, learning=True), "h1", ns, p,
                        learner=True, decoder_pre=True, spiking=spiking)
        h2 = _lif_units(n_h2, h2_equations_lif(model, learning=True), "h2", ns, p,
                        learner=True, decoder_pre=True, spiking=spiking)
        bias = _lif_units(1, lif_membrane("", "0*volt/second"), "bias", ns, p, recon=False)
        bias.v_free = p.v_zero + p.v_span  # value 1: fires at r_max
        _restart_every(t_example, vis, h1, h2, "digits(t, i)",
                       LIF_START if spiking else LIF_UNIT_START)
        src = {"visible": vis, "h1": h1, "h2": h2}
        if not spiking:
            src = {name: _members(group, name, p, ns, recon=name != "h2", period=t_example,
                                  learner=True, decoder_pre=name != "visible")
                   for name, group in src.items()}

        def rule(slope: str, gate: str) -> str:
            return sdvdt_learning_line(slope, gate) + "\n" if learn else ""

        def encoder(source, target, name: str, gain: float):
            return b2.Synapses(source, target, model=eta_model,
                               on_pre={"data": f"{rule('dvdt', 'learn_enc_post')}"
                                               "i_data_post += w * gain",
                                       "recon": "i_recon_post += w * gain"},
                               on_event={"data": "spike", "recon": "recon"},
                               namespace={**ns, "gain": gain}, name=name)

        def decoder(source, target, name: str, gain: float, trace: str):
            # predictions in settling and INFERENCE; learning in reconstruction
            return b2.Synapses(source, target, model=eta_model,
                               on_pre={"predict": f"{trace}_post += w * gain",
                                       "learn": f"{rule('dvdt_rec', 'learn_dec_post')}"
                                                f"{trace}_post += w * gain"},
                               on_event={"predict": "spike", "learn": "spike_recon"},
                               namespace={**ns, "gain": gain}, name=name)

        syn = {"f1": encoder(src["visible"], h1, "f1", gain_unit),
               "f2": encoder(src["h1"], h2, "f2", gain_h1),
               "g1": decoder(src["h1"], vis, "g1", gain_h1, "u_g1"),
               "g2": decoder(src["h2"], h1, "g2", gain_unit, "i_td")}
        for name in LAYERS:
            n_in, n_out = model.weights[name].shape
            _connect_all(syn[name], n_in * n, n_out)
        biases = {}
        for name, target, slope, gate in (("f1", h1, "dvdt", "learn_enc_post"),
                                          ("f2", h2, "dvdt", "learn_enc_post"),
                                          ("g1", vis, "dvdt_rec", "learn_dec_post"),
                                          ("g2", h1, "dvdt_rec", "learn_dec_post")):
            biases[name] = b2.Synapses(
                bias, target, model=f"{eta_model}\nb_{name}_post = w : 1 (summed)",
                on_pre=rule(slope, gate) or None, namespace=ns, name=f"bias_{name}")
            biases[name].connect()
        monitors, read_events = _event_monitors(src["visible"], src["h1"], src["h2"])
        late = {name: b2.EventMonitor(src[name], "spike_recon", record=False,
                                      name=f"spike_recon_{name}") for name in ("h1", "h2")}
        monitors += late.values()
        members = [] if spiking else list(src.values())
        inputs = {"digits": stimulus, "plastic_visible": vis.plastic, "plastic_h1": h1.plastic,
                  "plastic_h2": h2.plastic}
        for name in LAYERS:
            inputs[f"w_{name}"] = syn[name].w
            inputs[f"b_{name}"] = biases[name].w
            inputs[f"eta_{name}"] = syn[name].eta
            inputs[f"eta_b_{name}"] = biases[name].eta

        def collect() -> dict[str, np.ndarray]:
            out = {}
            for name in LAYERS:  # a unit's weight: the mean over its members' synapses
                n_in, n_out = model.weights[name].shape
                out[f"w_{name}"] = np.asarray(syn[name].w[:]).reshape(
                    n_in, n, n_out).mean(axis=1)
                out[f"b_{name}"] = np.asarray(biases[name].w[:])
            out.update(read_events())
            for group, mon in late.items():
                out[f"n_spike_recon_{group}"] = np.asarray(mon.num_events)
            return out

        objects = [vis, h1, h2, bias, *members, *syn.values(), *biases.values(), *monitors]
        return backend.Simulation(objects, inputs, collect)

    return build


def learning_inputs(model: RateModel, x: np.ndarray, params: SpikingParameters,
                    learning: LearningParameters, plastic: bool = True) -> dict[str, Any]:
    """The run inputs of :func:`learning_builder` for ``model``'s weights and the images
    ``x``."""
    values: dict[str, Any] = {"digits": np.asarray(x, dtype=np.float64)}
    for group in ("visible", "h1", "h2"):
        values[f"plastic_{group}"] = float(plastic)
    for name in LAYERS:  # every member of a unit starts with its unit's weights
        values[f"w_{name}"] = np.repeat(model.weights[name].astype(np.float64),
                                        params.ensemble, axis=0).ravel()
        values[f"b_{name}"] = model.biases[name].astype(np.float64)
        values[f"eta_{name}"] = learning.eta(name, params)
        values[f"eta_b_{name}"] = learning.eta(f"b_{name}", params)
    return values


def run_learning(model: RateModel, x: np.ndarray, params: SpikingParameters | None = None,
                 learning: LearningParameters | None = None, *, plastic: bool = True,
                 learn: bool = True, device: str | None = "auto", seed: int = 0,
                 progress: bool | None = None
                 ) -> tuple[RateModel, dict[str, int], backend.RunInfo]:
    """The spiking learner on every row of ``x`` (shape (K, 784), values in [0, 1]), one
    example after another in one simulation, starting from ``model``'s weights.

    Returns a copy of ``model`` with the learned weights and biases (its prior unchanged),
    the event counts and the run's timings.  ``plastic=False`` runs the same network with
    learning switched off (the weights come back unchanged); ``learn=False`` the network
    built without learning statements (see :func:`learning_builder`).  ``progress``: Brian2's
    progress report (see :func:`stdpsim.backend.simulate`).
    """
    params = params or SpikingParameters()
    learning = learning or LearningParameters()
    x = _checked_images(model, x)
    k = x.shape[0]
    build = learning_builder(model, k, params, learning, learn)
    res, info = backend.simulate(build, learning_inputs(model, x, params, learning, plastic),
                                 k * learning.t_example(params), device=device, dt=params.dt,
                                 seed=seed, progress=progress)
    new = RateModel({n: res[f"w_{n}"].astype(np.float32) for n in LAYERS},
                    {n: res[f"b_{n}"].astype(np.float32) for n in LAYERS},
                    dict(model.activations), model.prior_mean.copy(), model.prior_var.copy(),
                    dict(model.meta))
    return new, _learning_event_counts(res, model), info


def _learning_event_counts(res: dict[str, np.ndarray], model: RateModel) -> dict[str, int]:
    """The learner's event counts: ``spikes_h1``/``spikes_h2`` count every spike, of which
    ``spike_recon_h1``/``spike_recon_h2`` fell in reconstruction phases (they drive only the
    decoders); ``synaptic`` the synaptic updates all events caused."""
    events = _event_counts(res, model)
    n_vis, n_h1 = model.weights["f1"].shape
    late = {n: int(res[f"n_spike_recon_{n}"]) for n in ("h1", "h2")}
    events["synaptic"] += late["h1"] * n_vis + late["h2"] * n_h1
    for n, count in late.items():
        events[f"spikes_{n}"] += count
        events[f"spike_recon_{n}"] = count
    return events


@dataclasses.dataclass
class SpikingInference:
    """What :func:`run_inference` returns.

    Attributes
    ----------
    h1, h2
        Read-out voltages at the start (index 0, the end of settling) and after each
        INFERENCE step: shapes (n_digits, n_steps + 1, 1000) and (n_digits, n_steps + 1, 100).
    log_p
        log p(x, h) of those voltages under the rate model, (n_digits, n_steps + 1), nats.
    spikes
        ``{population: (neuron indices, spike times in s)}`` over the whole run (empty
        unless spikes were recorded); with ensembles the indices are the members',
        unit·ensemble + k.
    events
        Event counts over the whole run: ``spikes_<population>``, ``recon_visible``,
        ``recon_h1``, and ``synaptic``, the synaptic updates they caused (each event times
        the fan-out of the pathways it drives).
    params
        The parameters used; the digit k occupies [k·t_digit, (k + 1)·t_digit).
    info
        Device, wall, build and run times (:class:`stdpsim.backend.RunInfo`).
    """

    h1: np.ndarray
    h2: np.ndarray
    log_p: np.ndarray
    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    events: dict[str, int]
    params: SpikingParameters
    info: backend.RunInfo


def check_model(model: RateModel) -> None:
    """The spiking network needs the rate model's layer chain; clear error otherwise."""
    shapes = {k: w.shape for k, w in model.weights.items()}
    need = {"f1", "f2", "g2", "g1"}
    if set(shapes) != need:
        raise ValueError(f"the spiking network runs two hidden layers (layers "
                         f"{sorted(need)}); this model has {sorted(shapes)}")
    (n_x, n_1), (n_1b, n_2) = shapes["f1"], shapes["f2"]
    if n_1b != n_1 or shapes["g2"] != (n_2, n_1) or shapes["g1"] != (n_1, n_x):
        raise ValueError(f"layer shapes do not chain (x→h1→h2 and back): {shapes}")


def _checked_images(model: RateModel, x: np.ndarray) -> np.ndarray:
    """``x`` as float64 (K, 784) after checking the model and the images (clear errors)."""
    check_model(model)
    x = np.asarray(x, dtype=np.float64)
    n_vis = model.weights["f1"].shape[0]
    if x.ndim != 2 or x.shape[1] != n_vis or x.shape[0] < 1:
        raise ValueError(f"x must have shape (K ≥ 1, {n_vis}), got {x.shape}")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError("x must hold finite pixel values in [0, 1]")
    return x


def run_inference(model: RateModel, x: np.ndarray, params: SpikingParameters | None = None,
                  *, device: str | None = "auto", seed: int = 0,
                  record_spikes: bool = True) -> SpikingInference:
    """Spiking INFERENCE on every row of ``x`` (shape (K, 784), values in [0, 1]) in one
    simulation; see the module docstring.  Returns voltages, log p(x, h) and spikes."""
    params = params or SpikingParameters()
    x = _checked_images(model, x)
    k = x.shape[0]
    build = network_builder(model, k, params, record_spikes)
    res, info = backend.simulate(build, {"digits": x}, k * params.t_digit, device=device,
                                 dt=params.dt, seed=seed)
    per, first = params.steps_per_digit(), params.settle_steps()
    keep = first + np.arange(params.n_steps + 1)
    h1 = res["v_h1"].reshape(k, per, -1)[:, keep].astype(np.float32)
    h2 = res["v_h2"].reshape(k, per, -1)[:, keep].astype(np.float32)
    log_p = np.stack([log_joint(model, x.astype(np.float32), h1[:, s], h2[:, s])
                      for s in range(params.n_steps + 1)], axis=1)
    spikes = {name: (res[f"spike_i_{name}"], res[f"spike_t_{name}"])
              for name in ("visible", "h1", "h2") if f"spike_i_{name}" in res}
    return SpikingInference(h1, h2, log_p, spikes, _event_counts(res, model), params, info)


def _event_counts(res: dict[str, np.ndarray], model: RateModel) -> dict[str, int]:
    """Spike and reconstruction-event counts of a run, and the synaptic updates they caused."""
    events = {f"spikes_{n}": int(res[f"n_spikes_{n}"]) for n in ("visible", "h1", "h2")}
    events.update({f"recon_{n}": int(res[f"n_recon_{n}"]) for n in ("visible", "h1")})
    events["synaptic"] = synaptic_events(events, model)
    return events


def generate_parameters(**overrides: Any) -> SpikingParameters:
    """GENERATE's spiking parameters: INFERENCE with α = 0.3 and 15 steps per round (as the
    rate model's GENERATE), the rest as :class:`SpikingParameters`, unless overridden."""
    return SpikingParameters(**{"n_steps": 15, "alpha": 0.3, **overrides})


def run_generate(model: RateModel, n: int, rng: np.random.Generator,
                 params: SpikingParameters | None = None, *, n_rounds: int = 3,
                 device: str | None = "auto", seed: int = 0
                 ) -> tuple[np.ndarray, dict[str, int], backend.RunInfo]:
    """GENERATE with spiking INFERENCE: h2 ~ prior, x ← g1(g2(h2)) (the rate decoders, no
    inference involved), then ``n_rounds`` periods of spiking INFERENCE (α = 0.3, 15 steps
    unless ``params`` says otherwise), each fed the network's reconstruction x̂ = g1(h1) at
    the end of the one before (averaged over the last step); all ``n`` samples in one
    simulation.

    Returns the samples (n, 784) in [0, 1] (the last averaged x̂ of each), the event counts
    and the run's timings.
    """
    params = params or generate_parameters()
    check_model(model)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    x0 = np.asarray(ancestral_sample(model, n, rng), dtype=np.float64)
    build = network_builder(model, n, params, record_spikes=False, n_rounds=n_rounds)
    # one extra time step, so that the monitor sees the end of the last sample
    duration = n * n_rounds * params.t_digit + params.dt
    res, info = backend.simulate(build, {"digits": x0}, duration, device=device,
                                 dt=params.dt, seed=seed)
    return np.clip(res["samples"], 0, 1).astype(np.float32), _event_counts(res, model), info


def run_inpaint(model: RateModel, x: np.ndarray, missing: np.ndarray, fill: np.ndarray,
                params: SpikingParameters | None = None, *, device: str | None = "auto",
                seed: int = 0) -> tuple[np.ndarray, dict[str, int], backend.RunInfo]:
    """In-painting with spiking INFERENCE: the ``missing`` pixels (boolean, (784,)) of every
    row of ``x`` start as ``fill`` (e.g. the mean training image); after settling their data
    spikes carry the network's reconstruction, the visible pixels stay clamped (the paper's
    f1(x^visible, g1(h1)^missing) − f1(g1(h1))).  All rows in one simulation.

    Returns the filled images (K, 784) (visible pixels unchanged, missing ones the averaged
    reconstruction at the end), the event counts and the run's timings.
    """
    params = params or SpikingParameters()
    x = _checked_images(model, x)
    missing = np.asarray(missing, dtype=bool)
    if missing.shape != (x.shape[1],):
        raise ValueError(f"missing must have shape ({x.shape[1]},), got {missing.shape}")
    start = np.where(missing, fill, x)
    build = network_builder(model, x.shape[0], params, record_spikes=False, missing=missing)
    duration = x.shape[0] * params.t_digit + params.dt  # the monitor sees the last end
    res, info = backend.simulate(build, {"digits": start}, duration, device=device,
                                 dt=params.dt, seed=seed)
    filled = np.where(missing, np.clip(res["samples"], 0, 1), x).astype(np.float32)
    return filled, _event_counts(res, model), info


def synaptic_events(events: dict[str, int], model: RateModel) -> int:
    """Synaptic updates caused by the counted events: visible spikes and reconstruction events
    drive f1 (n_h1 targets each), h1 spikes drive f2 and g1 (n_h2 + n_visible), h1
    reconstruction events drive f2 (n_h2), h2 spikes drive g2 (n_h1)."""
    n_vis, n_h1 = model.weights["f1"].shape
    n_h2 = model.weights["f2"].shape[1]
    return ((events["spikes_visible"] + events["recon_visible"]) * n_h1
            + events["spikes_h1"] * (n_h2 + n_vis) + events["recon_h1"] * n_h2
            + events["spikes_h2"] * n_h1)


def parameters_summary(params: SpikingParameters) -> dict[str, Any]:
    """The parameters as plain numbers with their units in the names (for JSON)."""
    b2 = _b2()
    return {"tau_ms": float(params.tau / b2.ms), "tau_syn_ms": float(params.tau_syn / b2.ms),
            "r_max_hz": float(params.r_max / b2.Hz), "h1_max": params.h1_max,
            "t_settle_ms": float(params.t_settle / b2.ms),
            "tau_ff_ms": float(params.tau_ff / b2.ms), "dt_ms": float(params.dt / b2.ms),
            "n_steps": params.n_steps, "delta": params.delta, "alpha": params.alpha,
            "step_ms": float(params.step_time / b2.ms),
            "t_digit_ms": float(params.t_digit / b2.ms), "neuron": params.neuron,
            "ensemble": params.ensemble,
            **({"v_span_mv": float(params.v_span / b2.mV), "tau_m_ms": float(params.tau_m / b2.ms),
                "v_th_mv": float(params.v_th / b2.mV), "t_ref_ms": float(params.t_ref / b2.ms),
                "tau_rec_ms": float(params.tau_rec / b2.ms),
                "reset_depth_mv": float(params.reset_depth / b2.mV)}
               if params.neuron == "lif" else {}),
            # (only when set: the summaries of runs without it stay as they were)
            **({"member_sigma_mv": float(params.member_sigma / b2.mV)}
               if float(params.member_sigma) > 0 else {})}


def compare_with_rate(result: SpikingInference, model: RateModel, x: np.ndarray
                      ) -> dict[str, Any]:
    """The rate model's INFERENCE on the same digits, and how closely the spiking voltages
    follow it: Pearson correlation over all digits, steps and units, per layer, of the
    states and of their change since the start; mean squared difference; log p(x, h) of both
    (mean and standard error per step, the gain end − start with its paired standard error,
    the share of digits that end above their start; nats), and their difference spiking −
    rate per step with its paired standard error (``spiking_minus_rate``)."""
    p = result.params
    _, _, states = inference(model, x.astype(np.float32), p.n_steps, p.delta, p.alpha,
                             trace=True)
    rate_h1 = np.stack([s[0] for s in states], axis=1)
    rate_h2 = np.stack([s[1] for s in states], axis=1)
    rate_lp = np.stack([log_joint(model, x.astype(np.float32), a, b) for a, b in states],
                       axis=1)
    out: dict[str, Any] = {}
    for name, spk, rate in (("h1", result.h1, rate_h1), ("h2", result.h2, rate_h2)):
        out[f"corr_{name}"] = float(np.corrcoef(spk.ravel(), rate.ravel())[0, 1])
        out[f"corr_change_{name}"] = float(np.corrcoef(
            (spk - spk[:, :1]).ravel(), (rate - rate[:, :1]).ravel())[0, 1])
        out[f"msd_{name}"] = float(np.mean((spk - rate) ** 2))
    def sem(a: np.ndarray) -> np.ndarray:
        """Standard error over the digits (axis 0); 0 for a single digit."""
        n = a.shape[0]
        return a.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(a.shape[1:])

    for key, lp in (("spiking", result.log_p), ("rate", rate_lp)):
        gain = lp[:, -1] - lp[:, 0]
        out[key] = {"mean": lp.mean(axis=0).tolist(), "sem": sem(lp).tolist(),
                    "gain": float(gain.mean()), "gain_sem": float(sem(gain)),
                    "share_rising": float(np.mean(gain > 0))}
    diff = result.log_p - rate_lp  # paired: the same digits
    out["spiking_minus_rate"] = {"mean": diff.mean(axis=0).tolist(),
                                 "sem": sem(diff).tolist()}
    return out


def bernoulli_equivalent_r_max(tau_syn: Any, n_draws: int = 3, h: float = 0.5) -> Any:
    """The top rate at which a spike train reads out like the paper's corruption.

    A unit firing Poisson spikes at r_max·h, read through a trace of time constant
    ``tau_syn`` and gain 1/(r_max·τ_syn), has mean h and variance h/(2·r_max·τ_syn)
    (Campbell's theorem); the mean of ``n_draws`` Bernoulli(h) draws has variance
    h(1 − h)/n_draws.  They match at r_max = n_draws / (2 (1 − h) τ_syn).
    """
    if not 0 <= h < 1 or n_draws < 1:
        raise ValueError("need 0 ≤ h < 1 and n_draws ≥ 1")
    return n_draws / (2.0 * (1.0 - h) * tau_syn)
