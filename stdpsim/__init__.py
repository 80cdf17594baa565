"""stdpsim: spike-timing-dependent plasticity as gradient descent, in Brian2.

The public API (``from stdpsim import ...``); the submodules hold the rest:

* neurons and the rule: :func:`lif_group`, :class:`LIFParameters`, :func:`sdvdt_synapses`
  (ΔW = η·S_pre·dV_post/dt), :func:`classical_stdp_synapses`;
* running a Brian2 network on any device, with reusable builds: :func:`simulate`,
  :class:`Simulation`;
* Figure 1: :func:`run_stdp_curve`, :class:`STDPCurveConfig`;
* the MNIST generative model: :func:`load_model`, :func:`save_model`,
  :func:`shipped_model_path`, and, rate-based, :func:`inference`, :func:`generate`,
  :func:`inpaint`; spiking, :func:`spiking_inference`, :func:`spiking_generate`,
  :func:`spiking_inpaint` (with :class:`SpikingParameters`);
* evaluation: :func:`parzen_score`, :func:`parzen_log_likelihood`;
* data: :func:`load_mnist`.

Names are imported when first used, so ``import stdpsim`` stays quick (Brian2 takes seconds
to import).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from . import brian2_files  # noqa: E402  (Brian2's temporary files: out of /tmp)

brian2_files.install()

_EXPORTS = {
    "lif_group": ("neurons", "lif_group"),
    "LIFParameters": ("neurons", "LIFParameters"),
    "sdvdt_synapses": ("plasticity", "sdvdt_synapses"),
    "classical_stdp_synapses": ("plasticity", "classical_stdp_synapses"),
    "simulate": ("backend", "simulate"),
    "Simulation": ("backend", "Simulation"),
    "run_stdp_curve": ("stdp_curve", "run_experiment"),
    "STDPCurveConfig": ("stdp_curve", "STDPCurveConfig"),
    "load_model": ("model_files", "load_model"),
    "save_model": ("model_files", "save_model"),
    "shipped_model_path": ("shipped", "model_path"),
    "inference": ("rate_model", "inference"),
    "generate": ("rate_model", "generate"),
    "inpaint": ("rate_model", "inpaint"),
    "SpikingParameters": ("spiking", "SpikingParameters"),
    "spiking_inference": ("spiking", "run_inference"),
    "spiking_generate": ("spiking", "run_generate"),
    "spiking_inpaint": ("spiking", "run_inpaint"),
    "parzen_score": ("parzen", "parzen_score"),
    "parzen_log_likelihood": ("parzen", "parzen_log_likelihood"),
    "load_mnist": ("data", "load_mnist"),
}
"""Public name -> (submodule, attribute)."""

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
