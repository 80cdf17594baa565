"""Plasticity rules: ΔW ∝ S_pre · dV_post/dt, its rate limit, and classical pair-based STDP for
comparison.

The S·dV/dt rule (Bengio et al. 2015, section 2): every presynaptic spike changes the weight
by ``eta * dvdt_post``, the rate of change of the postsynaptic voltage at that moment (see
:mod:`stdpsim.neurons` for what ``dvdt`` means).  Integrated over time this is
ΔW_ij = η ∫ S_i(t) dV_j/dt dt.

Statement order matters in ``on_pre``: the learning line comes first, so it reads the slope
*before* this spike's own synaptic input is added to ``g_post`` (which would otherwise add
``w / tau_m`` to the slope it reads).

Weights ``w`` are in volts: a spike adds ``w`` to the postsynaptic input ``g``.  The learning
rate ``eta`` is then in seconds (volt = second × volt/second).

The rule's Brian2 statement (:func:`sdvdt_learning_line`, used by Figure 1 and by the spiking
learner, :mod:`stdpsim.spiking.learner`) and its limit at high rates in the rate model
(:func:`sdvdt_updates`, the learner's rate twin) sit side by side here.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import numpy as np

from .corruption import Corruption, corrupt
from .activations import activation_slope
from .rate_model import RateModel, inference

if TYPE_CHECKING:  # brian2 is imported where a synapse is built: the rate twin needs none
    from brian2 import NeuronGroup, SpikeGeneratorGroup, Synapses

SDVDT_MODEL = "w : volt"


def sdvdt_learning_line(slope: str = "dvdt", gate: str | None = None, into: str = "w") -> str:
    """The S·dV/dt rule as one Brian2 statement for a synapse's ``on_pre`` code: at each
    presynaptic spike ``w`` changes by ``eta`` times the postsynaptic voltage slope.

    Parameters
    ----------
    slope
        Name of the postsynaptic slope variable (volt/second), read as ``<slope>_post``:
        ``dvdt`` (Figure 1), or e.g. ``dvdt_rec`` for a second membrane of the same neuron
        model (:func:`stdpsim.neurons.lif_equations`).
    gate
        Optional expression that multiplies the change, e.g. a phase flag of the
        postsynaptic neuron that switches learning on and off without recompiling
        (``learn_enc_post``), or that flag times a third factor.
    into
        ``"w"``: the weight changes (clipped to ``w_min``, ``w_max``); ``"tag"``: the change
        goes to the synapse's tag and the weight stays (:mod:`stdpsim.consolidation`).

    Put it *before* the line that delivers the spike's input, so that the rule reads the
    slope without this spike's own contribution.
    """
    if not slope.isidentifier():
        raise ValueError(f"slope must be a variable name, got {slope!r}")
    factor = f"{gate}*" if gate else ""
    if into == "tag":
        return f"tag = tag + eta*{factor}{slope}_post"
    if into != "w":
        raise ValueError(f"into must be 'w' or 'tag', got {into!r}")
    return f"w = clip(w + eta*{factor}{slope}_post, w_min, w_max)"


# ------------------------------------------------------------- the rule's rate limit


def sdvdt_updates(model: RateModel, x: np.ndarray, n_steps: int, delta: float, alpha: float,
                  *, gain_factor: bool = False, corruption: Corruption | None = None,
                  rng: np.random.Generator | None = None,
                  noisy_pre: bool | Collection[str] = False, x_draws: np.ndarray | None = None,
                  propagate: bool = False, cap: float | None = None
                  ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, float]]:
    """The tags the spiking S·dV/dt learner sets in the limit of high rates (its rate twin).

    In the spiking network a unit's value h lives in its membrane's reset-free potential
    (v = v_zero + v_unit·h, so the voltage is the *activation*, not the pre-activation), and a
    presynaptic unit of value u fires at r_max·u/scale.  Summing η·dv_post/dt over its spikes
    and choosing η = scale/(r_max·v_unit) per pathway, a synapse's tag is
    ∫ u_pre(t) dh_post/dt dt (ε leaves the tag for the consolidation,
    :mod:`stdpsim.consolidation`).  Per example, with h_0 = x and the INFERENCE trajectory
    h_l(0), ..., h_l(N) (h_l(0) the feed-forward prediction f_l(h_{l−1}(0)), h_l(N) the
    inferred value), the phases give:

    * inference, encoders f_l (pre h_{l−1}, post h_l):
      T_fl = Σ_k ½ (h_{l−1}(k) + h_{l−1}(k+1)) ⊗ (h_l(k+1) − h_l(k)),
      for f1 simply x ⊗ (h1(N) − f1(x)): the delta rule towards the inferred value;
    * reconstruction, decoders g_l (pre h_l(N), post the reconstruction of h_{l−1}, moved from
      its prediction to the target): T_gl = h_l(N) ⊗ (h_{l−1}(N) − g_l(h_l(N))), with
      h_0(N) = x;
    * biases, through an always-on presynaptic unit (u = 1): the same with 1 for u.

    Mechanisms of the second design (each off by default, giving the first design's update):

    ``corruption``
        The predictions see corrupted inputs, drawn by :func:`stdpsim.corruption.corrupt`
        from ``rng``: an encoder's prediction h_l(0) is f_l of its corrupted starting input,
        a decoder's g_l of its corrupted h_l(N) (in spikes: the prediction is read from a
        short window of noisy spikes, the target from INFERENCE's longer integration).  The
        presynaptic factor stays clean (in spikes it comes from other spikes than the
        prediction's), except in the layers ``noisy_pre`` names (True: all of them): there
        it is the corrupted input, as in Algorithm 2 (in spikes, ``("f1",)``: the visible
        units' corruption events, :data:`stdpsim.spiking.equations.CORRUPTION_SOURCE`).
    ``propagate``
        With ``corruption``: x's corruption reaches the upper encoders as it does in spikes,
        through the layers below, instead of their own draws.  Settling on the corrupted x
        leaves the feed-forward pass h̃_l = f_l(h̃_{l−1}) (h̃_0 = x̃); each upper encoder's
        prediction is f_l(h̃_{l−1}), and its trajectory starts with the step of settling's
        clean part, (h̃_{l−1}, f_l(h̃_{l−1})) → (h_{l−1}(0), h_l(0)), before INFERENCE's:
        a denoising step of its own (in spikes: the corruption events stop and the layers
        settle on the clean x while the encoders learn).
    ``gain_factor``
        A third factor, act′ of the postsynaptic layer at the prediction's pre-activation,
        multiplies each postsynaptic unit's change: the error through the nonlinearity, as
        the rate model's loss takes it.
    ``cap``
        The hidden values' bound (None: none): INFERENCE's trajectory
        (:func:`stdpsim.rate_model.inference`'s ``cap``), the corrupted feed-forward pass and
        the predictions of hidden values stop at it, as a spiking unit's value stops at its
        top rate (:attr:`stdpsim.spiking.SpikingParameters.top_value`).

    With both, ``noisy_pre=True`` and the rng of :func:`stdpsim.rate_training.local_problems`,
    the tags of f1 and of every decoder are −½·B times the rate model's local gradients
    (B: the batch size); the upper encoders differ, their presynaptic values moving during
    INFERENCE.

    Parameters
    ----------
    x
        Visible batch, shape (batch, n_visible).
    n_steps, delta, alpha
        INFERENCE settings.
    x_draws
        f1's standard-normal corruption draws, shape of ``x``, given instead of drawn
        (:func:`stdpsim.corruption.corrupt`): the spiking learner's, to compare with its
        tags on the same corruption.

    Returns
    -------
    tags, errors
        ``{layer: (T_W, T_b)}`` summed over the batch (shapes of the weights and biases),
        and the mean squared prediction error per layer (target − prediction, summed over
        units, averaged over the batch).
    """
    if corruption is not None and rng is None:
        raise ValueError("corruption needs an rng")
    noisy = set(model.weights) if noisy_pre is True else set(noisy_pre or ())
    if not noisy <= set(model.weights):
        raise ValueError(f"noisy_pre names layers {sorted(noisy - set(model.weights))} "
                         f"that the model does not have ({sorted(model.weights)})")
    x = np.asarray(x, dtype=np.float32)
    *_, states = inference(model, x, n_steps, delta, alpha, trace=True, cap=cap)
    bound = (lambda h: h) if cap is None else (lambda h: np.minimum(h, cap))
    traj = [np.stack([x] * len(states))] + [np.stack([s[l] for s in states])
                                             for l in range(model.depth)]
    depth = model.depth
    clean_enc = [traj[l - 1][0] for l in range(1, depth + 1)]
    clean_dec = [traj[l][-1] for l in range(1, depth + 1)]
    noisy_enc, noisy_dec = (corrupt(clean_enc, clean_dec, rng, corruption, x_draws)
                            if corruption is not None else (clean_enc, clean_dec))
    if propagate and corruption is None:
        raise ValueError("propagate needs a corruption")
    mechanisms = gain_factor or corruption is not None
    updates, errors = {}, {}
    for l in range(1, depth + 1):
        name = f"f{l}"
        pre, post = traj[l - 1], traj[l]  # (N + 1, batch, n)
        if propagate and l > 1:  # the settling step from the corrupted pass, then INFERENCE
            noisy_enc[l - 1] = bound(model.layer(f"f{l - 1}", noisy_enc[l - 2]))
            pre = np.concatenate([noisy_enc[l - 1][None], pre])
            post = np.concatenate([post[:1], post])
        a = model.pre_activation(name, noisy_enc[l - 1]) if mechanisms else None
        if corruption is not None:
            post = post.copy()
            post[0] = bound(model.activate(name, a))
        if name in noisy:
            pre = pre + (noisy_enc[l - 1] - clean_enc[l - 1])
        mid = 0.5 * (pre[:-1] + pre[1:])
        change = np.diff(post, axis=0)
        if gain_factor:
            change *= activation_slope(model.activations[name], a)
        updates[name] = (np.einsum("kbi,kbj->ij", mid, change), change.sum(axis=(0, 1)))
        errors[name] = float(np.mean(np.sum((post[-1] - post[0]) ** 2, axis=1)))
    for l in range(1, depth + 1):
        name = f"g{l}"
        a = model.pre_activation(name, noisy_dec[l - 1])
        pred = model.activate(name, a)
        err = traj[l - 1][-1] - (pred if l == 1 else bound(pred))
        errors[name] = float(np.mean(np.sum(err ** 2, axis=1)))
        if gain_factor:
            err *= activation_slope(model.activations[name], a)
        pre = noisy_dec[l - 1] if name in noisy else clean_dec[l - 1]
        updates[name] = (pre.T @ err, err.sum(axis=0))
    return updates, errors


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
    from brian2 import volt

    return {
        "w_min": -np.inf * volt if w_min is None else w_min,
        "w_max": np.inf * volt if w_max is None else w_max,
    }


def _target_namespace(target: "NeuronGroup") -> dict[str, Any]:
    """The target's constants: the rule reads ``dvdt_post``, whose expression uses them."""
    return dict(getattr(target, "namespace", None) or {})


def sdvdt_synapses(
    source: "NeuronGroup | SpikeGeneratorGroup",
    target: "NeuronGroup",
    eta: Any,
    *,
    w_min: Any = None,
    w_max: Any = None,
    name: str = "sdvdt",
) -> "Synapses":
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
    from brian2 import Synapses

    return Synapses(
        source,
        target,
        model=SDVDT_MODEL,
        on_pre=SDVDT_ON_PRE,
        namespace={**_target_namespace(target), "eta": eta, **_bounds(w_min, w_max)},
        name=name,
    )


def classical_stdp_synapses(
    source: "NeuronGroup | SpikeGeneratorGroup",
    target: "NeuronGroup",
    *,
    a_plus: Any,
    tau_plus: Any,
    a_minus: Any,
    tau_minus: Any,
    w_min: Any = None,
    w_max: Any = None,
    name: str = "classical_stdp",
) -> "Synapses":
    """Pair-based exponential STDP with all-to-all trace interaction (comparison model).

    ``a_plus`` and ``a_minus`` are weight changes in volt (``a_minus`` negative for
    depression); the τs are times.
    """
    from brian2 import Synapses

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
