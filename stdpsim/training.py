"""What the rate and the spiking trainer share: checkpoints, the resume rule, the learning-rate
schedule, the data checksum and the validation score.

A checkpoint is one ``.npz`` written atomically (a crash leaves the previous one intact): the
weights and biases (``<layer>.W``, ``<layer>.b``), any further arrays a trainer keeps, and a
JSON ``state`` holding the run's settings and the training data's checksum.  A run resumes
from it only if it would have written it itself (:func:`check_resumable`).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .parzen import choose_sigma, parzen_log_likelihood
from .rate_model import RateModel, fit_prior, generate, inference
from .runs import RunFileError, atomic_write, load_npz, setting_differences


def data_digest(x: np.ndarray) -> str:
    """SHA-256 (hex) of a data array's bytes: what checkpoints and model cards record of the
    training images."""
    return hashlib.sha256(x.tobytes()).hexdigest()


def cosine_scale(step: int, n_steps: int, final: float) -> float:
    """Factor of a cosine learning-rate schedule at ``step`` (0-based) of ``n_steps``: 1 at
    the first, ``final`` at the last."""
    frac = step / max(n_steps - 1, 1)
    return float(final + (1 - final) * 0.5 * (1 + np.cos(np.pi * frac)))


def weight_arrays(model: RateModel) -> dict[str, np.ndarray]:
    """Copies of the weights and biases, keyed ``<layer>.W`` and ``<layer>.b`` (as in
    checkpoints and model files)."""
    return {f"{n}.{p}": a.copy() for n in model.weights
            for p, a in (("W", model.weights[n]), ("b", model.biases[n]))}


def restore_weights(model: RateModel, arrays) -> None:
    """Write ``<layer>.W`` / ``<layer>.b`` arrays (a dict or an opened ``.npz``) into
    ``model``'s weights and biases, in place."""
    for n in model.weights:
        model.weights[n][...] = arrays[f"{n}.W"]
        model.biases[n][...] = arrays[f"{n}.b"]


def optimizer_arrays(opts: dict[str, Any]) -> dict[str, np.ndarray]:
    """The state of per-layer optimisers (each with ``buffers()`` and a step count ``t``),
    keyed ``opt.<layer>.<buffer>`` and ``opt.<layer>.t`` (for checkpoints)."""
    out = {}
    for name, opt in opts.items():
        for key, a in opt.buffers().items():
            out[f"opt.{name}.{key}"] = a
        out[f"opt.{name}.t"] = np.int64(opt.t)
    return out


def restore_optimizers(opts: dict[str, Any], arrays) -> None:
    """Write what :func:`optimizer_arrays` saved back into ``opts``, in place."""
    for name, opt in opts.items():
        for key, a in opt.buffers().items():
            a[...] = arrays[f"opt.{name}.{key}"]
        opt.t = int(arrays[f"opt.{name}.t"])


def write_checkpoint(path: str | os.PathLike, model: RateModel, state: dict[str, Any],
                     **arrays: np.ndarray) -> Path:
    """``model``'s weights and biases, ``arrays`` and the JSON ``state``, written
    atomically."""
    with atomic_write(path, ".npz") as tmp:
        np.savez(tmp, state=np.array(json.dumps(state)), **weight_arrays(model), **arrays)
    return Path(path)


def read_checkpoint(path: str | os.PathLike, needs: tuple[str, ...] = ()
                    ) -> tuple[dict[str, Any], Any]:
    """The state and the arrays (an opened ``.npz``) of a checkpoint; a one-line error
    when it lacks its state or the state lacks one of ``needs``."""
    data = load_npz(path, "checkpoint")
    try:
        state = json.loads(str(data["state"]))
    except KeyError:
        raise RunFileError(f"{path}: not a stdpsim training checkpoint (it has no 'state' "
                           "entry); start afresh without --resume, or give another --out") from None
    except json.JSONDecodeError as e:
        raise RunFileError(f"{path}: its 'state' entry is not valid JSON ({e.msg})") from None
    if not isinstance(state, dict):
        raise RunFileError(f"{path}: its 'state' entry is not a JSON object")
    missing = [k for k in needs if k not in state]
    if missing:
        raise RunFileError(f"{path}: its state lacks {', '.join(missing)}: not a checkpoint "
                           "of this kind of training")
    return state, data


def check_resumable(path: str | os.PathLike, saved: dict[str, Any], wanted: dict[str, Any],
                    *, epochs: tuple[str, ...], constant_rate: bool,
                    saved_sha256: str | None, data_sha256: str,
                    rates: tuple[tuple[str, ...], ...] = ()) -> None:
    """Refuse to resume from a checkpoint that the run with settings ``wanted`` would not
    have written.

    Every setting must match (nested groups are compared group by group) except the number
    of epochs (at the key path ``epochs``), which may change when the learning rate is
    constant (``constant_rate``), so that the resumed run ends as an uninterrupted one
    would, and, in a constant-rate run, the learning rates at the key paths ``rates``: the
    run goes on at the new rate (a step schedule, which the caller records per chunk).  The
    training data must be the same (a checkpoint that did not record it is taken on trust).
    Raises ``ValueError`` naming the differences."""
    saved = copy.deepcopy(saved)
    if constant_rate:
        for key_path in (epochs, *rates):
            inner_saved, inner_wanted = saved, wanted
            for key in key_path[:-1]:
                inner_saved, inner_wanted = inner_saved.setdefault(key, {}), inner_wanted[key]
            if key_path[-1] in inner_saved:
                inner_saved[key_path[-1]] = inner_wanted[key_path[-1]]
    nested = all(isinstance(v, dict) for v in wanted.values())
    differ = ([d for group in wanted for d in setting_differences(
        saved.get(group, {}), wanted[group], prefix=f"{group}.")] if nested
        else setting_differences(saved, wanted))
    if differ:
        raise ValueError(f"--resume: the checkpoint {path} was made with other settings: "
                         + "; ".join(differ))
    if saved_sha256 not in (None, data_sha256):
        raise ValueError(f"--resume: the checkpoint {path} was trained on other data")


def checkpoint_to_resume(checkpoint: str | os.PathLike | None) -> Path:
    """The checkpoint a ``--resume`` run continues from; a clear error when there is
    none."""
    if checkpoint is None or not Path(checkpoint).exists():
        raise ValueError(f"--resume: there is no checkpoint to resume at {checkpoint}")
    return Path(checkpoint)


# ------------------------------------------------------------------------------ validation

VALID_PRIOR_IMAGES = 2000
"""Training images whose inferred top layer sets the prior for a validation score."""
VALID_SIGMA_IMAGES = 1000
"""Training images (the last ones of the training set) on which the validation score's σ is
chosen; the score itself is the mean log-likelihood of the validation images."""


@dataclasses.dataclass(frozen=True)
class Validation:
    """How a validation score is taken: GENERATE samples, their seed, and the INFERENCE and
    prior settings of the model's training."""

    n_samples: int = 5000
    seed: int = 0
    n_steps: int = 15
    delta: float = 0.1
    alpha: float = 0.001
    prior_var_scale: float = 16.0


def validation_parzen(model: RateModel, x_train: np.ndarray, x_valid: np.ndarray,
                      how: Validation) -> dict[str, float]:
    """Parzen log-likelihood of ``x_valid`` under ``how.n_samples`` GENERATE samples.

    The prior is fitted (``how.prior_var_scale``) on the first :data:`VALID_PRIOR_IMAGES`
    training images, σ is chosen on the last :data:`VALID_SIGMA_IMAGES` training images, and
    the prior draws come from a fixed seed, so that scores along a run compare on equal
    terms.  The test set is never used.  ``model`` itself is not changed.
    """
    probe = dataclasses.replace(model, meta={})
    top = inference(model, x_train[:VALID_PRIOR_IMAGES], how.n_steps, how.delta,
                    how.alpha)[-1]
    fit_prior(probe, top, how.prior_var_scale)
    samples = generate(probe, how.n_samples, np.random.default_rng([how.seed, 1]))
    sigma, _ = choose_sigma(x_train[-VALID_SIGMA_IMAGES:], samples)
    ll = parzen_log_likelihood(x_valid, samples, sigma)
    return {"valid_parzen": float(ll.mean()), "valid_sigma": sigma}
