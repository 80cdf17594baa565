"""Plasticity rules: ΔW ∝ S_pre · dV_post/dt, and classical pair-based STDP for comparison.

The S·dV/dt rule (Bengio et al. 2015, section 2): every presynaptic spike changes the weight
by ``eta * dvdt_post``, the rate of change of the postsynaptic voltage at that moment (see
:mod:`stdpsim.neurons` for what ``dvdt`` means).  Integrated over time this is
ΔW_ij = η ∫ S_i(t) dV_j/dt dt.

Statement order matters in ``on_pre``: the learning line comes first, so it reads the slope
*before* this spike's own synaptic input is added to ``g_post`` (which would otherwise add
``w / tau_m`` to the slope it reads).

Weights ``w`` are in volts: a spike adds ``w`` to the postsynaptic input ``g``.  The learning
rate ``eta`` is then in seconds (volt = second × volt/second).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from brian2 import NeuronGroup, Synapses, SpikeGeneratorGroup, volt

SDVDT_MODEL = "w : volt"


def sdvdt_learning_line(slope: str = "dvdt", gate: str | None = None) -> str:
    """The S·dV/dt rule as one Brian2 statement for a synapse's ``on_pre`` code: at each
    presynaptic spike ``w`` changes by ``eta`` times the postsynaptic voltage slope.

    Parameters
    ----------
    slope
        Name of the postsynaptic slope variable (volt/second), read as ``<slope>_post``:
        ``dvdt`` (Figure 1), or e.g. ``dvdt_rec`` for a second membrane of the same neuron
        model (:func:`stdpsim.neurons.lif_equations`).
    gate
        Optional expression (0 or 1) that switches learning on and off without recompiling,
        e.g. a phase flag of the postsynaptic neuron (``learn_enc_post``).

    Put it *before* the line that delivers the spike's input, so that the rule reads the
    slope without this spike's own contribution.
    """
    if not slope.isidentifier():
        raise ValueError(f"slope must be a variable name, got {slope!r}")
    factor = f"{gate}*" if gate else ""
    return f"w = clip(w + eta*{factor}{slope}_post, w_min, w_max)"


SDVDT_ON_PRE = f"""
{sdvdt_learning_line()}
g_post += w
"""

CLASSICAL_MODEL = """
w : volt
dapre/dt = -apre/tau_plus : volt (event-driven)
dapost/dt = -apost/tau_minus : volt (event-driven)
"""
CLASSICAL_ON_PRE = """
g_post += w
apre += A_plus
w = clip(w + apost, w_min, w_max)
"""
CLASSICAL_ON_POST = """
apost += A_minus
w = clip(w + apre, w_min, w_max)
"""


def sdvdt_delta_w(eta: float, dvdt: np.ndarray) -> np.ndarray:
    """The rule's weight change for one presynaptic spike: ``eta * dvdt``.

    Parameters
    ----------
    eta
        Learning rate (seconds when ``dvdt`` is in volt/second).
    dvdt
        Postsynaptic voltage slope at the presynaptic spike, any shape.
    """
    return eta * np.asarray(dvdt)


def classical_window(
    delta_t: np.ndarray, a_plus: float, tau_plus: float, a_minus: float, tau_minus: float
) -> np.ndarray:
    """Pair-based STDP window: ``a_plus·exp(−Δt/τ+)`` for Δt > 0, ``a_minus·exp(Δt/τ−)`` else.

    ``delta_t`` is t_post − t_pre (same time unit as the τs); ``a_minus`` is signed
    (negative for depression).  Δt = 0 counts as potentiation.
    """
    delta_t = np.asarray(delta_t, dtype=float)
    return np.where(
        delta_t >= 0,
        a_plus * np.exp(-delta_t / tau_plus),
        a_minus * np.exp(delta_t / tau_minus),
    )


def _bounds(w_min: Any, w_max: Any) -> dict[str, Any]:
    return {
        "w_min": -np.inf * volt if w_min is None else w_min,
        "w_max": np.inf * volt if w_max is None else w_max,
    }


def _target_namespace(target: NeuronGroup) -> dict[str, Any]:
    """The target's constants: the rule reads ``dvdt_post``, whose expression uses them."""
    return dict(getattr(target, "namespace", None) or {})


def sdvdt_synapses(
    source: NeuronGroup | SpikeGeneratorGroup,
    target: NeuronGroup,
    eta: Any,
    *,
    w_min: Any = None,
    w_max: Any = None,
    name: str = "sdvdt",
) -> Synapses:
    """Synapses learning with ΔW = η · dV_post/dt at each presynaptic spike.

    Parameters
    ----------
    source, target
        Presynaptic group; postsynaptic group with ``dvdt`` (volt/second) and ``g`` (volt).
    eta
        Learning rate, a Brian2 quantity in seconds.
    w_min, w_max
        Optional weight bounds (volt); ``None`` for unbounded.
    """
    return Synapses(
        source,
        target,
        model=SDVDT_MODEL,
        on_pre=SDVDT_ON_PRE,
        namespace={**_target_namespace(target), "eta": eta, **_bounds(w_min, w_max)},
        name=name,
    )


def classical_stdp_synapses(
    source: NeuronGroup | SpikeGeneratorGroup,
    target: NeuronGroup,
    *,
    a_plus: Any,
    tau_plus: Any,
    a_minus: Any,
    tau_minus: Any,
    w_min: Any = None,
    w_max: Any = None,
    name: str = "classical_stdp",
) -> Synapses:
    """Pair-based exponential STDP with all-to-all trace interaction (comparison model).

    ``a_plus`` and ``a_minus`` are weight changes in volt (``a_minus`` negative for
    depression); the τs are times.
    """
    return Synapses(
        source,
        target,
        model=CLASSICAL_MODEL,
        on_pre=CLASSICAL_ON_PRE,
        on_post=CLASSICAL_ON_POST,
        namespace={
            **_target_namespace(target),
            "A_plus": a_plus,
            "A_minus": a_minus,
            "tau_plus": tau_plus,
            "tau_minus": tau_minus,
            **_bounds(w_min, w_max),
        },
        method="exact",
        name=name,
    )
