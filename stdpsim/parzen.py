"""Parzen-window (Gaussian kernel density) log-likelihood, the protocol of Goodfellow et al.'s
GAN evaluation that Bengio et al. (2015) use: fit an isotropic Gaussian mixture with one
component per generated sample, choose its width σ on validation images, report the mean
log-likelihood of the test images with its standard error.

Distances come from ‖x‖² + ‖μ‖² − 2 x·μ, one BLAS matrix product per block of test images, and
the log-sum-exp runs over the samples in float64.
"""

from __future__ import annotations

import numpy as np

DEFAULT_SIGMAS = np.logspace(-1, 0, 10)
"""The σ grid of the standard protocol."""


def parzen_log_likelihood(
    x: np.ndarray, samples: np.ndarray, sigma: float, block: int = 500
) -> np.ndarray:
    """log p(x) under an isotropic Gaussian Parzen window centred on ``samples``.

    Parameters
    ----------
    x
        Points to evaluate, shape (n, d).
    samples
        Kernel centres, shape (m, d).
    sigma
        Kernel standard deviation (same unit as the data; pixels in [0, 1] here).
    block
        Rows of ``x`` per matrix product (memory: block × m floats).

    Returns
    -------
    numpy.ndarray
        Shape (n,), natural-log densities (nats).
    """
    x = np.asarray(x, dtype=np.float32)
    mu = np.asarray(samples, dtype=np.float32)
    if x.ndim != 2 or mu.ndim != 2 or x.shape[1] != mu.shape[1]:
        raise ValueError(f"need x (n, d) and samples (m, d), got {x.shape} and {mu.shape}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    if mu.shape[0] == 0:
        raise ValueError("no samples")
    m, d = mu.shape
    mu_sq = np.einsum("ij,ij->i", mu, mu, dtype=np.float64)
    const = -np.log(m) - 0.5 * d * np.log(2 * np.pi * sigma**2)
    out = np.empty(x.shape[0])
    for start in range(0, x.shape[0], block):
        xb = x[start:start + block]
        x_sq = np.einsum("ij,ij->i", xb, xb, dtype=np.float64)
        dist = x_sq[:, None] + mu_sq[None, :] - 2.0 * (xb @ mu.T).astype(np.float64)
        e = -np.maximum(dist, 0.0) / (2.0 * sigma**2)
        top = e.max(axis=1, keepdims=True)
        out[start:start + block] = (top[:, 0] + np.log(np.exp(e - top).sum(axis=1))) + const
    return out


def choose_sigma(
    validation: np.ndarray, samples: np.ndarray, sigmas: np.ndarray = DEFAULT_SIGMAS
) -> tuple[float, dict[float, float]]:
    """The σ of ``sigmas`` with the highest mean validation log-likelihood.

    Returns
    -------
    sigma, scores
        The best σ and the mean log-likelihood of every σ tried.
    """
    scores = {float(s): float(parzen_log_likelihood(validation, samples, s).mean())
              for s in sigmas}
    best = max(scores, key=scores.get)
    return best, scores


def parzen_score(
    test: np.ndarray, validation: np.ndarray, samples: np.ndarray,
    sigmas: np.ndarray = DEFAULT_SIGMAS,
) -> dict[str, float]:
    """The full protocol: σ on ``validation``, then mean ± standard error on ``test``."""
    sigma, scores = choose_sigma(validation, samples, sigmas)
    ll = parzen_log_likelihood(test, samples, sigma)
    return {"mean": float(ll.mean()), "sem": float(ll.std(ddof=1) / np.sqrt(ll.size)),
            "sigma": sigma, "n_test": int(ll.size), "n_samples": int(len(samples)),
            "validation_scores": scores}
