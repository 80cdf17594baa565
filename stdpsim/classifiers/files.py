"""Trained classifiers on disk, and classifying with one read back.

Every learner but Krotov-Hopfield trains a stack in the rate model's file format
(:func:`stdpsim.model_files.save_model`), whose ``meta`` records ``task: "classify"`` and
the settings; Krotov-Hopfield's file holds its two weight matrices ``W`` (hidden, visible)
and ``S`` (hidden, classes) and the same ``meta``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..model_files import ModelFileError, load_model, save_model
from ..rate_model import RateModel
from ..runs import atomic_write, load_npz
from .backprop import logits
from .config import ClassifyConfig, predictions
from .krotov_hopfield import classes
from .targetprop import predict


@dataclasses.dataclass
class Classifier:
    """A trained classifier: its settings, its arrays and how it was trained."""

    cfg: ClassifyConfig
    meta: dict[str, Any]
    model: RateModel | None = None
    kh_weights: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def predictions(self) -> tuple[str, ...]:
        """The ways it classifies."""
        return predictions(self.cfg.learner)

    def classify(self, x: np.ndarray, how: str = "feed_forward") -> np.ndarray:
        """The class of every image of ``x`` (batch, n_visible), by ``how``."""
        if how not in self.predictions:
            raise ValueError(f"a {self.cfg.learner} classifier classifies by "
                             f"{' or '.join(self.predictions)}, not {how}")
        if self.kh_weights is not None:
            return classes(*self.kh_weights, x, self.cfg.kh.power)
        if self.cfg.learner in ("backprop", "dtp"):
            return np.argmax(logits(self.model, x), axis=1)
        return predict(self.model, x, how, self.cfg)


def from_trainer(trainer: Any) -> Classifier:
    """The classifier a finished :func:`~stdpsim.classifiers.training.train_classifier`
    left in its trainer."""
    cfg = ClassifyConfig.from_settings(trainer.meta["config"])
    if cfg.learner == "krotov_hopfield":
        return Classifier(cfg, trainer.meta, kh_weights=(trainer.w, trainer.s_w))
    return Classifier(cfg, trainer.meta, model=trainer.model)


def save_classifier(classifier: Classifier, path: str | os.PathLike) -> Path:
    """Write a classifier (atomic replace)."""
    if classifier.model is not None:
        classifier.model.meta = classifier.meta
        return save_model(classifier.model, path)
    w, s = classifier.kh_weights
    with atomic_write(path, ".npz") as tmp:
        np.savez_compressed(tmp, W=w, S=s, meta=np.array(json.dumps(classifier.meta)))
    return Path(path)


def load_classifier(path: str | os.PathLike) -> Classifier:
    """Read a classifier; a file that is not one is a one-line :class:`ModelFileError`."""
    path = Path(path)
    data = load_npz(path, "classifier", ModelFileError)
    try:
        meta = json.loads(str(data["meta"])) if "meta" in data else {}
    except json.JSONDecodeError:
        meta = {}
    if not isinstance(meta, dict) or meta.get("task") != "classify":
        raise ModelFileError(f"{path}: not a classifier (train one with 'stdpsim train "
                             "classify')")
    cfg = ClassifyConfig.from_settings(meta["config"])
    if cfg.learner == "krotov_hopfield":
        if "W" not in data or "S" not in data:
            raise ModelFileError(f"{path}: a Krotov-Hopfield classifier needs W and S")
        return Classifier(cfg, meta, kh_weights=(np.asarray(data["W"]), np.asarray(data["S"])))
    return Classifier(cfg, meta, model=load_model(path))
