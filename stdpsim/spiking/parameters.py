"""Parameters of the spiking network and of its learner, with units.

:class:`SpikingParameters` holds the network's time constants, rates and INFERENCE constants;
:class:`LearningParameters` the learner's phases and rates; the named settings the tasks use
are :mod:`stdpsim.spiking.presets`.  Plain-number summaries of both (for JSON) close the
module.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

NEURONS = ("lif", "poisson")
"""Kinds of unit: leaky integrate-and-fire (threshold, reset, refractory) or Poisson."""

EVENT_TIMINGS = ("poisson", "regular")
"""How a visible unit times its corruption events
(:func:`stdpsim.spiking.equations.corruption_events`)."""


def b2():
    """brian2, imported on first use (the command line starts without it)."""
    import brian2

    return brian2


def _ms(value: float) -> Callable[[], Any]:
    return lambda: value * b2().ms


@dataclasses.dataclass(frozen=True)
class SpikingParameters:
    """Time constants, rates and INFERENCE constants of the spiking network (with units).

    Attributes
    ----------
    tau
        Time constant of INFERENCE: one step (δ) lasts δ·τ.
    tau_syn
        Decay time of the synaptic traces that turn spikes back into pre-activations.
    r_max
        Firing rate of a neuron at the top of its unit's range (value 1 in the visible layer
        and in sigmoid layers, ``h_max`` in the others); a unit of ``ensemble`` neurons fires
        at up to ensemble·r_max.
    h_max
        The value (dimensionless) coded by ``r_max`` in the hidden layers whose encoder is
        not a sigmoid (softplus units: h1 of the paper's model); larger values clip.
    t_settle
        Feed-forward phase at the start of each digit (a multiple of δ·τ).
    tau_ff
        Time constant with which the values follow the feed-forward values while settling.
    dt
        Simulation time step (δ·τ must be a multiple of it).
    n_steps, delta, alpha
        INFERENCE: number of steps, step size δ, top-down weight α (as in the rate model).
    neuron
        The kind of unit, one of :data:`NEURONS` (:mod:`stdpsim.spiking.units`).
    v_span
        LIF: how far the reset-free potential of a unit at the top of its range sits above
        the potential of value 0.
    tau_m
        LIF: membrane time constant, with which the reset deficit recovers; with ``v_span``
        and ``r_max`` it sets the reset depth v_span / (τ_m · r_max).
    v_th
        LIF: firing threshold.
    t_ref
        LIF: absolute refractory period (at most one spike per ``t_ref``).
    tau_rec
        LIF: time constant with which a reconstruction membrane follows its prediction g(·).
    ensemble
        Neurons per latent unit.  With more than one, a unit's value does not spike itself:
        it drives ``ensemble`` member neurons that fire at up to ``r_max`` each, and
        receivers read them with 1/ensemble of the gain per spike (the read-out averages
        the members).  Synapses grow ×ensemble, synaptic events with the population rate.
    member_sigma
        LIF ensembles: standard deviation (volt) of each member's own membrane noise, an
        Ornstein–Uhlenbeck fluctuation with time constant ``tau_m`` added to the shared
        potential (:func:`stdpsim.neurons.lif_member_equations`); 0: none.
    spike_generator
        LIF, one neuron per unit: how a neuron's reset deficit recovers, one of
        :data:`stdpsim.neurons.SPIKE_GENERATORS`.  ``leaky`` (the membrane's own leak) fires
        nothing for values below D/2 above value 0 and below r_max·value just above them;
        ``integrating`` fires at r_max·value/range for every value ≥ 0.
    """

    tau: Any = dataclasses.field(default_factory=_ms(20))
    tau_syn: Any = dataclasses.field(default_factory=_ms(1))
    r_max: Any = dataclasses.field(default_factory=lambda: 8000 * b2().Hz)
    h_max: float = 4.0
    t_settle: Any = dataclasses.field(default_factory=_ms(10))
    tau_ff: Any = dataclasses.field(default_factory=_ms(2))
    dt: Any = dataclasses.field(default_factory=_ms(0.05))
    n_steps: int = 20
    delta: float = 0.1
    alpha: float = 0.001
    neuron: str = "lif"
    v_span: Any = dataclasses.field(default_factory=lambda: 10 * b2().mV)
    tau_m: Any = dataclasses.field(default_factory=_ms(5))
    v_th: Any = dataclasses.field(default_factory=lambda: -50 * b2().mV)
    t_ref: Any = dataclasses.field(default_factory=_ms(0.1))
    tau_rec: Any = dataclasses.field(default_factory=_ms(1))
    ensemble: int = 1
    member_sigma: Any = dataclasses.field(default_factory=lambda: 0 * b2().mV)
    spike_generator: str = "leaky"

    def __post_init__(self) -> None:
        _check_kinds(self)
        _check_dimensions(self)
        _check_values(self)

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
    def top_rate(self) -> Any:
        """LIF: the highest rate a neuron reaches (Hz), one spike per refractory period
        rounded up to whole time steps (at least one step: the threshold is checked once
        per step).  A unit's value codes at most ``top_rate / r_max`` × the top of its
        range; above that its spikes no longer follow it."""
        steps = max(1, int(np.ceil(float(self.t_ref / self.dt) - 1e-9)))
        return 1 / (steps * self.dt)

    @property
    def top_value(self) -> float:
        """LIF: the highest value a unit of range ``h_max`` codes, h_max·top_rate/r_max
        (dimensionless; 5 at r_max = 4 kHz and dt = 0.2 ms)."""
        return float(self.h_max * self.top_rate / self.r_max)

    @property
    def v_zero(self) -> Any:
        """LIF: the reset-free potential of value 0, half a reset depth below threshold (the
        rate of a unit with a soft reset is then r_max · value, without an offset)."""
        return self.v_th - self.reset_depth / 2

    def steps_per_digit(self) -> int:
        """Recorded INFERENCE steps per digit (settling, steps and margin)."""
        return int(round(float(self.t_digit / self.step_time)))

    def settle_steps(self) -> int:
        """Steps of δ·τ in the settling phase."""
        return int(round(float(self.t_settle / self.step_time)))


def _check_kinds(p: SpikingParameters) -> None:
    from ..neurons import SPIKE_GENERATORS  # (with brian2, which the defaults import)

    if p.neuron not in NEURONS:
        raise ValueError(f"neuron must be one of {NEURONS}, got {p.neuron!r}")
    if p.spike_generator not in SPIKE_GENERATORS:
        raise ValueError(f"spike_generator must be one of {SPIKE_GENERATORS}, got "
                         f"{p.spike_generator!r}")
    if p.spike_generator != "leaky" and (p.neuron != "lif" or p.ensemble != 1):
        raise ValueError(f"spike_generator={p.spike_generator!r} is for LIF units of one "
                         f"neuron each (got {p.neuron!r}, ensemble {p.ensemble})")
    if isinstance(p.ensemble, bool) or not isinstance(p.ensemble, (int, np.integer)) \
            or p.ensemble < 1:
        raise ValueError(f"ensemble (neurons per unit) must be a whole number ≥ 1, got "
                         f"{p.ensemble!r}")


def _check_dimensions(p: SpikingParameters) -> None:
    u = b2()
    for name in ("v_span", "v_th", "member_sigma"):
        if not u.have_same_dimensions(getattr(p, name), u.volt):
            raise ValueError(f"{name} must be a voltage (e.g. 10*mV), got "
                             f"{getattr(p, name)!r}")
    for name in ("tau", "tau_syn", "t_settle", "tau_ff", "dt", "tau_m", "t_ref", "tau_rec"):
        value = getattr(p, name)
        if not u.have_same_dimensions(value, u.second):
            raise ValueError(f"{name} must be a time (e.g. 10*ms), got {value!r}")
    if not u.have_same_dimensions(p.r_max, u.Hz):
        raise ValueError(f"r_max must be a rate (e.g. 1000*Hz), got {p.r_max!r}")


def _check_values(p: SpikingParameters) -> None:
    for name in ("tau", "tau_syn", "tau_ff", "dt", "r_max", "h_max", "delta", "t_settle",
                 "v_span", "tau_m", "tau_rec"):
        if not float(getattr(p, name)) > 0:  # (t_settle: INFERENCE starts from f(x))
            raise ValueError(f"{name} must be positive, got {getattr(p, name)!r}")
    if float(p.t_ref) < 0:
        raise ValueError(f"t_ref must not be negative, got {p.t_ref!r}")
    if float(p.member_sigma) < 0:
        raise ValueError(f"member_sigma must not be negative, got {p.member_sigma!r}")
    if float(p.member_sigma) > 0 and (p.neuron != "lif" or p.ensemble < 2):
        raise ValueError("member_sigma is the noise of LIF ensemble members: it needs "
                         f"neuron='lif' and ensemble ≥ 2 (got {p.neuron!r}, {p.ensemble})")
    if p.alpha < 0:
        raise ValueError(f"alpha must not be negative, got {p.alpha}")
    if p.n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {p.n_steps}")
    if float(p.r_max * p.dt) > 1:
        raise ValueError(f"r_max·dt = {float(p.r_max * p.dt):.3g} > 1: a unit cannot "
                         "fire more than once per time step; lower dt or r_max")
    if p.neuron == "lif" and float(p.r_max * p.t_ref) >= 1:
        raise ValueError(f"r_max·t_ref = {float(p.r_max * p.t_ref):.3g} ≥ 1: the "
                         "refractory period caps the rate below r_max; shorten t_ref")
    if p.neuron == "lif" and float(p.t_ref) > float(p.step_time):
        raise ValueError(f"t_ref ({p.t_ref}) is longer than one INFERENCE step δ·τ "
                         f"({p.step_time}): a unit could not fire within a step")
    for name, whole, part in (("δ·τ", p.step_time, p.dt), ("t_settle", p.t_settle,
                                                           p.step_time)):
        if not _whole(whole / part):
            raise ValueError(f"{name} ({whole}) must be a whole multiple of {part}")


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
    eps_encoders, eps_decoders
        ε of the f and g layers: the learning rate of the rule's rate twin
        (:func:`stdpsim.plasticity.sdvdt_updates`), per example.  A synapse changes by
        η·dv_post/dt at each presynaptic spike with η = ε·range_pre/(r_max·v_unit_post)
        (:func:`stdpsim.spiking.learner.eta`), so that at high rates it adds
        ε ∫ u_pre dh_post.
    noise_x
        Standard deviation (value units, pixels in [0, 1]) of each visible unit's own
        variability in one example: it draws n ~ N(0, noise_x²) at the example's start and
        sends signed corruption events at ``noise_rate``·abs(n), which reach h1's prediction
        and its encoder's learning but not INFERENCE (:mod:`stdpsim.spiking.equations`,
        "corruption events"); 0: none (not compiled in).
    noise_rate
        Rate of a visible unit's corruption events per unit of abs(n) (each carries
        r_max/noise_rate times a data spike's weight, so the events' mean is n).
    event_timing
        How a visible unit times its corruption events
        (:func:`stdpsim.spiking.equations.corruption_events`): ``poisson``, whose counts add
        their own noise to n, or ``regular``, a train whose count is n's to within one
        event.
    t_noisy
        With ``noise_x`` > 0: the first part of settling, in which h1 settles on its
        corrupted prediction; in the rest h1 settles on the clean feed-forward value while
        the encoders learn (shorter than the network's ``t_settle``).
    value_floor
        Hidden units' values also stop at 0 from below, as they stop at the top their
        spikes code from above (:func:`stdpsim.spiking.equations.saturation`): a membrane
        held at its inhibitory reversal potential.  Below 0 a unit's spikes stop, so the
        layers around it see 0 whatever its value.
    """

    t_recon: Any = dataclasses.field(default_factory=_ms(20))
    tau_nudge: Any = dataclasses.field(default_factory=_ms(4))
    eps_encoders: float = 1e-4
    eps_decoders: float = 1e-4
    noise_x: float = 0.0
    noise_rate: Any = dataclasses.field(default_factory=lambda: 500 * b2().Hz)
    t_noisy: Any = dataclasses.field(default_factory=_ms(3))
    value_floor: bool = False
    event_timing: str = "poisson"

    def __post_init__(self) -> None:
        u = b2()
        for name in ("t_recon", "tau_nudge", "t_noisy"):
            value = getattr(self, name)
            if not (u.have_same_dimensions(value, u.second) and float(value) > 0):
                raise ValueError(f"{name} must be a positive time (e.g. 20*ms), got {value!r}")
        for name in ("eps_encoders", "eps_decoders"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not (np.isfinite(self.noise_x) and self.noise_x >= 0):
            raise ValueError(f"noise_x must be a non-negative s.d., got {self.noise_x}")
        if not (u.have_same_dimensions(self.noise_rate, u.Hz) and float(self.noise_rate) > 0):
            raise ValueError(f"noise_rate must be a positive rate (e.g. 500*Hz), got "
                             f"{self.noise_rate!r}")
        if self.event_timing not in EVENT_TIMINGS:
            raise ValueError(f"event_timing must be one of {EVENT_TIMINGS}, got "
                             f"{self.event_timing!r}")

    @property
    def corrupted(self) -> bool:
        """Whether the visible units send corruption events (``noise_x`` > 0)."""
        return self.noise_x > 0

    @property
    def events(self) -> str | None:
        """The corruption events' timing, or None without events."""
        return self.event_timing if self.corrupted else None

    def check_against(self, params: SpikingParameters) -> None:
        """ValueError unless the phases fit the network's clock: ``t_recon`` a whole
        multiple of dt and, with corruption events, ``t_noisy`` a whole multiple of dt
        shorter than the network's settling."""
        def ms(value: Any) -> str:
            return f"{float(value / b2().ms):g} ms"

        if not _whole(self.t_recon / params.dt):
            raise ValueError(f"t_recon ({ms(self.t_recon)}) must be a whole multiple of dt "
                             f"({ms(params.dt)})")
        if self.corrupted and not (_whole(self.t_noisy / params.dt)
                                   and self.t_noisy < params.t_settle):
            raise ValueError(f"t_noisy ({ms(self.t_noisy)}) must be a whole multiple of dt "
                             f"({ms(params.dt)}) shorter than settling "
                             f"({ms(params.t_settle)})")

    def t_example(self, params: SpikingParameters) -> Any:
        """Time per example: settling, the INFERENCE steps, reconstruction."""
        return params.t_settle + params.n_steps * params.step_time + self.t_recon


def settled_fraction(t: Any, tau_syn: Any, tau_ff: Any) -> float:
    """How far a hidden unit's value has settled on its feed-forward value ``t`` after an
    example's start (dimensionless, 0 to 1), for inputs in the linear range of its encoder.

    At the start of an example the input trace is empty and the value at 0; the trace
    builds up with ``tau_syn`` towards the input's steady value, and the value follows the
    trace with ``tau_ff``: the step response of two first-order stages,

        s(t) = 1 − (τ_syn e^(−t/τ_syn) − τ_ff e^(−t/τ_ff)) / (τ_syn − τ_ff),

    1 − (1 + t/τ) e^(−t/τ) when both are τ.  The learner's f1 starts learning at
    ``t_noisy``: whatever of h1's prediction is unsettled then, (1 − s)·f1(x̃), the rule
    integrates as if it were a prediction error, x̃ ⊗ (1 − s)·act′·h1 in f1's tags (with
    the gain factor act′): a Hebbian growth that no error pulls back
    (``docs/spiking_learning.md``).
    """
    t, a, b = (float(v) for v in (t, tau_syn, tau_ff))
    if min(a, b) <= 0 or t < 0:
        raise ValueError(f"settled_fraction needs t ≥ 0 and positive time constants, got "
                         f"{t}, {a}, {b}")
    if abs(a - b) < 1e-9 * max(a, b):
        return 1.0 - (1.0 + t / a) * np.exp(-t / a)
    return 1.0 - (a * np.exp(-t / a) - b * np.exp(-t / b)) / (a - b)


def _whole(ratio: Any) -> bool:
    return abs(float(ratio) - round(float(ratio))) < 1e-6


# ------------------------------------------------------------------------------ summaries


def parameters_summary(params: SpikingParameters) -> dict[str, Any]:
    """The parameters as plain numbers with their units in the names (for JSON)."""
    u = b2()
    p = params
    out = {"tau_ms": float(p.tau / u.ms), "tau_syn_ms": float(p.tau_syn / u.ms),
           "r_max_hz": float(p.r_max / u.Hz), "h_max": p.h_max,
           "t_settle_ms": float(p.t_settle / u.ms), "tau_ff_ms": float(p.tau_ff / u.ms),
           "dt_ms": float(p.dt / u.ms), "n_steps": p.n_steps, "delta": p.delta,
           "alpha": p.alpha, "step_ms": float(p.step_time / u.ms),
           "t_digit_ms": float(p.t_digit / u.ms), "neuron": p.neuron, "ensemble": p.ensemble}
    if p.neuron == "lif":
        out.update({"v_span_mv": float(p.v_span / u.mV), "tau_m_ms": float(p.tau_m / u.ms),
                    "v_th_mv": float(p.v_th / u.mV), "t_ref_ms": float(p.t_ref / u.ms),
                    "tau_rec_ms": float(p.tau_rec / u.ms),
                    "reset_depth_mv": float(p.reset_depth / u.mV)})
    if float(p.member_sigma) > 0:  # only when set: summaries without it stay as they were
        out["member_sigma_mv"] = float(p.member_sigma / u.mV)
    if p.spike_generator != "leaky":  # the same
        out["spike_generator"] = p.spike_generator
    return out


def learning_summary(learning: LearningParameters) -> dict[str, Any]:
    """The learning parameters as plain numbers with their units in the names, and
    ``value_bound``: the learner's hidden units stop at the top their spikes can code
    (:func:`stdpsim.spiking.equations.saturation`; runs before it have no such entry, so
    their checkpoints are not resumed by this network)."""
    u = b2()
    out = {"t_recon_ms": float(learning.t_recon / u.ms),
           "tau_nudge_ms": float(learning.tau_nudge / u.ms),
           "eps_encoders": learning.eps_encoders, "eps_decoders": learning.eps_decoders,
           "value_bound": "zero_and_top_rate" if learning.value_floor else "top_rate"}
    if learning.corrupted:  # only when set: summaries without it stay as they were
        out.update({"noise_x": learning.noise_x,
                    "noise_rate_hz": float(learning.noise_rate / u.Hz),
                    "t_noisy_ms": float(learning.t_noisy / u.ms)})
        if learning.event_timing != "poisson":  # the same
            out["event_timing"] = learning.event_timing
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
