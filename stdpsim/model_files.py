"""The model file: a rate model's weights, biases, activations and prior as one ``.npz``.

One format for every model of the project: the rate model, the spiking learner's (the
weights it learned, in the rate model's format) and the classifiers (their ``meta`` says
which).  Keys: ``<layer>.W`` (n_in, n_out) and ``<layer>.b`` (n_out,) for each layer
(``f1..fL``, ``gL..g1``), ``prior_mean`` and ``prior_var`` (n_L,), and ``meta``, a JSON
string that also records the activations and the prior's variance factor.  Reading checks
every shape and value, and any problem is a one-line :class:`ModelFileError`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .activations import ACTIVATIONS
from .rate_model import LayerSpec, RateModel, stack_layers
from .runs import atomic_write, load_npz

MAX_ABS_PARAMETER = 1e6
"""Largest magnitude a model file's weight, bias or prior value may have.  Trained values are
of order 1; beyond this a layer's products over 1,000 inputs overflow float32 or saturate
every unit, so such a file is refused as damaged."""


class ModelFileError(ValueError):
    """A model file is missing, malformed or holds unusable values."""


_REQUIRED = ("prior_mean", "prior_var")


def save_model(model: RateModel, path: str | os.PathLike) -> Path:
    """Write ``model`` as a compressed ``.npz`` (atomic replace).

    Keys: ``<layer>.W``, ``<layer>.b`` for each layer (``f1..fL``, ``gL..g1``),
    ``prior_mean``, ``prior_var``, and ``meta`` (a JSON string that also records the
    activations and the prior's variance factor).
    """
    arrays = {}
    for name in model.weights:
        arrays[f"{name}.W"] = model.weights[name]
        arrays[f"{name}.b"] = model.biases[name]
    meta = dict(model.meta, activations=model.activations)
    with atomic_write(path, ".npz") as tmp:
        np.savez_compressed(tmp, prior_mean=model.prior_mean, prior_var=model.prior_var,
                            meta=np.array(json.dumps(meta)), **arrays)
    return Path(path)


def _layers_in_file(path: Path, data, acts: dict[str, str]) -> LayerSpec:
    """The architecture a model file holds: f1..fL and gL..g1 with chained shapes."""
    depth = 0
    while f"f{depth + 1}.W" in data:
        depth += 1
    if depth < 2:
        raise ModelFileError(f"{path}: need encoders f1 and f2 at least (found {depth})")
    sizes = [data["f1.W"].shape[0] if data["f1.W"].ndim == 2 else -1]
    for l in range(1, depth + 1):
        W = data[f"f{l}.W"]
        if W.ndim != 2 or W.shape[0] != sizes[-1]:
            raise ModelFileError(f"{path}: f{l}.W has shape {W.shape}, which does not follow "
                                 f"the layer below (width {sizes[-1]})")
        sizes.append(W.shape[1])
    # activations the file does not name: the old default (linear hidden decoders)
    layers = stack_layers(sizes, decoder_hidden="linear")
    return {n: (i, o, acts.get(n, a)) for n, (i, o, a) in layers.items()}


def load_model(path: str | os.PathLike, layers: LayerSpec | None = None) -> RateModel:
    """Read and validate a model file; any problem is a :class:`ModelFileError` naming it.

    ``layers`` (name -> (n_in, n_out, activation)) demands an architecture; without it the
    file's own stack (any number of hidden layers) is read and its shapes checked.
    """
    path = Path(path)
    data = load_npz(path, "model", ModelFileError)
    if "meta" not in data:
        raise ModelFileError(f"{path}: missing meta")
    try:
        meta = json.loads(str(data["meta"]))
    except json.JSONDecodeError:
        raise ModelFileError(f"{path}: 'meta' is not valid JSON") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: 'meta' must be a JSON object")
    acts = dict(meta.pop("activations", None) or {})
    if layers is None:
        layers = _layers_in_file(path, data, acts)
    expected = [f"{n}.{p}" for n in layers for p in ("W", "b")] + list(_REQUIRED)
    missing = [k for k in expected if k not in data]
    if missing:
        raise ModelFileError(f"{path}: missing {', '.join(missing)}")
    weights, biases = {}, {}
    for name, (n_in, n_out, default_act) in layers.items():
        W, b = data[f"{name}.W"], data[f"{name}.b"]
        if W.shape != (n_in, n_out) or b.shape != (n_out,):
            raise ModelFileError(f"{path}: {name}.W has shape {W.shape} and {name}.b "
                                 f"{b.shape}, expected ({n_in}, {n_out}) and ({n_out},)")
        acts.setdefault(name, default_act)
        if acts[name] not in ACTIVATIONS:
            raise ModelFileError(f"{path}: unknown activation {acts[name]!r} for {name}")
        weights[name], biases[name] = W.astype(np.float32), b.astype(np.float32)
    n_top = layers[f"f{sum(name.startswith('f') for name in layers)}"][1]
    for key in _REQUIRED:
        if data[key].shape != (n_top,):
            raise ModelFileError(f"{path}: {key} has shape {data[key].shape}, "
                                 f"expected ({n_top},)")
    for key in expected:
        if not np.all(np.isfinite(data[key])):
            raise ModelFileError(f"{path}: {key} holds NaN or infinite values")
        if data[key].size and np.abs(data[key]).max() > MAX_ABS_PARAMETER:
            raise ModelFileError(f"{path}: {key} holds values up to "
                                 f"{np.abs(data[key]).max():.3g}, beyond ±{MAX_ABS_PARAMETER:g}")
    if np.any(data["prior_var"] <= 0):
        raise ModelFileError(f"{path}: prior_var must be positive")
    return RateModel(weights, biases, {n: acts[n] for n in layers},
                     data["prior_mean"].astype(np.float32),
                     data["prior_var"].astype(np.float32), meta)
