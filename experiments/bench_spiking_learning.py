#!/usr/bin/env python3
"""Benchmark: the spiking S·dV/dt learner's speed, against the same network without learning.

On the same ``--examples`` training images, from the same starting weights (the training's
initialisation), in one run, alternating ``--repeats`` times (the fastest of each is kept;
these machines are shared):

1. the spiking learner (:func:`stdpsim.spiking.run_learning`), plasticity on;
2. the same network built without the learning statements (``learn=False``): the same
   neurons, synapses, phases and spikes, nothing learned.

Reported for each: run time (simulation only), examples per second, synaptic events per second
(events × fan-out / run time), and the ratio of the two run times, which is what learning
costs.  Learning changes the spikes too (from the initial weights the reconstructions fall
from 0.5 towards the digits within a few dozen examples, and with them the events), so the
ratio of the times per synaptic event is reported beside it; ``--start`` begins both from a
trained model or a training checkpoint instead, where learning moves the spikes little.  The network settings are those of ``stdpsim train spiking``
(:func:`stdpsim.spiking_training.training_parameters`, or ``--r-max`` / ``--tau``).  Writes ``figures/bench_spiking_learning.json``.

    python experiments/bench_spiking_learning.py [--data DIR] [--examples 100] [--repeats 2]
                                                 [--r-max 2000] [--tau 10]
                                                 [--start MODEL_OR_CHECKPOINT]
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np
from brian2 import Hz, ms, second

from stdpsim import rate_model, rate_training, spiking, spiking_training
from stdpsim.data import load_mnist
from stdpsim.runs import load_npz, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--examples", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--r-max", type=float, default=None, help="Hz [default: the network's]")
    ap.add_argument("--tau", type=float, default=None, help="ms [default: the network's]")
    ap.add_argument("--start", default=None,
                    help="model (.npz) or training checkpoint (.ckpt.npz) whose weights both "
                         "runs start from [default: the training's initialisation]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "bench_spiking_learning.json"))
    args = ap.parse_args()
    if args.examples < 1 or args.repeats < 1:
        raise SystemExit("--examples and --repeats must be positive")

    network = {}
    if args.r_max is not None:
        network["r_max"] = args.r_max * Hz
    if args.tau is not None:
        network["tau"] = args.tau * ms
    params, learning = spiking_training.training_parameters(**network)
    cfg = rate_training.TrainConfig()
    model = rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers, init=cfg.init)
    if args.start is not None:
        if str(args.start).endswith(".ckpt.npz"):
            rate_training.restore_weights(model, load_npz(args.start, "checkpoint"))
        else:
            model = rate_model.load_model(args.start)
    x = load_mnist("train", args.data)[0][:args.examples]
    bio = float(args.examples * learning.t_example(params) / second)
    rows: dict[str, dict] = {}
    for _ in range(args.repeats):
        for name, learn in (("learning", True), ("no_learning", False)):
            _, events, info = spiking.run_learning(model, x, params, learning, learn=learn,
                                                   seed=0)
            row = rows.setdefault(name, {"run_s_repeats": [], "events": events,
                                         "build_s": info.build_s})
            row["run_s_repeats"].append(info.run_s)
    for name, row in rows.items():
        best = min(row["run_s_repeats"])
        row.update(run_s=best, examples_per_s=args.examples / best,
                   realtime_factor=best / bio,
                   synaptic_events_per_s=row["events"]["synaptic"] / best,
                   ns_per_synaptic_event=1e9 * best / row["events"]["synaptic"])
        print(f"{name}: {args.examples} examples ({bio:.2f} s biological) in {best:.1f} s "
              f"(fastest of {', '.join(f'{t:.1f}' for t in row['run_s_repeats'])}): "
              f"{row['examples_per_s']:.2f} examples/s, "
              f"{row['synaptic_events_per_s'] / 1e6:.0f} M synaptic events/s", flush=True)
    ratio = rows["learning"]["run_s"] / rows["no_learning"]["run_s"]
    per_event = (rows["learning"]["ns_per_synaptic_event"]
                 / rows["no_learning"]["ns_per_synaptic_event"])
    print(f"learning / no learning: {ratio:.2f}× the run time, {per_event:.2f}× the time per "
          "synaptic event")
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "examples": args.examples, "biological_s": bio,
               "network": spiking.parameters_summary(params),
               "t_example_ms": float(learning.t_example(params) / ms),
               "start": "initialisation" if args.start is None else shown_path(args.start),
               **rows, "learning_over_no_learning": ratio,
               "learning_over_no_learning_per_event": per_event}
    write_json(args.out, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
