"""The spiking network's options as the spiking tasks take them."""

from __future__ import annotations

import dataclasses
from typing import Any


def network_units(**options: Any) -> dict[str, Any]:
    """Network options given in the units of their names (``r_max_hz``, ``tau_ms``,
    ``tau_syn_ms``, ``tau_ff_ms``, ``tau_m_ms``, ``t_settle_ms``, ``t_noisy_ms``,
    ``noise_rate_hz``, ``member_sigma_mv``, ``ensemble``; None: not given) as fields with
    units of :class:`stdpsim.spiking.SpikingParameters` (``t_noisy``, ``noise_rate``: of
    :class:`~stdpsim.spiking.LearningParameters`)."""
    from brian2 import Hz, mV, ms

    units = {"r_max_hz": ("r_max", Hz), "tau_ms": ("tau", ms), "tau_syn_ms": ("tau_syn", ms),
             "tau_ff_ms": ("tau_ff", ms), "tau_m_ms": ("tau_m", ms),
             "t_settle_ms": ("t_settle", ms), "t_noisy_ms": ("t_noisy", ms),
             "noise_rate_hz": ("noise_rate", Hz),
             "member_sigma_mv": ("member_sigma", mV), "ensemble": ("ensemble", 1)}
    return {units[k][0]: v * units[k][1] for k, v in options.items() if v is not None}


@dataclasses.dataclass(frozen=True)
class SpikingNetwork:
    """The spiking network a task runs on: a preset of :data:`stdpsim.spiking.PRESETS` with
    some values changed (None: the preset's), in the units of the names, and how it runs.

    Attributes
    ----------
    neuron
        Kind of unit (:data:`stdpsim.spiking.NEURONS`).
    r_max_hz, tau_ms, tau_syn_ms, tau_ff_ms, tau_m_ms, ensemble, member_sigma_mv
        Top rate per neuron, INFERENCE time constant, synaptic trace time constant,
        settling time constant, LIF membrane time constant, neurons per unit, LIF members'
        own noise.
    spike_generator
        LIF: how a neuron's reset deficit recovers (:data:`stdpsim.neurons.SPIKE_GENERATORS`;
        None: the preset's).
    device, seed
        Brian2 target and the spike-timing seed.
    """

    neuron: str = "lif"
    r_max_hz: float | None = None
    tau_ms: float | None = None
    tau_syn_ms: float | None = None
    tau_ff_ms: float | None = None
    tau_m_ms: float | None = None
    ensemble: int = 1
    member_sigma_mv: float | None = None
    spike_generator: str | None = None
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        from ..backend import check_device_name

        check_device_name(self.device)  # before any work, not when the network is built

    def parameters(self, preset: str, **fixed: Any):
        """The preset's :class:`~stdpsim.spiking.SpikingParameters` with these values and
        ``fixed`` (e.g. the task's ``n_steps``)."""
        from .. import spiking

        changes = network_units(r_max_hz=self.r_max_hz, tau_ms=self.tau_ms,
                                tau_syn_ms=self.tau_syn_ms, tau_ff_ms=self.tau_ff_ms,
                                tau_m_ms=self.tau_m_ms,
                                ensemble=self.ensemble, member_sigma_mv=self.member_sigma_mv)
        if self.spike_generator is not None:
            changes["spike_generator"] = self.spike_generator
        return spiking.preset(preset, neuron=self.neuron, **changes, **fixed)


LEARNER_ARGUMENTS = (("--r-max", "r_max_hz", "top rate per neuron (Hz)"),
                     ("--tau-ff", "tau_ff_ms", "settling time constant (ms)"),
                     ("--tau-syn", "tau_syn_ms", "synaptic trace time constant (ms)"),
                     ("--t-settle", "t_settle_ms", "settling (ms, whole INFERENCE steps)"),
                     ("--t-noisy", "t_noisy_ms", "with --noise-x: settling's corrupted part "
                                                 "(ms)"),
                     ("--noise-rate", "noise_rate_hz", "with --noise-x: corruption events "
                                                       "per second per unit of abs(n) (Hz)"))
"""The learner network's settings that the experiments' scripts take: flag, name in units,
help."""


def add_learner_arguments(parser: Any, noise_x: float | None = None) -> None:
    """Add the learner network's settings (:data:`LEARNER_ARGUMENTS`, each defaulting to the
    ``training`` preset's), ``--spike-generator`` and ``--noise-x`` (default ``noise_x``;
    None: the training's, :data:`stdpsim.spiking.EVENTS_SD`) to an experiment's
    :class:`stdpsim.errors.ArgumentParser`."""
    from .. import errors
    from ..neurons import SPIKE_GENERATORS
    from ..spiking.parameters import EVENT_TIMINGS
    from ..spiking.presets import EVENTS_SD

    if noise_x is None:
        noise_x = EVENTS_SD["training"]

    for flag, dest, text in LEARNER_ARGUMENTS:
        parser.add_argument(flag, dest=dest, type=errors.positive, default=None,
                            help=f"{text} [default: the training's]")
    parser.add_argument("--spike-generator", choices=SPIKE_GENERATORS, default=None,
                        help="how the LIF neurons' reset recovers [default: the training's]")
    parser.add_argument("--noise-x", type=errors.non_negative, default=noise_x,
                        help=f"s.d. of the visible units' corruption events (0: none) "
                             f"[default: {noise_x:g}]")
    parser.add_argument("--event-timing", choices=EVENT_TIMINGS, default=None,
                        help="with --noise-x: how the corruption events are timed "
                             "[default: the training's]")


def event_settings(noise_x: float, **given: Any) -> dict[str, Any]:
    """The corruption events' settings given on a command line (``t_noisy_ms``,
    ``noise_rate_hz``, ``event_timing``; None: not given) as fields of
    :class:`stdpsim.spiking.LearningParameters` (``t_noisy``, ``noise_rate`` with units,
    ``event_timing``); ValueError if one comes without the events (``noise_x`` above 0), or
    if a rate of events is not a positive number of Hz."""
    import math

    flags = {"t_noisy_ms": "--t-noisy", "noise_rate_hz": "--noise-rate",
             "event_timing": "--event-timing"}
    for name, value in given.items():
        if value is not None and not noise_x > 0:
            raise ValueError(f"{flags[name]} sets the corruption events: it needs --noise-x "
                             "above 0")
    rate = given.get("noise_rate_hz")
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"--noise-rate must be a positive rate in Hz, got {rate}")
    fields = network_units(t_noisy_ms=given.get("t_noisy_ms"), noise_rate_hz=rate)
    if given.get("event_timing") is not None:
        fields["event_timing"] = given["event_timing"]
    return fields


def learner_settings(args: Any) -> tuple:
    """(SpikingParameters, LearningParameters) of the ``training`` preset with the settings
    :func:`add_learner_arguments` parsed; ValueError if the phases do not fit the clock, or
    for settings of corruption events without them."""
    from .. import spiking

    given = {name: getattr(args, name) for _, name, _ in LEARNER_ARGUMENTS}
    events = event_settings(args.noise_x, t_noisy_ms=given["t_noisy_ms"],
                            noise_rate_hz=given["noise_rate_hz"], event_timing=args.event_timing)
    network = network_units(**{k: v for k, v in given.items()
                                if k in ("r_max_hz", "tau_ff_ms", "tau_syn_ms", "t_settle_ms")})
    if args.spike_generator is not None:
        network["spike_generator"] = args.spike_generator
    params = spiking.preset("training", **network)
    learning = spiking.training_learning(noise_x=args.noise_x, **events)
    learning.check_against(params)
    return params, learning
