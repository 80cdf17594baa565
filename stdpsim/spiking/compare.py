"""How closely the spiking network follows the rate model: its INFERENCE on the same digits
(:func:`compare_with_rate`), and any two updates of the same weights (:func:`similarity`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..rate_model import RateModel, inference, log_joint
from .inference import SpikingInference


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Cosine similarity of two arrays (flattened) and the ratio of their norms, ‖a‖ / ‖b‖
    (e.g. the learner's weight changes or tags against its rate twin's update)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)), float(na / nb)


def _sem(a: np.ndarray) -> np.ndarray:
    """Standard error over the digits (axis 0); 0 for a single digit."""
    n = a.shape[0]
    return a.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(a.shape[1:])


def compare_with_rate(result: SpikingInference, model: RateModel, x: np.ndarray
                      ) -> dict[str, Any]:
    """The rate model's INFERENCE on the same digits, and how closely the spiking values
    follow it.

    Per hidden layer h<l>: the Pearson correlation over all digits, steps and units of the
    states (``corr_h<l>``) and of their change since the start (``corr_change_h<l>``), and
    the mean squared difference (``msd_h<l>``).  For both models, log p(x, h) per step
    (mean and standard error), the gain end − start with its paired standard error and the
    share of digits that end above their start (nats); and their difference spiking − rate
    per step with its paired standard error (``spiking_minus_rate``).
    """
    p = result.params
    x32 = x.astype(np.float32)
    *_, states = inference(model, x32, p.n_steps, p.delta, p.alpha, trace=True)
    rate_lp = np.stack([log_joint(model, x32, *s) for s in states], axis=1)
    out: dict[str, Any] = {}
    for l, spk in enumerate(result.hidden, start=1):
        rate = np.stack([s[l - 1] for s in states], axis=1)
        out[f"corr_h{l}"] = float(np.corrcoef(spk.ravel(), rate.ravel())[0, 1])
        out[f"corr_change_h{l}"] = float(np.corrcoef(
            (spk - spk[:, :1]).ravel(), (rate - rate[:, :1]).ravel())[0, 1])
        out[f"msd_h{l}"] = float(np.mean((spk - rate) ** 2))
    for key, lp in (("spiking", result.log_p), ("rate", rate_lp)):
        gain = lp[:, -1] - lp[:, 0]
        out[key] = {"mean": lp.mean(axis=0).tolist(), "sem": _sem(lp).tolist(),
                    "gain": float(gain.mean()), "gain_sem": float(_sem(gain)),
                    "share_rising": float(np.mean(gain > 0))}
    diff = result.log_p - rate_lp  # paired: the same digits
    out["spiking_minus_rate"] = {"mean": diff.mean(axis=0).tolist(),
                                 "sem": _sem(diff).tolist()}
    return out
