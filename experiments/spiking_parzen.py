#!/usr/bin/env python3
"""Parzen log-likelihood of spiking-GENERATE samples beside rate-GENERATE samples.

Both sets come from the shipped model with the same prior draws and are scored with the same
estimator and protocol as ``stdpsim evaluate`` (σ on the 2,699 validation images, mean ± s.e.
over the 10,000 test images), with ``--n`` samples each.  Spiking GENERATE runs in chunks of
``--chunk`` samples, each one run of one compiled simulation (about 8 s of run time per
second of biological time; a sample takes 3 × 32 ms), saved to
``runs/spiking_parzen/<model hash>/<neuron>/`` as soon as it is done; the folder is named
after the model file's contents and the kind of unit (``--neuron``), so chunks of another
model or network are never mixed in, and a stopped run continues with the missing chunks.
Chunk k draws its prior samples from ``default_rng([seed, k])`` for both models.  The chunks
run in parallel on dask.distributed (:func:`stdpsim.sweeps.run_grid`: a LocalCluster with one
worker per core, ``--scheduler ADDRESS`` for a running cluster, ``--scheduler serial`` for
none).  ``--n`` defaults to the standard 10,000 samples (20 chunks, about 2.8 hours of
simulation on one core here, half that on two).

Writes ``figures/spiking_parzen.json`` (``figures/spiking_parzen_poisson.json`` for Poisson
units).

    python experiments/spiking_parzen.py [--data DIR] [--n 10000] [--chunk 500]
                                         [--neuron lif|poisson] [--scheduler ADDRESS|serial]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stdpsim import errors, evaluation, model_files, rate_model, spiking, sweeps
from stdpsim.data import load_mnist
from stdpsim.runs import file_digest, save_npy, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000


def generate_chunk(point: dict) -> dict:
    """One chunk of spiking GENERATE samples, saved as ``point["path"]`` (.npy, atomically;
    a whole chunk already there is kept, a damaged one drawn again); runs in a dask
    worker."""
    path = Path(point["path"])
    if path.exists():  # kept if it is a whole chunk; a damaged one is drawn again
        try:
            kept = np.load(path)
            if kept.shape == (point["size"], 784) and np.isfinite(kept).all():
                return {"path": str(path), "run_s": 0.0}
        except (OSError, ValueError, EOFError):
            pass
    model = model_files.load_model(point["model"])
    params = spiking.preset("generation", neuron=point["neuron"])
    seed, k = point["seed"], point["chunk"]
    samples, _, info = spiking.run_generate(
        model, point["size"], np.random.default_rng([seed, k]), params, seed=seed + k)
    save_npy(path, samples)  # atomic: a chunk file is complete or absent
    return {"path": str(path), "run_s": info.run_s}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"))
    ap.add_argument("--n", type=errors.count, default=10_000)
    ap.add_argument("--chunk", type=errors.count, default=500, help="samples per simulation")
    ap.add_argument("--seed", type=errors.natural, default=0)
    ap.add_argument("--neuron", choices=spiking.NEURONS,
                    default=spiking.NEURONS[0], help="kind of spiking unit")
    sweeps.add_arguments(ap, "the chunks")
    ap.add_argument("--out", default=None,
                    help="[default: figures/spiking_parzen.json, or "
                         "figures/spiking_parzen_poisson.json with --neuron poisson]")
    args = ap.parse_args()
    if args.out is None:
        suffix = "" if args.neuron == "lif" else f"_{args.neuron}"
        args.out = str(ROOT / "figures" / f"spiking_parzen{suffix}.json")
    if args.n < 1 or args.chunk < 1:
        raise SystemExit("--n and --chunk must be positive")

    model = model_files.load_model(args.model)
    x_all, y_all = load_mnist("train", args.data)
    x_test = load_mnist("test", args.data)[0]
    model_sha = file_digest(args.model)
    folder = ROOT / "runs" / "spiking_parzen" / model_sha / args.neuron
    folder.mkdir(parents=True, exist_ok=True)
    params = spiking.preset("generation", neuron=args.neuron)
    points = []
    for k, start in enumerate(range(0, args.n, args.chunk)):
        size = min(args.chunk, args.n - start)
        points.append({"chunk": k, "size": size, "seed": args.seed, "neuron": args.neuron,
                       "model_sha256_16": model_sha, "model": str(Path(args.model).resolve()),
                       "path": str(folder / f"seed{args.seed}_chunk{k:04d}_n{size}.npy")})
    done = sweeps.run_grid(generate_chunk, points, folder / "points",
                           scheduler=args.scheduler, n_workers=args.workers, log=print)
    results = {"model": shown_path(args.model), "model_sha256_16": model_sha,
               "neuron": args.neuron, "params": spiking.parameters_summary(params),
               "n_samples": args.n, "chunk": args.chunk, "seed": args.seed,
               "run_s_this_invocation": sum(d["run_s"] for d in done)}
    spiking_samples = np.concatenate([np.load(d["path"]) for d in done])
    rate = np.concatenate([rate_model.generate(model, p["size"],
                                               np.random.default_rng([args.seed, p["chunk"]]))
                           for p in points])
    for name, samples in (("spiking_generate", spiking_samples), ("rate_generate", rate)):
        r = evaluation.score_samples(samples, x_test, x_all[N_TRAIN:], x_all[:N_TRAIN],
                                     y_all[:N_TRAIN])
        results[name] = {k: r[k] for k in ("mean", "sem", "sigma", "fixed_sigma",
                                           "class_share", "class_share_cosine")}
        print(f"{name}: Parzen {r['mean']:.1f} ± {r['sem']:.1f} nats ({args.n} samples, "
              f"sigma {r['sigma']:.3f}; at sigma 0.2: {r['fixed_sigma']['mean']:.1f}); "
              f"'1's {100 * r['class_share'][1]:.0f} %", flush=True)
    results["spiking_over_rate"] = results["spiking_generate"]["mean"] / \
        results["rate_generate"]["mean"]
    write_json(args.out, results)
    print(f"spiking / rate: {results['spiking_over_rate']:.2f}; wrote {args.out}")


if __name__ == "__main__":
    errors.run_script(main)
