"""The named settings of the spiking network and its learner, defined once (:data:`PRESETS`,
:func:`preset`, :data:`LEARNING_PHASES`, :data:`EVENTS_SD`, :func:`training_learning`):

``inference``
    The class defaults: LIF units, r_max = 8 kHz per unit, τ = 20 ms, 20 INFERENCE steps.
``generation``
    GENERATE: INFERENCE with α = 0.3 and 15 steps per round, as the rate model's GENERATE.
``training``
    The spiking learner's network: r_max = 4 kHz, τ = 10 ms, 15 steps, τ_syn = 2 ms,
    τ_ff = 1 ms, 12 ms of settling, dt = 0.2 ms (with :data:`LEARNING_PHASES`: 9 ms of
    the settling corrupted, 32 ms per example), the ``integrating`` spike generator for
    LIF units of one neuron (``leaky`` for ensembles and Poisson units, which have no
    other).
``first_design``
    The network the learner's first design and its probes ran: r_max = 2 kHz, τ_syn = 1 ms,
    τ_ff = 2 ms, 5 ms of settling (3 ms of it corrupted), otherwise as ``training``.
``cortical``
    Ensembles at cortical rates: 10 LIF neurons per unit at up to 200 Hz each, τ = 40 ms,
    τ_m = 20 ms (:func:`sweep_parameters` chooses dt, settling and t_ref).
``cortical_noisy``
    40 LIF neurons per unit at up to 50 Hz each, τ = 10 ms, τ_m = 20 ms, with 2 mV of the
    members' own membrane noise.

Why each preset has the values it has is measured in ``docs/spiking.md``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .parameters import LearningParameters, SpikingParameters, b2


def sweep_parameters(r_max_hz: float, tau_ms: float, **overrides: Any) -> SpikingParameters:
    """Parameters for one point of a sweep over r_max (Hz) and τ (ms): dt at most 0.05 ms
    and 0.4/r_max and dividing a step (δ·τ), settling at least 10 ms and a whole number of
    steps, refractory period two time steps; the rest as ``overrides`` says or by
    default."""
    u = b2()
    step_ms = overrides.get("delta", SpikingParameters.delta) * tau_ms
    dt = step_ms / np.ceil(step_ms / min(0.05, 400.0 / r_max_hz)) * u.ms
    settle = np.ceil(10.0 / step_ms) * step_ms * u.ms
    return SpikingParameters(**{"r_max": r_max_hz * u.Hz, "tau": tau_ms * u.ms, "dt": dt,
                                "t_settle": settle, "t_ref": 2 * dt, **overrides})


def _learner_network(base: dict, overrides: dict) -> SpikingParameters:
    settings = {**base, **overrides}
    if "tau" in overrides and "t_settle" not in overrides:
        # settling lasts whole INFERENCE steps: the preset's, rounded up
        step = settings.get("delta", SpikingParameters.delta) * settings["tau"]
        settings["t_settle"] = np.ceil(float(settings["t_settle"] / step) - 1e-9) * step
    return SpikingParameters(**settings)


def _training(**overrides: Any) -> SpikingParameters:
    u = b2()
    one_lif = overrides.get("neuron", "lif") == "lif" and overrides.get("ensemble", 1) == 1
    return _learner_network({"r_max": 4000 * u.Hz, "tau": 10 * u.ms, "n_steps": 15,
                             "tau_syn": 2 * u.ms, "tau_ff": 1 * u.ms, "t_settle": 12 * u.ms,
                             "dt": 0.2 * u.ms, "t_ref": 0.2 * u.ms,
                             "spike_generator": "integrating" if one_lif else "leaky"},
                            overrides)


def _first_design(**overrides: Any) -> SpikingParameters:
    u = b2()
    return _learner_network({"r_max": 2000 * u.Hz, "tau": 10 * u.ms, "n_steps": 15,
                             "tau_syn": 1 * u.ms, "tau_ff": 2 * u.ms, "t_settle": 5 * u.ms,
                             "dt": 0.2 * u.ms, "t_ref": 0.2 * u.ms}, overrides)


def _cortical(**overrides: Any) -> SpikingParameters:
    settings = {"neuron": "lif", "ensemble": 10, "tau_m": 20 * b2().ms, **overrides}
    return sweep_parameters(200.0, 40.0, **settings)


def _cortical_noisy(**overrides: Any) -> SpikingParameters:
    u = b2()
    settings = {"neuron": "lif", "ensemble": 40, "tau_m": 20 * u.ms,
                "member_sigma": 2 * u.mV, **overrides}
    return sweep_parameters(50.0, 10.0, **settings)


PRESETS: dict[str, Callable[..., SpikingParameters]] = {
    "inference": lambda **overrides: SpikingParameters(**overrides),
    "generation": lambda **overrides: SpikingParameters(**{"n_steps": 15, "alpha": 0.3,
                                                           **overrides}),
    "training": _training,
    "first_design": _first_design,
    "cortical": _cortical,
    "cortical_noisy": _cortical_noisy,
}
"""The named settings (see the module docstring); each takes keyword overrides.  The
``training`` and ``first_design`` presets round their settling up to whole INFERENCE steps
when ``tau`` is given without ``t_settle``."""


def preset(name: str, **overrides: Any) -> SpikingParameters:
    """The parameters of the preset ``name`` (:data:`PRESETS`) with ``overrides``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}")
    return PRESETS[name](**overrides)


LEARNING_PHASES = {"training": {"t_recon": 5.0, "tau_nudge": 1.0, "t_noisy": 9.0},
                   "first_design": {"t_recon": 5.0, "tau_nudge": 1.0, "t_noisy": 3.0}}
"""The learner's phases (ms) that go with the network presets of the same name: 5 ms of
reconstruction, nudged with 1 ms; with corruption events, the first 9 ms of the
``training`` preset's 12 ms of settling corrupted (h1 is then 0.98 settled on its corrupted
prediction when f1 starts learning, :func:`settled_fraction`), 3 of the first design's 5."""


EVENTS_SD = {"training": 0.41}
"""The s.d. of the visible units' corruption events (``LearningParameters.noise_x``) that the
learner takes by default with the network preset of the same name: the level at which f1's
prediction carries the authors' corruption of x, s.d. 0.5, once the events' own spike count
noise is added to their n (``experiments/spiking_corruption.py`` measures it; the numbers are
in ``docs/spiking_learning.md``)."""


def training_learning(preset: str = "training", **overrides: Any) -> LearningParameters:
    """The learner's parameters that go with the network preset ``preset``
    (:data:`LEARNING_PHASES`), with ``overrides``."""
    if preset not in LEARNING_PHASES:
        raise ValueError(f"unknown learner preset {preset!r}; expected one of "
                         f"{sorted(LEARNING_PHASES)}")
    phases = {k: v * b2().ms for k, v in LEARNING_PHASES[preset].items()}
    return LearningParameters(**{**phases, **overrides})
