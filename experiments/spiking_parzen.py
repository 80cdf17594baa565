#!/usr/bin/env python3
"""Parzen log-likelihood of spiking-GENERATE samples beside rate-GENERATE samples.

Both sets come from the shipped model with the same seed (prior draws) and are scored with the
same estimator and protocol as ``stdpsim evaluate`` (σ on the 2,699 validation images, mean ±
s.e. over the 10,000 test images), with ``--n`` samples each.  Spiking GENERATE runs all its
samples in one compiled simulation (about 8 s of run time per second of biological time; a
sample takes 3 × 32 ms), so ``--n`` defaults to 1,000 rather than the standard 10,000: the
two numbers are comparable with each other, not with the 10,000-sample table.  The spiking
samples are saved to ``runs/spiking_parzen_samples.npy`` and reused if present.

Writes ``figures/spiking_parzen.json``.

    python experiments/spiking_parzen.py [--data DIR] [--n 1000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stdpsim import evaluation, rate_model, spiking_network
from stdpsim.data import load_mnist
from stdpsim.runs import write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"))
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_parzen.json"))
    args = ap.parse_args()

    model = rate_model.load_model(args.model)
    x_all, y_all = load_mnist("train", args.data)
    x_test = load_mnist("test", args.data)[0]
    cache = ROOT / "runs" / "spiking_parzen_samples.npy"
    results = {"model": args.model, "n_samples": args.n, "seed": args.seed}
    if cache.exists() and np.load(cache).shape[0] == args.n:
        spiking = np.load(cache)
    else:
        spiking, events, info = spiking_network.run_generate(
            model, args.n, np.random.default_rng(args.seed), seed=args.seed)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, spiking)
        results["spiking_run"] = {"run_s": info.run_s, "build_s": info.build_s,
                                  "synaptic_events": events["synaptic"]}
    rate = rate_model.generate(model, args.n, np.random.default_rng(args.seed))
    for name, samples in (("spiking_generate", spiking), ("rate_generate", rate)):
        r = evaluation.score_samples(samples, x_test, x_all[N_TRAIN:], x_all[:N_TRAIN],
                                     y_all[:N_TRAIN])
        results[name] = {k: r[k] for k in ("mean", "sem", "sigma", "class_share",
                                           "class_share_cosine")}
        print(f"{name}: Parzen {r['mean']:.1f} ± {r['sem']:.1f} nats ({args.n} samples, "
              f"sigma {r['sigma']:.3f}); '1's {100 * r['class_share'][1]:.0f} %", flush=True)
    results["spiking_over_rate"] = results["spiking_generate"]["mean"] / \
        results["rate_generate"]["mean"]
    write_json(args.out, results)
    print(f"spiking / rate: {results['spiking_over_rate']:.2f}; wrote {args.out}")


if __name__ == "__main__":
    main()
