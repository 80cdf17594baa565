"""The corruption of Algorithm 2's local problems: what a layer's prediction sees instead of
its clean input (Bengio et al. 2015, and the authors' training script).

==============  ===================================  ===========================
layer           corrupted input                      authors' level
==============  ===================================  ===========================
``f1``          x + N(0, σ_x²)                       σ_x = 0.5 (pixels in [0, 1])
``f_l``, l ≥ 2  h_{l−1} + N(0, σ_h²)                 σ_h = 0.5
``g_L``         mean of ``n_spikes`` Bernoulli(h_L)  3 draws ("spike-like")
``g_l``, l < L  h_l + N(0, σ_g²)                     σ_g = 0.3
==============  ===================================  ===========================

One function draws them, in one order, for the rate model's training
(:func:`stdpsim.rate_training.local_problems`) and for the spiking learner's rate twin
(:func:`stdpsim.plasticity.sdvdt_updates`), so the two see the same noise from the same
generator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class Corruption:
    """Corruption levels (the authors' by default; see the module docstring)."""

    noise_x: float = 0.5
    noise_h: float = 0.5
    noise_g: float = 0.3
    n_spikes: int = 3
    """Bernoulli draws averaged for the top decoder's input (0: its clean input)."""

    def __post_init__(self) -> None:
        if min(self.noise_x, self.noise_h, self.noise_g) < 0:
            raise ValueError("noise levels must be non-negative")
        if self.n_spikes < 0:
            raise ValueError(f"n_spikes must be at least 0, got {self.n_spikes}")

    @property
    def clean(self) -> bool:
        """Whether nothing is corrupted (every level 0, ``n_spikes`` 0)."""
        return max(self.noise_x, self.noise_h, self.noise_g, self.n_spikes) == 0


def corrupt(encoder_inputs: Sequence[np.ndarray], decoder_inputs: Sequence[np.ndarray],
            rng: np.random.Generator, levels: Corruption, x_draws: np.ndarray | None = None
            ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Corrupted inputs of every layer: ``encoder_inputs[l − 1]`` is f_l's clean input,
    ``decoder_inputs[l − 1]`` g_l's (float32 arrays, any batch shape); returns the two lists
    corrupted.  The draws run f1 … fL, then g_L … g1.  ``x_draws``: f1's standard-normal
    draws given (the spiking learner's, :func:`stdpsim.spiking.learner.corruption_draws`)
    instead of drawn from ``rng``."""
    f32 = np.float32

    def gaussian(a: np.ndarray, sd: float) -> np.ndarray:
        return a + f32(sd) * rng.standard_normal(a.shape, dtype=f32)

    depth = len(encoder_inputs)
    enc = [gaussian(a, levels.noise_x if l == 0 else levels.noise_h)
           if l or x_draws is None else a + f32(levels.noise_x) * np.asarray(x_draws, f32)
           for l, a in enumerate(encoder_inputs)]
    dec: list[np.ndarray] = [np.empty(0, f32)] * depth
    for l in range(depth - 1, -1, -1):
        a = decoder_inputs[l]
        if l == depth - 1 and levels.n_spikes == 0:
            dec[l] = a
        elif l == depth - 1:
            spikes = rng.random((levels.n_spikes,) + a.shape, dtype=f32) < a
            dec[l] = spikes.mean(axis=0, dtype=f32)
        else:
            dec[l] = gaussian(a, levels.noise_g)
    return enc, dec
