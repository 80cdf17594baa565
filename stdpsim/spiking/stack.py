"""The layers of a spiking stack, derived from a rate model of any depth.

A model with hidden sizes n_1 … n_L (:class:`stdpsim.rate_model.RateModel`) becomes L + 1
populations, keyed by layer index: 0 is ``visible``, l ≥ 1 is ``h<l>``.  Between layers
l − 1 and l run the encoder f_l (upwards, weight-tied data and reconstruction pathways) and
the decoder g_l (downwards).  Every layer below the top holds a reconstruction of itself,
g_{l+1}(h_{l+1}), read from the spikes of the layer above.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..rate_model import RateModel
from .parameters import SpikingParameters


@dataclasses.dataclass(frozen=True)
class Layer:
    """One population of the stack.

    Attributes
    ----------
    index
        0 for the visible layer, l for h_l.
    name
        ``"visible"`` or ``"h<l>"`` (the Brian2 group's name).
    size
        Number of units.
    value_range
        The value a unit codes at the top rate r_max: 1 for pixels and sigmoid units,
        ``h_max`` for the others (dimensionless).
    top
        Whether this is the top layer h_L (no reconstruction, no layer above).
    """

    index: int
    name: str
    size: int
    value_range: float
    top: bool

    @property
    def has_recon(self) -> bool:
        """Every layer below the top holds a reconstruction g_{l+1}(h_{l+1})."""
        return not self.top

    @property
    def scale(self) -> str:
        """``value_range`` as it appears in the equations (``"1"`` or ``"h_max"``)."""
        return "1" if self.value_range == 1.0 else "h_max"

    @property
    def v_unit(self) -> str:
        """LIF: the name of the voltage per unit of value, v_span / value_range."""
        return "v_span" if self.value_range == 1.0 else "v_unit_h"


def layer_names(depth: int) -> list[str]:
    """The populations' names of a stack with ``depth`` hidden layers, visible first."""
    return ["visible"] + [f"h{l}" for l in range(1, depth + 1)]


def check_model(model: RateModel, params: SpikingParameters | None = None) -> None:
    """The spiking network needs a rate model's chain of layers: encoders f1..fL and
    decoders gL..g1 (L ≥ 2) whose shapes chain; a clear error otherwise.  With ``params``,
    also that the network of those settings fits in memory (:func:`check_memory_need`)."""
    shapes = {k: w.shape for k, w in model.weights.items()}
    depth = sum(1 for k in shapes if k.startswith("f"))
    need = {f"{kind}{l}" for kind in "fg" for l in range(1, depth + 1)}
    if depth < 2 or set(shapes) != need:
        raise ValueError(f"the spiking network needs encoders f1..fL and decoders gL..g1 "
                         f"(L ≥ 2); this model has layers {sorted(shapes)}")
    for l in range(1, depth + 1):
        (n_in, n_out), back = shapes[f"f{l}"], shapes[f"g{l}"]
        below = shapes[f"f{l - 1}"][1] if l > 1 else n_in
        if n_in != below or back != (n_out, n_in):
            raise ValueError(f"layer shapes do not chain (x→h1→…→h{depth} and back): "
                             f"{shapes}")
    if params is not None:
        check_memory_need(model.sizes, params)


BYTES_PER_SYNAPSE = 3 * 40
"""A weight matrix's memory per entry in the compiled network, an upper estimate: up to
three pathways use each matrix (feed-forward, top-down, reconstruction or learning), each
synapse with its weight, indices and state (about 40 bytes) while Brian2 builds it."""


def check_memory_need(sizes: tuple[int, ...], params: SpikingParameters) -> None:
    """Refuse, before anything is built, a network of layers ``sizes`` (visible first)
    whose synapses would not fit in this machine's memory (every member of an ensemble has
    its own synapses)."""
    from ..runs import check_memory

    synapses = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * params.ensemble
    check_memory(synapses * BYTES_PER_SYNAPSE,
                 f"a network of {tuple(sizes)} units × {params.ensemble} neurons each "
                 f"({synapses:.3g} synapses per pathway)")


def layers(model: RateModel, params: SpikingParameters) -> list[Layer]:
    """The populations of ``model``'s stack, visible first."""
    check_model(model, params)
    sizes, depth = model.sizes, model.depth
    names = layer_names(depth)
    out = [Layer(0, names[0], sizes[0], 1.0, False)]
    for l in range(1, depth + 1):
        bounded = model.activations[f"f{l}"] == "sigmoid"
        out.append(Layer(l, names[l], sizes[l], 1.0 if bounded else float(params.h_max),
                         l == depth))
    return out


def checked_images(model: RateModel, x: np.ndarray) -> np.ndarray:
    """``x`` as float64 (K, n_visible) after checking the model and the images (clear
    errors)."""
    check_model(model)
    x = np.asarray(x, dtype=np.float64)
    n_vis = model.weights["f1"].shape[0]
    if x.ndim != 2 or x.shape[1] != n_vis or x.shape[0] < 1:
        raise ValueError(f"x must have shape (K ≥ 1, {n_vis}), got {x.shape}")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError("x must hold finite pixel values in [0, 1]")
    return x


def synaptic_events(events: dict[str, int], model: RateModel) -> int:
    """Synaptic updates caused by the counted events: the spikes of layer l drive f_{l+1}
    (n_{l+1} targets each) and g_l (n_{l−1}); its reconstruction events drive f_{l+1}."""
    sizes = model.sizes
    names = layer_names(len(sizes) - 1)
    total = 0
    for l, name in enumerate(names):
        up = sizes[l + 1] if l + 1 < len(sizes) else 0
        down = sizes[l - 1] if l > 0 else 0
        total += events[f"spikes_{name}"] * (up + down)
        if up:
            total += events[f"recon_{name}"] * up
    return total
