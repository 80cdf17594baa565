"""Sample and in-painting quality measures beside the Parzen estimate (:mod:`stdpsim.parzen`).

* :func:`nearest_labels` / :func:`class_proportions`: which digit each generated sample looks
  like, by majority vote of its k nearest training images (Euclidean or cosine, one BLAS
  product per block), and the share of each class;
* :func:`masked_mse`: the squared error on the pixels that in-painting had to fill, and
  :func:`inpainting_errors`: that error for the filled images and for their starting fill;
* :func:`nearest_neighbour_fill`: the in-painting baseline (mean of the k training images
  nearest on the visible pixels);
* :func:`rise_summary`: does a mean trace (log p(x, h) along INFERENCE) rise at every step;
* :func:`score_samples`: the Parzen protocol and the class share of one set of samples;
* :func:`silent_units`: how many hidden units stay below :data:`SILENT` on every image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .parzen import DEFAULT_SIGMAS, parzen_log_likelihood, parzen_score

N_CLASSES = 10
FIXED_SIGMA = 0.2
"""The fixed Parzen width at which the authors' script scored its samples (reported beside
the σ chosen on validation images)."""
SILENT = 0.5
"""A hidden unit is silent when its value stays below this on every image read (in the
rate model's units of h, where h_max = 4 is the most a spiking unit codes)."""


def nearest_labels(samples: np.ndarray, reference: np.ndarray, labels: np.ndarray,
                   k: int = 5, block: int = 1000, metric: str = "euclidean") -> np.ndarray:
    """Label of each sample by majority vote of its ``k`` nearest reference images.

    Parameters
    ----------
    samples
        Shape (n, d).
    reference, labels
        Labelled images, shapes (m, d) and (m,), labels in 0..9.
    k
        Neighbours per vote (ties go to the nearer neighbour's class).
    metric
        ``"euclidean"``, or ``"cosine"`` (the angle between images: blind to their ink, so
        faint or blurred samples are not pulled towards the classes with the least ink).

    Returns
    -------
    numpy.ndarray
        Shape (n,), int.
    """
    samples = np.asarray(samples, np.float32)
    reference = np.asarray(reference, np.float32)
    if samples.ndim != 2 or reference.ndim != 2 or samples.shape[1] != reference.shape[1]:
        raise ValueError(f"need samples (n, d) and reference (m, d), got {samples.shape} "
                         f"and {reference.shape}")
    if labels.shape != (reference.shape[0],):
        raise ValueError(f"labels must have shape ({reference.shape[0]},), got {labels.shape}")
    if not 1 <= k <= reference.shape[0]:
        raise ValueError(f"k must be in 1..{reference.shape[0]}, got {k}")
    if metric == "cosine":  # Euclidean distance between unit vectors orders like the angle
        samples, reference = _unit_rows(samples), _unit_rows(reference)
    elif metric != "euclidean":
        raise ValueError(f"metric must be 'euclidean' or 'cosine', got {metric!r}")
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    out = np.empty(samples.shape[0], dtype=np.int64)
    for start in range(0, samples.shape[0], block):
        s = samples[start:start + block]
        dist = ref_sq[None, :] - 2.0 * (s @ reference.T)  # + ‖s‖², constant per row
        near = np.argpartition(dist, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(dist, near, axis=1), axis=1)
        near_labels = labels[np.take_along_axis(near, order, axis=1)]
        votes = np.zeros((s.shape[0], N_CLASSES))
        for j in range(k):  # nearer neighbours get a slightly larger vote: breaks ties
            votes[np.arange(s.shape[0]), near_labels[:, j]] += 1.0 - 1e-3 * j
        out[start:start + block] = votes.argmax(axis=1)
    return out


def _unit_rows(a: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.maximum(norm, np.finfo(np.float32).tiny)


def class_proportions(labels: np.ndarray) -> np.ndarray:
    """Share of each class 0..9 in ``labels``, shape (10,), sums to 1."""
    return np.bincount(labels, minlength=N_CLASSES) / max(len(labels), 1)


def masked_mse(estimate: np.ndarray, truth: np.ndarray, missing: np.ndarray) -> float:
    """Mean squared error per missing pixel (pixels in [0, 1] → result in [0, 1])."""
    missing = np.broadcast_to(np.asarray(missing, bool), truth.shape)
    if not missing.any():
        raise ValueError("no missing pixels")
    return float(np.mean((estimate[missing] - truth[missing]) ** 2))


def inpainting_errors(filled: np.ndarray, truth: np.ndarray, missing: np.ndarray,
                      fill: np.ndarray) -> dict[str, float]:
    """Squared error per missing pixel of the in-painted images and of the starting ``fill``
    (e.g. the mean training image) that in-painting has to beat."""
    start = np.where(missing, fill, truth)
    return {"mse_inpainting": masked_mse(filled, truth, missing),
            "mse_fill": masked_mse(start, truth, missing)}


def nearest_neighbour_fill(x: np.ndarray, missing: np.ndarray, reference: np.ndarray,
                           k: int = 10, block: int = 1000) -> np.ndarray:
    """In-painting baseline: each image's missing pixels become the mean of the ``k``
    reference images nearest to it on the visible pixels (Euclidean).

    Parameters
    ----------
    x
        Images, shape (n, d); values at missing pixels are ignored.
    missing
        Boolean mask shared by all images, shape (d,): True where the pixel is unknown.
    reference
        Complete images to borrow from (e.g. the training set), shape (m, d).

    Returns
    -------
    numpy.ndarray
        ``x`` with its missing pixels filled, shape (n, d), float32.
    """
    missing = np.asarray(missing, bool)
    x = np.asarray(x, np.float32)
    reference = np.asarray(reference, np.float32)
    if missing.shape != (x.shape[1],) or reference.shape[1:] != missing.shape:
        raise ValueError(f"need a mask of shape ({x.shape[1]},) shared by x {x.shape} and "
                         f"reference {reference.shape}, got {missing.shape}")
    if not 1 <= k <= reference.shape[0]:
        raise ValueError(f"k must be in 1..{reference.shape[0]}, got {k}")
    ref_v = reference[:, ~missing]
    ref_sq = np.einsum("ij,ij->i", ref_v, ref_v)
    out = x.copy()
    for start in range(0, x.shape[0], block):
        xv = x[start:start + block][:, ~missing]
        dist = ref_sq[None, :] - 2.0 * (xv @ ref_v.T)  # + ‖xv‖², constant per row
        near = np.argpartition(dist, k - 1, axis=1)[:, :k]
        fill = reference[near][:, :, missing].mean(axis=1)
        out[start:start + block, missing] = fill
    return out


def rise_summary(trace: np.ndarray) -> dict[str, Any]:
    """Step-to-step changes of a 1-D trace, whether every one is positive, and the smallest."""
    steps = np.diff(np.asarray(trace, dtype=float))
    return {"increase_per_step": steps.tolist(), "rises_every_step": bool(np.all(steps > 0)),
            "smallest_step": float(steps.min())}


def score_samples(samples: np.ndarray, x_test: np.ndarray, x_valid: np.ndarray,
                  x_train: np.ndarray, y_train: np.ndarray,
                  sigmas: np.ndarray = DEFAULT_SIGMAS) -> dict[str, Any]:
    """The standard Parzen protocol on ``samples`` (σ on ``x_valid``, mean ± s.e. on
    ``x_test``) plus the class share of the samples (5 nearest training images, Euclidean;
    ``..._cosine``: by angle) and its largest difference from the training set's share.
    All images (n, 784) in [0, 1].  ``fixed_sigma``: the test score at σ =
    :data:`FIXED_SIGMA`."""
    result = parzen_score(x_test, x_valid, samples, sigmas)
    ll = parzen_log_likelihood(x_test, samples, FIXED_SIGMA)
    result["fixed_sigma"] = {"sigma": FIXED_SIGMA, "mean": float(ll.mean()),
                             "sem": float(ll.std(ddof=1) / np.sqrt(ll.size))}
    data_share = class_proportions(y_train)
    for suffix, metric in (("", "euclidean"), ("_cosine", "cosine")):
        share = class_proportions(nearest_labels(samples, x_train, y_train, metric=metric))
        result["class_share" + suffix] = share.round(4).tolist()
        result["class_share_max_abs_diff" + suffix] = float(np.abs(share - data_share).max())
    return result


def silent_units(h: np.ndarray, threshold: float = SILENT) -> int:
    """How many hidden units stay below ``threshold`` on every image.

    Parameters
    ----------
    h
        A layer's values, shape (images, units): one row per image (for instance
        h1 = f1(x)).
    threshold
        Below it on every row, a unit counts as silent [default :data:`SILENT`].

    Returns
    -------
    int
        The number of columns of ``h`` whose largest value is below ``threshold``.
    """
    h = np.asarray(h)
    if h.ndim != 2 or h.shape[0] == 0:
        raise ValueError(f"h must be (images, units) with at least one image, got shape "
                         f"{h.shape}")
    return int(np.sum(h.max(axis=0) < threshold))
