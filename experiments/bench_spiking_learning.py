#!/usr/bin/env python3
"""Benchmark: the spiking learner's training speed (second design), one run.

On the same MNIST training images and starting weights (the training's initialisation, or
``--start``), with the settings of ``stdpsim train spiking`` (minibatches of ``--batch-size``
examples cut into shards of ``--shard``):

1. **1 worker**: the minibatches' shards run in this process, one after another, each a run
   of one compiled network kept open (:class:`stdpsim.shards.ShardRunner`, ``serial``),
   then consolidated;
2. **2 workers**: the same on a dask LocalCluster of two worker processes;
3. **no learning**: the same shards through the same network built without the learning
   statements, in this process (what learning costs).

Examples per second are wall time over whole minibatches (tags, transfer, consolidation
included), after one warm-up minibatch (compilation and each worker's code generation are
not counted).  From the 1-worker runs at two shard sizes it fits the cost of one simulation
run, c_run + S·c_ex (S examples), and the cost per minibatch outside the simulation, c_mb
(summing and consolidating the tags), and estimates what W workers would reach with B
examples cut into W shards: B / (c_run + (B/W)·c_ex + c_mb), a paper estimate that leaves out
the transfer of weights and tags over a real network.  Writes
``figures/bench_spiking_learning.json``.

    python experiments/bench_spiking_learning.py [--data DIR] [--minibatches 3]
        [--batch-size 100] [--shard 50] [--start MODEL] [--noise-x 0.5] [--r-max HZ]
        [--tau-ff MS] [--tau-syn MS] [--t-settle MS] [--t-noisy MS] [--noise-rate HZ]
"""

from __future__ import annotations

import copy
import os
import platform
import time
from pathlib import Path

import numpy as np
from brian2 import ms

from stdpsim import errors, model_files, rate_config, rate_model, spiking
from stdpsim.consolidation import Consolidation
from stdpsim.data import load_mnist
from stdpsim.runs import shown_path, write_json
from stdpsim.shards import ShardNetwork, ShardRunner
from stdpsim.tasks.network import add_learner_arguments, learner_settings

ROOT = Path(__file__).resolve().parents[1]


def rate(runner: ShardRunner, model: rate_model.RateModel, x: np.ndarray, batch: int,
         shard: int, n_batches: int, lr: float) -> dict:
    """Examples/s of ``n_batches`` minibatches after a warm-up one; the consolidation runs on
    a copy of the model, so every setting sees the same weights."""
    work = copy.deepcopy(model)
    cons = Consolidation(work, "rmsprop", {n: lr for n in work.weights})
    per = batch // shard

    def one(k: int) -> tuple[float, float, float]:
        t0 = time.perf_counter()
        tags, _, run_s = runner.minibatch(work, x[k * batch:(k + 1) * batch],
                                          list(range(k * per, (k + 1) * per)))
        t1 = time.perf_counter()
        cons(tags, batch)
        return time.perf_counter() - t0, run_s, time.perf_counter() - t1

    one(0)  # warm-up: build and sessions
    walls, runs, consolidations = zip(*(one(k) for k in range(1, n_batches + 1)))
    return {"examples_per_s": batch * n_batches / sum(walls), "wall_s": list(walls),
            "shard_run_s": list(runs), "consolidation_s": list(consolidations)}


def no_learning(model: rate_model.RateModel, x: np.ndarray, params, learning, shard: int,
                n_shards: int) -> float:
    """Seconds per example of the shards' network without the learning statements."""
    from stdpsim import backend

    build = spiking.learning_builder(model, shard, params, spiking.learner.tag_unit(learning),
                                     spiking.Mechanisms(learn=False, tags=True,
                                                        gain_factor=True))
    values = spiking.learning_inputs(model, x[:shard], params, learning)
    with backend.session(build, shard * learning.t_example(params), dt=params.dt) as s:
        s.run(values, seed=0)
        seconds = [s.run(spiking.learning_inputs(model, x[k * shard:(k + 1) * shard], params,
                                                 learning, seed=k), seed=k)[1]
                   for k in range(1, n_shards + 1)]
    return sum(seconds) / (shard * n_shards)


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--minibatches", type=errors.count, default=3)
    ap.add_argument("--batch-size", type=errors.count, default=100)
    ap.add_argument("--shard", type=errors.count, default=50)
    add_learner_arguments(ap)
    ap.add_argument("--start", default=None, help="model whose weights every run starts from "
                    "[default: the training's initialisation]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "bench_spiking_learning.json"))
    args = ap.parse_args()
    b, s, m = args.batch_size, args.shard, args.minibatches
    if m < 1 or s < 1 or b % s or b // s < 2 or b % (s // 2 or 1):
        raise SystemExit("--shard must divide --batch-size into at least 2 shards, and "
                         "--minibatches must be positive")
    params, learning = learner_settings(args)
    cfg = rate_config.TrainConfig()
    model = (model_files.load_model(args.start) if args.start else
             rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers, init=cfg.init))
    x = load_mnist("train", args.data)[0][:b * (m + 1)]
    lr = cfg.lr_encoders
    rows = {}
    for name, shard, scheduler, workers in (("1_worker", s, "serial", None),
                                            ("1_worker_half_shards", s // 2, "serial", None),
                                            ("2_workers", s, None, 2)):
        net = ShardNetwork(params, learning, shard, gain_factor=True)
        with ShardRunner(net, scheduler, workers) as runner:
            rows[name] = {"shard": shard, **rate(runner, model, x, b, shard, m, lr)}
        print(f"{name} (shards of {shard}): {rows[name]['examples_per_s']:.1f} examples/s",
              flush=True)
    per_ex_no_learning = no_learning(model, x, params, learning, s, 2 * m)
    # run time of one shard of S examples: c_run + S·c_ex, from the two shard sizes
    t_full = np.mean(rows["1_worker"]["shard_run_s"]) / (b // s)
    t_half = np.mean(rows["1_worker_half_shards"]["shard_run_s"]) / (b // (s // 2))
    c_ex = (t_full - t_half) / (s - s // 2)
    c_run = max(t_full - s * c_ex, 0.0)
    wall = np.mean(rows["1_worker"]["wall_s"])
    c_mb = max(wall - np.sum(rows["1_worker"]["shard_run_s"]) / m, 0.0)
    estimate = {str(w): b / (c_run + (b / w) * c_ex + c_mb) for w in (1, 2, 16, 64)}
    learning_s_per_ex = t_full / s
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "batch_size": b, "shard": s, "minibatches": m,
        "network": spiking.parameters_summary(params),
        "learning": spiking.learning_summary(learning),
        "t_example_ms": float(learning.t_example(params) / ms),
        "start": "initialisation" if args.start is None else shown_path(args.start),
        **rows,
        "speedup_2_workers": rows["2_workers"]["examples_per_s"]
        / rows["1_worker"]["examples_per_s"],
        "learning_over_no_learning": learning_s_per_ex / per_ex_no_learning,
        "cost_model_s": {"per_run": c_run, "per_example": c_ex, "per_minibatch": c_mb},
        "estimated_examples_per_s": estimate,
    }
    print(f"2 workers / 1: {results['speedup_2_workers']:.2f}×; learning / no learning: "
          f"{results['learning_over_no_learning']:.2f}×; per run {c_run:.3f} s, per example "
          f"{c_ex * 1e3:.1f} ms, per minibatch {c_mb:.3f} s; estimated examples/s: "
          + ", ".join(f"{w} workers {v:.0f}" for w, v in estimate.items()))
    write_json(args.out, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    errors.run_script(main)
