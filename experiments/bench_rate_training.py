#!/usr/bin/env python3
"""Benchmark: one epoch of rate-model training against the matrix-product floor.

In one run: numpy's float32 matmul peak (a large square product, best of several), each
matrix product a training step does, timed alone in its own shape (batch 100), and the wall
time of training epochs over the first 20,000 MNIST training images.  Two floors: the epoch's
matrix-product FLOPs (:func:`stdpsim.rate_training.training_flops_per_example`) at the peak,
and the sum of the epoch's products at their own measured speed (each the best of 10 short
timings).  The goal is an epoch within 1.5× of the floor.  The epoch is reported as the best
whole epoch and as the sum of its segments' best times (see :data:`SEGMENT_STEPS`).

Writes ``figures/bench_rate_training.json`` and prints a Markdown table for the README.

    python experiments/bench_rate_training.py [--epochs 2] [--data DIR] [--out PATH]
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from stdpsim import errors, rate_config, rate_model, rate_training
from stdpsim.data import load_mnist
from stdpsim.runs import read_json, write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000
PEAK_SIZE = 2048
"""Side of the square float32 product that measures numpy's matmul peak."""
SEGMENT_STEPS = 20
"""Training steps per timed segment of an epoch (about a second): the epoch is also reported
as the sum of its segments' best times over the timed epochs, the same best-of-short-trials
estimate the floor's products get, which other tenants of the machine disturb far less than
a whole epoch."""


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


def epoch_products(model: rate_model.RateModel, batch: int, n_steps: int
                   ) -> list[tuple[str, tuple[int, int], tuple[int, int], int]]:
    """The matrix products of one training step: (name, shape A, shape B, count)."""
    W = {k: v.shape for k, v in model.weights.items()}
    fwd = lambda k, rows=batch: ((rows, W[k][0]), W[k])  # noqa: E731
    return [
        ("f1 forward", *fwd("f1"), 1 + n_steps + 1),       # feed-forward, f1(g1(h1)), learning
        ("f2 forward", *fwd("f2"), 1 + 1),                 # feed-forward, learning
        ("f2 stacked", *fwd("f2", 2 * batch), n_steps),     # f2(h1) with f2(g2(h2))
        ("g2 forward", *fwd("g2"), 1 + n_steps + 1),
        ("g1 forward", *fwd("g1"), n_steps + 1),
        *((f"{k} gradient", (W[k][0], batch), (batch, W[k][1]), 1) for k in W),
    ]


def time_products(products, rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Best GFLOP/s and seconds per call of each product, alone."""
    out = {}
    for name, a_shape, b_shape, count in products:
        a = rng.standard_normal(a_shape, dtype=np.float32)
        b = rng.standard_normal(b_shape, dtype=np.float32)
        gflops = best_gflops(a, b)
        flops = 2.0 * a_shape[0] * a_shape[1] * b_shape[1]
        out[name] = {"gflops": gflops, "seconds_per_call": flops / gflops / 1e9,
                     "calls_per_step": count, "flops": flops}
    return out


def shipped_epochs() -> int:
    """Epochs the shipped model was trained for, from its model card."""
    card = ROOT / "models" / "rate_mnist.json"
    if card.exists():
        return int(read_json(card)["config"]["epochs"])
    return rate_config.TrainConfig().epochs


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=errors.count, default=2,
                    help="timed epochs (best is reported)")
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--shipped-epochs", type=errors.count, default=shipped_epochs(),
                    help="epochs of the shipped model, for the estimate of its training time "
                         "[default: from its card]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "bench_rate_training.json"))
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    x_all = load_mnist("train", args.data)[0]
    x, x_valid = x_all[:N_TRAIN], x_all[N_TRAIN:]
    cfg = rate_config.TrainConfig(epochs=1)  # the default (authors') preset
    model = rate_model.init_model(rng, cfg.layers, init=cfg.init)
    products = epoch_products(model, cfg.batch_size, cfg.n_steps)
    flops_example = rate_training.training_flops_per_example(model, cfg.n_steps)
    assert sum(c * 2 * a[0] * a[1] * b[1] for _, a, b, c in products) \
        == flops_example * cfg.batch_size, "product list and FLOP count disagree"
    sq = rng.standard_normal((PEAK_SIZE, PEAK_SIZE), dtype=np.float32)
    peak_before = best_gflops(sq, sq)
    shapes_before = time_products(products, rng)
    trainer = rate_training.LocalTrainer(model, cfg)
    epoch_s, segment_s = [], []
    for _ in range(args.epochs):
        order = rng.permutation(x.shape[0])
        segments = []
        t0 = t_seg = time.perf_counter()
        for i, start in enumerate(range(0, x.shape[0], cfg.batch_size), start=1):
            trainer.step(x[order[start:start + cfg.batch_size]], rng)
            if i % SEGMENT_STEPS == 0 or start + cfg.batch_size >= x.shape[0]:
                now = time.perf_counter()
                segments.append(now - t_seg)
                t_seg = now
        epoch_s.append(time.perf_counter() - t0)
        segment_s.append(segments)
    t0 = time.perf_counter()
    rate_training.validation_parzen(model, x, x_valid, cfg)
    valid_s = time.perf_counter() - t0
    peak = max(peak_before, best_gflops(sq, sq))
    shapes_after = time_products(products, rng)
    shapes = {k: max((shapes_before[k], shapes_after[k]), key=lambda r: r["gflops"])
              for k in shapes_before}

    steps = x.shape[0] // cfg.batch_size
    flops_epoch = flops_example * x.shape[0]
    best = min(epoch_s)
    best_segments = float(np.sum(np.min(segment_s, axis=0)))
    floor_peak = flops_epoch / (peak * 1e9)
    floor_shapes = steps * sum(r["seconds_per_call"] * r["calls_per_step"]
                               for r in shapes.values())
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__,
                    "threads": os.environ.get("OMP_NUM_THREADS", "default")},
        "n_examples": int(x.shape[0]), "batch_size": cfg.batch_size,
        "inference_steps": cfg.n_steps, "mflop_per_example": flops_example / 1e6,
        "matmul_peak_gflops": peak, "products": shapes,
        "epoch_seconds": epoch_s, "epoch_seconds_best": best,
        "achieved_gflops": flops_epoch / best / 1e9,
        "floor_seconds_at_peak": floor_peak, "epoch_over_floor_at_peak": best / floor_peak,
        "floor_seconds_products_as_shaped": floor_shapes,
        "epoch_over_floor_products_as_shaped": best / floor_shapes,
        "segment_steps": SEGMENT_STEPS, "segment_seconds": segment_s,
        "epoch_seconds_best_segments": best_segments,
        "epoch_best_segments_over_floor_products_as_shaped": best_segments / floor_shapes,
        "goal_epoch_over_floor": 1.5,
        "validation_score_seconds": valid_s,
        "shipped_epochs": args.shipped_epochs, "valid_every": cfg.valid_every,
        "shipped_training_seconds_estimate":
            args.shipped_epochs * best + args.shipped_epochs // cfg.valid_every * valid_s,
    }
    path = write_json(args.out, result)
    print(f"| matrix products per example | {flops_example / 1e6:.1f} MFLOP |")
    print(f"| numpy float32 matmul peak ({PEAK_SIZE}²) | {peak:.0f} GFLOP/s |")
    print("| the epoch's products, timed alone | " + ", ".join(
        f"{k} {r['gflops']:.0f}" for k, r in shapes.items()) + " GFLOP/s |")
    print(f"| epoch over {x.shape[0]} images (best of {len(epoch_s)}) | {best:.1f} s "
          f"({result['achieved_gflops']:.0f} GFLOP/s) |")
    print(f"| floor: FLOPs at the peak | {floor_peak:.1f} s → epoch / floor "
          f"{best / floor_peak:.2f} |")
    print(f"| floor: the same products as shaped, timed alone | {floor_shapes:.1f} s → "
          f"epoch / floor {best / floor_shapes:.2f} |")
    print(f"| epoch as the sum of its best {SEGMENT_STEPS}-step segments | "
          f"{best_segments:.1f} s → / products floor {best_segments / floor_shapes:.2f} |")
    print(f"| one validation score (5,000 GENERATE samples, Parzen) | {valid_s:.1f} s |")
    print(f"| shipped model: {args.shipped_epochs} epochs + "
          f"{args.shipped_epochs // cfg.valid_every} validation scores | "
          f"{result['shipped_training_seconds_estimate'] / 60:.1f} min |")
    print(f"wrote {path}")


if __name__ == "__main__":
    errors.run_script(main)
