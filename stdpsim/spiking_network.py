"""Spiking targetprop INFERENCE in Brian2: voltages are the latent variables, spikes quantise them.

The rate model's INFERENCE (:func:`stdpsim.rate_model.inference`) is the Euler discretisation,
with step δ, of the ODEs

    τ dh2/dt = f2(h1) − f2(g2(h2))
    τ dh1/dt = f1(x) − f1(g1(h1)) + (α/δ) (g2(h2) − h1)

so N steps of INFERENCE take the time N·δ·τ.  Here each latent unit is a neuron whose
dimensionless membrane variable ``v`` obeys this equation, and every quantity that crosses
from one population to another travels as spikes:

=============  =====  ==============================================  ========================
population     size   membrane / variables                             spikes ("spike", "recon")
=============  =====  ==============================================  ========================
``visible``    784    x (the digit), x̂ = g1(h1) from h1's spikes       Poisson(r_max·x), (r_max·x̂)
``h1``         1000   v = h1; f1(x), f1(x̂), ĥ1 = g2(h2) from spikes    (r_max·h1/h1_max), (r_max·ĥ1/h1_max)
``h2``         100    v = h2; f2(h1), f2(ĥ1) from spikes               (r_max·h2)
=============  =====  ==============================================  ========================

A unit whose value is h fires at rate r_max·h (h1, whose softplus values are unbounded, at
r_max·h1/h1_max): since h = φ(pre-activation), that is the rate r_max·φ of its layer's
nonlinearity, clipped to [0, r_max].  A receiving neuron reads a presynaptic population
through exponentially decaying synaptic traces (time constant ``tau_syn``) whose mean is the
pre-activation W·h: the Poisson spike counts are the paper's spike-like corruption, and the
rate model is the limit of high rates.

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
from typing import Any

import numpy as np

from . import backend
from .rate_model import (RateModel, activation_expression, ancestral_sample, inference,
                         log_joint)

N_VISIBLE, N_H1, N_H2 = 784, 1000, 100


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
        Firing rate of a unit at the top of its range (h2 = 1, h1 = ``h1_max``, x = 1).  The
        default 8 kHz is far above one cortical neuron: read a unit as a population (e.g.
        80 neurons at up to 100 Hz).  With 20 test digits, r_max 8 kHz and τ 20 ms gave a
        correlation of 0.997 (h1) and 0.956 (h2) with the rate trajectory; 1 kHz and 10 ms
        gave 0.96 and 0.66.
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

    def __post_init__(self) -> None:
        b2 = _b2()
        for name in ("tau", "tau_syn", "t_settle", "tau_ff", "dt"):
            value = getattr(self, name)
            if not b2.have_same_dimensions(value, b2.second):
                raise ValueError(f"{name} must be a time (e.g. 10*ms), got {value!r}")
        if not b2.have_same_dimensions(self.r_max, b2.Hz):
            raise ValueError(f"r_max must be a rate (e.g. 1000*Hz), got {self.r_max!r}")
        for name in ("tau", "tau_syn", "tau_ff", "dt", "r_max", "h1_max", "delta", "t_settle"):
            if not float(getattr(self, name)) > 0:  # (t_settle: INFERENCE starts from f(x))
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.alpha < 0:
            raise ValueError(f"alpha must not be negative, got {self.alpha}")
        if self.n_steps < 1:
            raise ValueError(f"n_steps must be at least 1, got {self.n_steps}")
        if float(self.r_max * self.dt) > 1:
            raise ValueError(f"r_max·dt = {float(self.r_max * self.dt):.3g} > 1: a unit cannot "
                             "fire more than once per time step; lower dt or r_max")
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

    def steps_per_digit(self) -> int:
        return int(round(float(self.t_digit / self.step_time)))

    def settle_steps(self) -> int:
        return int(round(float(self.t_settle / self.step_time)))


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
    ns = {"tau": p.tau, "tau_syn": p.tau_syn, "tau_ff": p.tau_ff, "r_max": p.r_max,
          "t_settle": p.t_settle, "leak": p.alpha / p.delta, "h1_max": p.h1_max,
          "tau_out": p.step_time}
    gain_unit = float(1.0 / (p.r_max * p.tau_syn))  # a rate-1 spike train → trace mean w
    gain_h1 = gain_unit * p.h1_max

    if n_rounds < 1:
        raise ValueError(f"n_rounds must be at least 1, got {n_rounds}")
    t_input = n_rounds * p.t_digit  # one row of "digits" per input
    # 1 at the first period of an input, 0 at the later ones (GENERATE's rounds)
    first_round = (np.arange(n_digits * n_rounds) % n_rounds == 0).astype(float)

    def build() -> backend.Simulation:
        stimulus = b2.TimedArray(np.zeros((n_digits, n_vis)), dt=t_input, name="digits")
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
        if n_rounds == 1:
            vis.run_regularly("t_start = t\nx = digits(t, i)\nu_g1 = 0", dt=p.t_digit,
                              when="start", name="visible_next_digit")
        else:  # a new input at its first period, else x ← x̂ (averaged over the last step)
            vis.namespace["first_round"] = b2.TimedArray(first_round, dt=p.t_digit)
            vis.run_regularly("t_start = t\nx = first_round(t) * digits(t, i) + "
                              "(1 - first_round(t)) * clip(x_out, 0, 1)\nu_g1 = 0",
                              dt=p.t_digit, when="start", name="visible_next_digit")
        h1.run_regularly("t_start = t\nv = 0\ni_data = 0\ni_recon = 0\ni_td = 0",
                         dt=p.t_digit, when="start", name="h1_next_digit")
        h2.run_regularly("t_start = t\nv = 0\ni_data = 0\ni_recon = 0", dt=p.t_digit,
                         when="start", name="h2_next_digit")

        f1 = _weight_tied(vis, h1, "f1", gain_unit)
        f2 = _weight_tied(h1, h2, "f2", gain_h1)
        g1 = b2.Synapses(h1, vis, model="w : 1", on_pre="u_g1_post += w * gain",
                         namespace={"gain": gain_h1}, name="g1")
        g2 = b2.Synapses(h2, h1, model="w : 1", on_pre="i_td_post += w * gain",
                         namespace={"gain": gain_unit}, name="g2")
        for syn, name in ((f1, "f1"), (f2, "f2"), (g1, "g1"), (g2, "g2")):
            n_in, n_out = model.weights[name].shape
            _connect_all(syn, n_in, n_out)
            syn.w = model.weights[name].astype(np.float64).ravel()

        # the voltages after every INFERENCE step (GENERATE and in-painting keep their samples)
        record_v = n_rounds == 1 and missing is None
        mon_h1 = b2.StateMonitor(h1, "v", record=record_v, dt=p.step_time, name="v_h1")
        mon_h2 = b2.StateMonitor(h2, "v", record=record_v, dt=p.step_time, name="v_h2")
        # spikes (all of them, or only their count) and reconstruction events (count)
        spikes = {g.name: b2.SpikeMonitor(g, record=record_spikes, name=f"spikes_{g.name}")
                  for g in (vis, h1, h2)}
        recons = {g.name: b2.EventMonitor(g, "recon", record=False, name=f"recon_{g.name}")
                  for g in (vis, h1)}
        objects = [vis, h1, h2, f1, f2, g1, g2, mon_h1, mon_h2, *spikes.values(),
                   *recons.values()]
        samples = None
        if n_rounds > 1 or missing is not None:  # x̂ at every input boundary, before reset
            samples = b2.StateMonitor(vis, "x_out", record=True, dt=t_input, when="start",
                                      order=-1, name="samples")
            objects.append(samples)

        def collect() -> dict[str, np.ndarray]:
            out = ({"v_h1": np.asarray(mon_h1.v).T, "v_h2": np.asarray(mon_h2.v).T}
                   if record_v else {})
            for name, mon in spikes.items():
                out[f"n_spikes_{name}"] = np.asarray(mon.num_spikes)
                if record_spikes:
                    out[f"spike_i_{name}"] = np.asarray(mon.i)
                    out[f"spike_t_{name}"] = np.asarray(mon.t / b2.second)
            for name, mon in recons.items():
                out[f"n_recon_{name}"] = np.asarray(mon.num_events)
            if samples is not None:  # row k: the end of input k − 1
                out["samples"] = np.asarray(samples.x_out).T[1:n_digits + 1]
            return out

        return backend.Simulation(objects, {"digits": stimulus}, collect)

    return build


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
        unless spikes were recorded).
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
    params = params or SpikingParameters(n_steps=15, alpha=0.3)
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


def parameters_summary(params: SpikingParameters) -> dict[str, float]:
    """The parameters as plain numbers with their units in the names (for JSON)."""
    b2 = _b2()
    return {"tau_ms": float(params.tau / b2.ms), "tau_syn_ms": float(params.tau_syn / b2.ms),
            "r_max_hz": float(params.r_max / b2.Hz), "h1_max": params.h1_max,
            "t_settle_ms": float(params.t_settle / b2.ms),
            "tau_ff_ms": float(params.tau_ff / b2.ms), "dt_ms": float(params.dt / b2.ms),
            "n_steps": params.n_steps, "delta": params.delta, "alpha": params.alpha,
            "step_ms": float(params.step_time / b2.ms),
            "t_digit_ms": float(params.t_digit / b2.ms)}


def compare_with_rate(result: SpikingInference, model: RateModel, x: np.ndarray
                      ) -> dict[str, Any]:
    """The rate model's INFERENCE on the same digits, and how closely the spiking voltages
    follow it: Pearson correlation over all digits, steps and units, per layer, of the
    states and of their change since the start; mean squared difference; log p(x, h) of both
    (mean and standard error per step, the gain end − start with its paired standard error,
    the share of digits that end above their start; nats)."""
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
    n = x.shape[0]
    for key, lp in (("spiking", result.log_p), ("rate", rate_lp)):
        sem = lp.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(lp.shape[1])
        gain = lp[:, -1] - lp[:, 0]
        out[key] = {"mean": lp.mean(axis=0).tolist(), "sem": sem.tolist(),
                    "gain": float(gain.mean()),
                    "gain_sem": float(gain.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
                    "share_rising": float(np.mean(gain > 0))}
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
