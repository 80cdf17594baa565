"""Brian2 equations of the stack's layers, shared by every kind of unit.

The rate model's INFERENCE (:func:`stdpsim.rate_model.inference`) is the Euler
discretisation, with step δ, of the ODEs

    τ dh_L/dt = f_L(h_{L−1}) − f_L(g_L(h_L))
    τ dh_l/dt = f_l(h_{l−1}) − f_l(g_l(h_l)) + (α/δ) (g_{l+1}(h_{l+1}) − h_l)    (l < L)

with h_0 = x, so N steps take the time N·δ·τ.  A hidden layer's units hold their value
(``v`` for Poisson units, ``h`` for LIF units), read their encoder's two traces (``i_data``
from the spikes of the layer below, ``i_recon`` from its reconstruction events) and, below the
top, the trace ``i_td`` of the layer above's spikes, whose g gives their own reconstruction
``top_down``.  The visible units hold the digit ``x``, their reconstruction ``x_recon`` =
g1(h1) from the trace ``u_g1``, and ``x_out``, x̂ averaged over the last step.

Each digit starts with ``t_settle`` in which the values relax (``tau_ff``) to the
feed-forward values, INFERENCE's start computed by the network itself from spikes.  The
nonlinearities come from :data:`stdpsim.activations.ACTIVATION_EXPRESSIONS`, the definitions
the rate model is tested against.
"""

from __future__ import annotations

import dataclasses

from ..activations import activation_expression, slope_expression
from ..rate_model import RateModel
from .parameters import EVENT_TIMINGS
from .stack import Layer


def prediction(layer: Layer) -> str:
    """The variable holding a layer's reconstruction g_{l+1}(h_{l+1})."""
    return "x_recon" if layer.index == 0 else "top_down"


def top_down_trace(layer: Layer) -> str:
    """The trace that the spikes of the layer above feed (through g_{l+1})."""
    return "u_g1" if layer.index == 0 else "i_td"


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
    """A hidden layer's encoder f applied to the data trace and to the reconstruction trace,
    both traces, and the clock of the settling phase."""
    return f"""
f_data = {activation_expression(activation, f"i_data + {bias}")} : 1
f_recon = {activation_expression(activation, f"i_recon + {bias}")} : 1
di_data/dt = -i_data / tau_syn : 1
di_recon/dt = -i_recon / tau_syn : 1
settle = int(t - t_start < t_settle) : 1
t_start : second (shared)
{bias} : 1 (constant)
"""


def biases(layer: Layer) -> tuple[str, ...]:
    """The biases a layer's units hold: its encoder's b_f<l> and, below the top, the bias
    b_g<l+1> of the decoder that predicts it (the visible layer: b_g1 only)."""
    own = (f"b_f{layer.index}",) if layer.index else ()
    return own + ((f"b_g{layer.index + 1}",) if layer.has_recon else ())


def hidden_read_out(layer: Layer, model: RateModel, value: str) -> str:
    """A hidden layer's lines besides its value's dynamics: ``value`` (if an expression is
    needed, as the caller gives it), the encoder read-out, and below the top the
    reconstruction ``top_down`` = g_{l+1}(i_td + b)."""
    l = layer.index
    lines = ""
    if layer.has_recon:
        g = activation_expression(model.activations[f"g{l + 1}"], f"i_td + b_g{l + 1}")
        lines = (f"\ntop_down = {g} : 1\ndi_td/dt = -i_td / tau_syn : 1\n"
                 f"b_g{l + 1} : 1 (constant)\n")
    return value + lines + _encoder_read_out(model.activations[f"f{l}"], f"b_f{l}")


def drive(layer: Layer, value: str, corrupted: bool = False) -> str:
    """τ·d(value)/dt: settling on f(h_below) (``corrupted``: first, while ``noisy``, on f1
    of the data and the corruption events, :func:`corrupted_read_out`, then on f1 of the
    data), then the INFERENCE drive (with the top-down pull below the top)."""
    pull = f" + leak * (top_down - {value})" if layer.has_recon else ""
    settling = "noisy * f_noisy + (1 - noisy) * f_data" if corrupted else "f_data"
    return (f"(1 - settle) * (f_data - f_recon{pull}) / tau"
            f" + settle * ({settling} - {value}) / tau_ff")


def saturation(layer: Layer, drive: str) -> str:
    """The learner's bound on a hidden unit's value: ``blocked`` is 1 while the value is at
    or above the top its spikes can code (``top_rate``/r_max × the top of its range; the LIF
    units' :attr:`~stdpsim.spiking.SpikingParameters.top_rate`) and ``drive`` (d(value)/dt,
    1/second) would take it there within the time step, else 0; the membrane's slope carries
    the factor (1 − ``blocked``), so a rising value stops less than one step's rise below
    the top.  The membrane stops there, as a real one stops at its reversal
    potential, so the rule reads dV/dt = 0 and no unit learns to hold a value that no spike
    shows: without the bound, the layers around a unit above the top see only the top,
    INFERENCE keeps pushing the unit up, and f1 learns to follow it.  With ``value_floor``
    (1; :class:`~stdpsim.spiking.LearningParameters`) a falling value stops at 0 the same
    way: below 0 the unit is silent whatever its value."""
    rate = f"({drive})"
    return (f"blocked = int(h + dt * {rate} >= {layer.scale} * top_rate / r_max)"
            f" * int({rate} * second > 0)"
            f" + value_floor * int(h + dt * {rate} <= 0) * int({rate} * second < 0)"
            " : 1 (constant over dt)\n")


CORRUPTION_SOURCE = """
noise : 1
"""
"""Corruption events (visible units, with ``noise_x`` > 0 in the learner): each unit draws
its own variability n ~ N(0, noise_x²) at the start of every example (``noise``,
:data:`CORRUPTION_START`) and, through settling and INFERENCE, sends ``noise`` events at
``noise_rate``·abs(n) (:data:`CORRUPTION_EVENT`), which the encoder f1 delivers with sign(n) and
r_max/noise_rate times a data spike's weight: their mean adds n to the pixel's value.  They
feed h1's trace ``i_noise`` (:func:`corrupted_read_out`), which h1 reads only in the first
part of settling (``noisy``, ``t_noisy`` long): h1 settles on the prediction f1(x + n).
Then it settles on f1(x), the clean feed-forward value, and INFERENCE starts from there, as
the rate model's does; from the end of ``noisy`` on the encoders learn
(:func:`learning_phases`), so h1's membrane moves from the corrupted prediction to the clean
inferred value while the corruption events, like the data spikes, drive f1's S·dV/dt rule:
the presynaptic factor is x + n, as in Algorithm 2's denoising problem for f1.  The reading:
a pixel neuron's trial-to-trial variability, seen by the synapses that learn from it and by
the fast first prediction, and not by the slower integration that follows.  The rate limit
is the twin's corruption of f1 with a noisy presynaptic factor
(:func:`stdpsim.plasticity.sdvdt_updates`)."""

CORRUPTION_START = "noise = noises(t, i)\n"
"""What a visible unit takes at the start of every example: its n for this example
(``noises``, a run input: ``noise_x`` times a standard-normal draw that the rate twin can be
given too, :func:`stdpsim.spiking.learner.learning_inputs`)."""

CORRUPTION_EVENT = "rand() < noise_rate * abs(noise) * dt and recon_phase == 0"
"""When a visible unit sends a corruption event: at ``noise_rate``·abs(n), in settling and
INFERENCE."""


@dataclasses.dataclass(frozen=True)
class CorruptionEvents:
    """The visible units' corruption events, as Brian2 code: ``source``, their equations;
    ``start``, what each unit takes at the start of an example; ``condition``, when it sends
    an event; ``reset``, what an event does to it ("" nothing)."""

    timing: str
    source: str
    start: str
    condition: str
    reset: str


def corruption_events(timing: str = "poisson") -> CorruptionEvents:
    """The corruption events of one of :data:`EVENT_TIMINGS`.

    ``poisson``: each time step an event with probability ``noise_rate``·abs(n)·dt
    (:data:`CORRUPTION_EVENT`), so a unit's count over a window of length T is Poisson with
    mean ``noise_rate``·abs(n)·T: the count noise adds to n.  ``regular``: a phase that
    grows at ``noise_rate``·abs(n) in settling and INFERENCE, from a random start in [0, 1)
    at each example, sends an event and drops by 1 when it reaches 1, so the count is
    ``noise_rate``·abs(n)·T rounded up or down (its mean is the same, its variance at most
    1/4): a pixel neuron whose trial-to-trial variability n sets the rate of a regular
    train, as an integrating neuron's input sets its rate."""
    if timing not in EVENT_TIMINGS:
        raise ValueError(f"unknown corruption event timing {timing!r}; expected one of "
                         f"{EVENT_TIMINGS}")
    if timing == "poisson":
        return CorruptionEvents(timing, CORRUPTION_SOURCE, CORRUPTION_START, CORRUPTION_EVENT,
                                "")
    return CorruptionEvents(
        timing,
        CORRUPTION_SOURCE
        + "dnoise_phase/dt = noise_rate * abs(noise) * (1 - recon_phase) : 1\n",
        CORRUPTION_START + "noise_phase = rand()\n",
        "noise_phase >= 1 and recon_phase == 0", "noise_phase -= 1")


def corrupted_read_out(layer: Layer, model: RateModel) -> str:
    """h1's trace of the corruption events and f1 of data and corruption together, the
    prediction settling follows (see :data:`CORRUPTION_SOURCE`)."""
    act = activation_expression(model.activations[f"f{layer.index}"],
                                f"i_data + i_noise + b_f{layer.index}")
    return f"di_noise/dt = -i_noise / tau_syn : 1\nf_noisy = {act} : 1\n"


def rate_expression(value: str, scale: str = "1") -> str:
    """Brian2 condition for a Poisson spike of a unit whose value is ``value`` (rate
    r_max·value/scale, clipped to [0, r_max])."""
    return f"rand() < r_max * clip(({value}) / {scale}, 0, 1) * dt"


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


def learning_phases(corrupted: bool = False) -> str:
    """:data:`LEARNING_PHASES`; ``corrupted``: settling starts with ``noisy`` (``t_noisy``
    long, h1 settles on its corrupted prediction, :data:`CORRUPTION_SOURCE`), and the
    encoders learn from its end on (the rest of settling, then INFERENCE)."""
    if not corrupted:
        return LEARNING_PHASES
    return LEARNING_PHASES.replace(
        "learn_enc = plastic * infer_phase : 1 (constant over dt)",
        "learn_enc = plastic * (1 - noisy) * (1 - recon_phase) : 1 (constant over dt)\n"
        "noisy = int(t - t_start < t_noisy) : 1")


def gain_factors(layer: Layer, model: RateModel, corrupted: bool = False) -> str:
    """The learner's third factors of a layer's units (compiled in only when the learner
    uses them).

    ``gain_f`` (hidden layers, the encoders' postsynaptic factor): act′ of f_l at ``a_ff``,
    the feed-forward pre-activation, followed during settling with ``tau_ff`` and held
    from then on, the pre-activation of the prediction that INFERENCE moves away from.
    ``gain_g`` (layers with a reconstruction, the decoders' postsynaptic factor): act′ of
    g_{l+1} at ``a_td``, the top-down pre-activation followed with ``tau_rec`` (the
    reconstruction membrane's own time constant).  The neuron's gain at its input: how
    much its output would move for a change of its input.  ``corrupted``: h1's ``a_ff``
    follows the data and the corruption events together, while ``noisy``
    (:data:`CORRUPTION_SOURCE`).
    """
    l = layer.index
    lines = ""
    if l > 0:
        slope = slope_expression(model.activations[f"f{l}"], "a_ff")
        noise, when = (" + i_noise", "noisy") if corrupted else ("", "settle")
        lines += (f"da_ff/dt = {when} * (i_data{noise} + b_f{l} - a_ff) / tau_ff : 1\n"
                  f"gain_f = {slope} : 1 (constant over dt)\n")
    if layer.has_recon:
        pre = "u_g1 + b_g1" if l == 0 else f"i_td + b_g{l + 1}"
        slope = slope_expression(model.activations[f"g{l + 1}"], "a_td")
        lines += (f"da_td/dt = ({pre} - a_td) / tau_rec : 1\n"
                  f"gain_g = {slope} : 1 (constant over dt)\n")
    return lines


def gain_start(layer: Layer) -> str:
    """What :func:`gain_factors` resets at the start of every example."""
    return ("a_ff = 0\n" if layer.index > 0 else "") + ("a_td = 0\n" if layer.has_recon else "")


def learnable(eqs: str, names: tuple[str, ...]) -> str:
    """``eqs`` with the biases ``names`` as parameters the bias synapses can write (summed
    variables cannot target constants)."""
    for b in names:
        eqs = eqs.replace(f"{b} : 1 (constant)", f"{b} : 1")
    return eqs
