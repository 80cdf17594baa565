#!/usr/bin/env python3
"""Benchmark: one epoch of rate-model training against the matrix-product floor.

In one run: numpy's float32 matmul peak (a large square product, best of several), the
throughput of the products the model actually does (batch 100 × the layer shapes), and the
wall time of training epochs over the first 20,000 MNIST training images.  The floor is the
epoch's matrix-product FLOPs (:func:`stdpsim.rate_training.training_flops_per_example`)
divided by the peak; the goal is an epoch within 1.5× of it.

Writes ``figures/bench_rate_training.json`` and prints a Markdown table for the README.

    python experiments/bench_rate_training.py [--epochs 2] [--data DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from stdpsim import rate_model, rate_training
from stdpsim.data import load_mnist
from stdpsim.runs import write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000
PEAK_SIZE = 2048
"""Side of the square float32 product that measures numpy's matmul peak."""


def best_gflops(a: np.ndarray, b: np.ndarray, repeats: int = 5, min_s: float = 0.3) -> float:
    """Best GFLOP/s of ``a @ b`` over ``repeats`` timings of at least ``min_s`` seconds."""
    flops = 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)
    np.matmul(a, b, out=out)
    best = 0.0
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < min_s:
            np.matmul(a, b, out=out)
            n += 1
        best = max(best, n * flops / (time.perf_counter() - t0) / 1e9)
    return best


def matmul_peaks(model: rate_model.RateModel, batch: int, rng: np.random.Generator
                 ) -> dict[str, float]:
    sq = rng.standard_normal((PEAK_SIZE, PEAK_SIZE), dtype=np.float32)
    out = {"square": best_gflops(sq, sq)}
    for name, W in model.weights.items():
        u = rng.standard_normal((batch, W.shape[0]), dtype=np.float32)
        out[name] = best_gflops(u, W)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2, help="timed epochs (best is reported)")
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "bench_rate_training.json"))
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    x = load_mnist("train", args.data)[0][:N_TRAIN]
    cfg = rate_training.TrainConfig(epochs=1)
    model = rate_model.init_model(rng)
    peaks_before = matmul_peaks(model, cfg.batch_size, rng)
    trainer = rate_training.LocalTrainer(model, cfg)
    epoch_s = []
    for _ in range(args.epochs):
        order = rng.permutation(x.shape[0])
        t0 = time.perf_counter()
        for start in range(0, x.shape[0], cfg.batch_size):
            trainer.step(x[order[start:start + cfg.batch_size]], rng)
        epoch_s.append(time.perf_counter() - t0)
    peaks_after = matmul_peaks(model, cfg.batch_size, rng)
    peaks = {k: max(peaks_before[k], peaks_after[k]) for k in peaks_before}

    flops_example = rate_training.training_flops_per_example(model, cfg.n_steps)
    flops_epoch = flops_example * x.shape[0]
    best = min(epoch_s)
    floor_s = flops_epoch / (peaks["square"] * 1e9)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__,
                    "threads": os.environ.get("OMP_NUM_THREADS", "default")},
        "n_examples": int(x.shape[0]), "batch_size": cfg.batch_size,
        "inference_steps": cfg.n_steps,
        "mflop_per_example": flops_example / 1e6,
        "matmul_gflops": peaks, "matmul_gflops_before": peaks_before,
        "matmul_gflops_after": peaks_after,
        "epoch_seconds": epoch_s, "epoch_seconds_best": best,
        "achieved_gflops": flops_epoch / best / 1e9,
        "floor_seconds": floor_s, "epoch_over_floor": best / floor_s,
        "goal_epoch_over_floor": 1.5,
    }
    path = write_json(args.out, result)
    print(f"| matrix products per example | {flops_example / 1e6:.1f} MFLOP |")
    print(f"| numpy float32 matmul peak ({PEAK_SIZE}²) | {peaks['square']:.0f} GFLOP/s |")
    print("| layer-shaped products (batch 100) | " + ", ".join(
        f"{k} {v:.0f}" for k, v in peaks.items() if k != "square") + " GFLOP/s |")
    print(f"| epoch over {x.shape[0]} images (best of {len(epoch_s)}) | {best:.1f} s |")
    print(f"| achieved | {result['achieved_gflops']:.0f} GFLOP/s |")
    print(f"| floor (FLOPs / peak) | {floor_s:.1f} s |")
    print(f"| epoch / floor | {best / floor_s:.2f} (goal ≤ 1.5) |")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
