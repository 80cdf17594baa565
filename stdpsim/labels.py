"""Class labels for the supervised tasks: checks, one-hot codes, label files, error rates and
confusion matrices.

Labels are integer class indices 0 .. n_classes − 1, one per image (shape (n,)); a one-hot
code is float32 of shape (n, n_classes).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

N_CLASSES = 10
"""MNIST's classes, the digits 0-9."""


class LabelError(ValueError):
    """Labels that do not fit their images or their classes."""


def check_labels(labels: np.ndarray, n_images: int | None = None,
                 n_classes: int = N_CLASSES, what: str = "labels") -> np.ndarray:
    """``labels`` as int64 of shape (n,), or :class:`LabelError` with a one-line message:
    not a 1-d array of whole numbers, a length other than ``n_images`` (None: any), or a
    class outside 0 .. n_classes − 1."""
    a = np.asarray(labels)
    if a.ndim != 1:
        raise LabelError(f"{what}: expected one label per image (a 1-d array), got shape "
                         f"{a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise LabelError(f"{what}: labels must be whole class numbers, got "
                             f"{a[~np.isfinite(a) | (a != np.round(a))][0]}")
    elif a.dtype.kind not in "iu":
        raise LabelError(f"{what}: labels must be whole class numbers, got {a.dtype} values")
    if n_images is not None and a.shape[0] != n_images:
        raise LabelError(f"{what}: {a.shape[0]} labels for {n_images} images")
    out = a.astype(np.int64)
    bad = (out < 0) | (out >= n_classes)
    if np.any(bad):
        raise LabelError(f"{what}: class {out[bad][0]} outside 0..{n_classes - 1}")
    return out


def one_hot(labels: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """The one-hot codes of checked labels, float32 (n, n_classes)."""
    labels = check_labels(labels, n_classes=n_classes)
    out = np.zeros((labels.shape[0], n_classes), np.float32)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def load_label_file(path: str | os.PathLike, n_images: int,
                    n_classes: int = N_CLASSES) -> np.ndarray:
    """Labels from a ``.npy`` file or a text file (one class per line), checked against
    ``n_images`` and ``n_classes``."""
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"{path}: no such label file")
    try:
        raw = np.load(path) if path.suffix == ".npy" else np.loadtxt(path, ndmin=1)
    except (ValueError, OSError) as e:
        raise LabelError(f"{path}: not a label file ({e})") from None
    return check_labels(raw, n_images, n_classes, what=str(path))


def error_rate(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``predicted`` classes that differ from ``labels`` (same length)."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if predicted.shape != labels.shape or predicted.ndim != 1 or predicted.size == 0:
        raise LabelError(f"error rate of {predicted.shape} predictions against "
                         f"{labels.shape} labels")
    return float(np.mean(predicted != labels))


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray,
                     n_classes: int = N_CLASSES) -> np.ndarray:
    """Counts, int64 (n_classes, n_classes): row = true class, column = predicted class."""
    predicted = check_labels(predicted, None, n_classes, "predictions")
    labels = check_labels(labels, predicted.shape[0], n_classes)
    out = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(out, (labels, predicted), 1)
    return out
