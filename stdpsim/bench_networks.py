"""Reference networks for throughput benchmarks (not models of anything).

:func:`plain_lif_builder` is the yardstick the spiking targetprop network is measured
against: the same population sizes and the same dense connectivity (784 → 1000 → 100 with
feedback 100 → 1000, 984,000 synapses) made of plain leaky integrate-and-fire neurons with
current-jump synapses and Poisson input — the cheapest network Brian2 can simulate at that
size, so its synaptic events per second are what the machine and Brian2 can deliver.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import backend


@dataclasses.dataclass(frozen=True)
class PlainLIFParameters:
    """Sizes, input rate, membrane constants and weights (with units) of the reference.

    The weights are drawn uniformly from [0, 2·w_mean] (fixed seed), so each layer fires at a
    moderate rate under ``input_rate`` Poisson input.
    """

    sizes: tuple[int, int, int] = (784, 1000, 100)
    input_rate: Any = dataclasses.field(default_factory=lambda: 50 * _b2().Hz)
    tau_m: Any = dataclasses.field(default_factory=lambda: 20 * _b2().ms)
    v_th: Any = dataclasses.field(default_factory=lambda: 1.0)
    t_ref: Any = dataclasses.field(default_factory=lambda: 2 * _b2().ms)
    w_in: float = 0.004
    w_up: float = 0.02
    w_down: float = 0.01
    seed: int = 0


def _b2():
    import brian2

    return brian2


def plain_lif_builder(params: PlainLIFParameters | None = None):
    """A :func:`stdpsim.backend.simulate` builder; its results hold the spike count of each
    layer and ``synaptic``, the synaptic updates (spikes × fan-out)."""
    b2 = _b2()
    p = params or PlainLIFParameters()
    n_in, n_1, n_2 = p.sizes
    rng = np.random.default_rng(p.seed)
    weights = {name: rng.uniform(0, 2 * w, size=(a * b))
               for name, a, b, w in (("in", n_in, n_1, p.w_in), ("up", n_1, n_2, p.w_up),
                                     ("down", n_2, n_1, p.w_down))}

    def build() -> backend.Simulation:
        source = b2.PoissonGroup(n_in, p.input_rate, name="input")
        eqs = "dv/dt = -v / tau_m : 1 (unless refractory)"
        ns = {"tau_m": p.tau_m, "v_th": p.v_th}
        h1 = b2.NeuronGroup(n_1, eqs, threshold="v > v_th", reset="v = 0",
                            refractory=p.t_ref, method="exact", namespace=ns, name="lif1")
        h2 = b2.NeuronGroup(n_2, eqs, threshold="v > v_th", reset="v = 0",
                            refractory=p.t_ref, method="exact", namespace=ns, name="lif2")
        syns = []
        for name, pre, post, (a, b) in (("in", source, h1, (n_in, n_1)),
                                        ("up", h1, h2, (n_1, n_2)),
                                        ("down", h2, h1, (n_2, n_1))):
            syn = b2.Synapses(pre, post, "w : 1", on_pre="v_post += w", name=f"syn_{name}")
            i, j = np.divmod(np.arange(a * b), b)
            syn.connect(i=i, j=j)
            syn.w = weights[name]
            syns.append(syn)
        mons = {g.name: b2.SpikeMonitor(g, record=False, name=f"count_{g.name}")
                for g in (source, h1, h2)}

        def collect() -> dict[str, np.ndarray]:
            counts = {k: int(m.num_spikes) for k, m in mons.items()}
            synaptic = counts["input"] * n_1 + counts["lif1"] * n_2 + counts["lif2"] * n_1
            return {**{f"spikes_{k}": np.asarray(v) for k, v in counts.items()},
                    "synaptic": np.asarray(synaptic)}

        return backend.Simulation([source, h1, h2, *syns, *mons.values()], {}, collect)

    return build
