"""The spiking network in Brian2: targetprop INFERENCE, GENERATE, in-painting and the
S·dV/dt learner on a stack of any depth, with voltages as the latent variables and spikes
quantising them.

=================  ==========================================================
module             what it holds
=================  ==========================================================
``parameters``     :class:`SpikingParameters`, :class:`LearningParameters`
``presets``        the named settings (:func:`preset`)
``stack``          the layers of a rate model's stack (:class:`Layer`)
``equations``      the layers' Brian2 equations, shared by every kind of unit
``units``          kinds of unit (LIF, Poisson, ensemble members), one interface
``wiring``         groups per layer and the pathways between layers
``inference``      INFERENCE, GENERATE, in-painting
``learner``        the S·dV/dt learner
``compare``        fidelity to the rate model
=================  ==========================================================
"""

from .compare import compare_with_rate
from .inference import (SpikingInference, network_builder, run_generate, run_inference,
                        run_inpaint)
from .learner import (Mechanisms, corruption_draws, eta, learning_builder, learning_inputs,
                      run_learning, run_tags, tag_builder, tag_session)
from .parameters import (NEURONS, LearningParameters, SpikingParameters,
                         bernoulli_equivalent_r_max, learning_summary, parameters_summary,
                         settled_fraction)
from .presets import EVENTS_SD, PRESETS, preset, sweep_parameters, training_learning
from .stack import Layer, check_memory_need, check_model, layers, synaptic_events
from .units import KINDS, UnitKind, lif_membrane, threshold_offsets

__all__ = [
    "EVENTS_SD", "NEURONS", "PRESETS", "KINDS", "Layer", "LearningParameters", "Mechanisms",
    "SpikingInference",
    "SpikingParameters", "UnitKind", "bernoulli_equivalent_r_max", "check_memory_need",
    "check_model",
    "compare_with_rate", "corruption_draws", "eta", "layers", "learning_builder", "learning_inputs",
    "learning_summary", "lif_membrane", "network_builder", "parameters_summary", "preset",
    "run_generate", "run_inference", "run_inpaint", "run_learning", "run_tags",
    "settled_fraction", "sweep_parameters", "synaptic_events", "tag_builder", "tag_session",
    "threshold_offsets", "training_learning",
]
