"""Figures, drawn from saved results only (JSON dicts and spike files); one module per kind:
:mod:`~stdpsim.plotting.stdp` (Figure 1), :mod:`~stdpsim.plotting.rasters`,
:mod:`~stdpsim.plotting.mnist` (Figures 3–5), :mod:`~stdpsim.plotting.spiking`,
:mod:`~stdpsim.plotting.classification`; what they share
is in :mod:`~stdpsim.plotting.common` (every figure is written by ``common.save``)."""

from . import common
from .classification import plot_confusion, plot_error_against_depth
from .common import IMAGE_SIDE
from .mnist import plot_digit_grid, plot_inference_loglik, plot_inpainting
from .rasters import (RASTER_NEURONS, RASTER_TOP_SPIKES, RASTER_WINDOW_MS, plot_raster,
                      raster_window_ms)
from .spiking import (plot_depth_fidelity, plot_learning_curves, plot_rule_vs_rate,
                      plot_spiking_fidelity, plot_spiking_inference)
from .stdp import plot_bi_poo, plot_stdp_curve

__all__ = ["IMAGE_SIDE", "RASTER_NEURONS", "RASTER_TOP_SPIKES", "RASTER_WINDOW_MS", "common",
           "plot_bi_poo", "plot_confusion", "plot_depth_fidelity", "plot_digit_grid",
           "plot_error_against_depth", "plot_inference_loglik", "plot_inpainting",
           "plot_learning_curves", "plot_raster", "plot_rule_vs_rate", "plot_spiking_fidelity",
           "plot_spiking_inference", "plot_stdp_curve", "raster_window_ms"]
