#!/usr/bin/env python3
"""Supervised MNIST on one harness: rate targetprop (the paper's Algorithm 2 with a label
layer), backprop, difference target propagation and Krotov-Hopfield, at 1-3 hidden layers.

Every run trains on the first 20,000 training images, scores the other 2,699 (validation)
after every epoch and keeps the best epoch (:func:`stdpsim.classifiers.training.
train_classifier`).  Each learner's learning rate (and targetprop's pull α) is chosen per
depth on the validation error alone, from the grids below; the chosen run's error on the
official 10,000 test images is the table's number.  Krotov-Hopfield is its one hidden layer
of ``--kh-hidden`` units (the paper's network).  Runs are grid points of
:func:`stdpsim.sweeps.run_grid` (one cached file each in ``runs/classification/``: a stopped
call goes on with the missing ones; ``--scheduler``/``--workers`` as for every sweep).
Writes ``figures/classification.json`` (the table, every point's validation curve) and
``figures/classification_depth.png`` (test error against depth).

    python experiments/classification.py [--depth 1 --depth 2 ...] [--learner backprop ...]
        [--epochs 30] [--data DIR] [--workers 2] [--reuse figures/classification.json]
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from stdpsim import errors, plotting, sweeps
from stdpsim.classifiers import ClassifyConfig
from stdpsim.classifiers.krotov_hopfield import KHSettings
from stdpsim.runs import read_json, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = {1: (1000,), 2: (1000, 500), 3: (1000, 500, 250)}
"""Hidden widths per depth (the rate model's 1000 first, halving upwards)."""
GRIDS = {
    "backprop": [{"lr": lr} for lr in (3e-4, 1e-3)],
    "dtp": [{"lr": lr} for lr in (3e-4, 1e-3)],
    "targetprop": [{"lr": 3e-4, "alpha": a, **units} for units in ({}, {"units": "sigmoid"})
                   for a in (0.1, 0.5)],
    "krotov_hopfield": [{"lr": lr, "beta": b} for lr in (1e-3, 4e-3) for b in (0.3, 1.0)],
}
"""The settings tried per learner and depth, chosen on validation."""
KH = KHSettings()
"""Krotov-Hopfield's settings other than those of its grid and options."""
KH_KEYS = ("hidden", "unsupervised_epochs", "eps0")
"""The Krotov-Hopfield settings a point records (as ``kh_<name>``)."""
ANCHORS = [
    {"method": "dendritic error networks (Sacramento et al. 2018)", "test_error": 0.0196,
     "training_images": 60_000},
    {"method": "difference target propagation (Lee et al. 2015)", "test_error": 0.0194,
     "training_images": 60_000},
    {"method": "Krotov & Hopfield 2019", "test_error": 0.015, "training_images": 60_000},
    {"method": "STDP in Brian (Diehl & Cook 2015)", "test_error": 0.05,
     "training_images": 60_000},
    {"method": "event-driven contrastive divergence (Neftci et al. 2014)",
     "test_error": 0.08, "training_images": 60_000},
]
"""The literature's numbers, as the issue cites them, each with its training-set size."""


def run_point(point: dict, data: str | None) -> dict:
    """Train one grid point; its validation curve and the chosen epoch's test error."""
    from stdpsim.classifiers.files import from_trainer
    from stdpsim.classifiers.training import train_classifier
    from stdpsim.data import load_mnist
    from stdpsim.labels import error_rate
    from stdpsim.tasks.common import N_TRAIN

    kh = KHSettings(**{k: point[f"kh_{k}"] for k in KH_KEYS if f"kh_{k}" in point},
                    **({"beta": point["beta"]} if "beta" in point else {}))
    cfg = ClassifyConfig(learner=point["learner"], hidden=tuple(point["hidden"]),
                         epochs=point["epochs"], lr=point["lr"],
                         alpha=point.get("alpha", 0.1), units=point.get("units", "softplus"),
                         kh=kh)
    x, y = load_mnist("train", data)
    x_test, y_test = load_mnist("test", data)
    trainer, history = train_classifier(cfg, x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:],
                                        y[N_TRAIN:], log=None)
    classifier = from_trainer(trainer)
    return {"history": history, "chosen_epoch": trainer.meta["chosen_epoch"],
            "valid_error": min(r["valid_error_feed_forward"] for r in history),
            "test_error": {how: error_rate(classifier.classify(x_test, how), y_test)
                           for how in classifier.predictions},
            "seconds": sum(r["seconds"] for r in history)}


def grid(args) -> list[dict]:
    """Every point the options ask for."""
    points = []
    for learner in args.learner or list(GRIDS):
        depths = [1] if learner == "krotov_hopfield" else args.depth or list(HIDDEN)
        kh = ({f"kh_{k}": getattr(kh_settings(args), k) for k in KH_KEYS}
              if learner == "krotov_hopfield" else {})
        for depth in depths:
            for setting in GRIDS[learner]:
                points.append({"learner": learner, "depth": depth,
                               "hidden": list(HIDDEN[depth]), "epochs": args.epochs,
                               **kh, **setting})
    return points


def kh_settings(args) -> KHSettings:
    """Krotov-Hopfield's settings as the options give them (β: the grid's)."""
    return dataclasses.replace(KH, hidden=args.kh_hidden, eps0=args.kh_eps0,
                               unsupervised_epochs=args.kh_epochs)


def seed_cache(points: list[dict], published: str, cache: str) -> int:
    """Put the results of an earlier output file (``figures/classification.json``) into the
    cache for every point of ``points`` it holds, so that only the others are run; returns
    how many.  A stored point matches when it has the same settings; the Krotov-Hopfield
    settings that files before 2026-12-07 recorded for every learner are not compared for
    the others."""
    stored = read_json(published)["points"]
    folder, reused = Path(cache), 0
    for point in points:
        for entry in stored:
            old = {k: v for k, v in entry["point"].items()
                   if point["learner"] == "krotov_hopfield" or not k.startswith("kh_")}
            if old == point:
                result = {k: v for k, v in entry.items() if k != "point"}
                write_json(folder / f"{sweeps.point_name(point)}.json",
                           {"point": point, "result": result})
                reused += 1
                break
    return reused


def table(points: list[dict], results: list[dict]) -> list[dict]:
    """Per learner and depth the point of lowest validation error, with its test error."""
    best: dict[tuple, tuple[dict, dict]] = {}
    for p, r in zip(points, results):
        key = (p["learner"], p["depth"])
        if key not in best or r["valid_error"] < best[key][1]["valid_error"]:
            best[key] = (p, r)
    rows = []
    for (learner, depth), (p, r) in sorted(best.items()):
        rows.append({"learner": learner, "depth": depth, "hidden": p["hidden"],
                     "setting": {k: p[k] for k in ("lr", "alpha", "beta", "units") if k in p},
                     "valid_error": r["valid_error"],
                     "test_error": r["test_error"]["feed_forward"],
                     "test_error_inference": r["test_error"].get("inference"),
                     "seconds": r["seconds"]})
    return rows


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--learner", action="append", choices=list(GRIDS), default=[],
                    help="learners to run [default: all]")
    ap.add_argument("--depth", action="append", type=int, choices=list(HIDDEN), default=[],
                    help="hidden layers [default: 1, 2 and 3]")
    ap.add_argument("--epochs", type=errors.count, default=30,
                    help="epochs per run (Krotov-Hopfield: of its supervised stage)")
    ap.add_argument("--kh-hidden", type=errors.count, default=KH.hidden)
    ap.add_argument("--kh-epochs", type=errors.count, default=KH.unsupervised_epochs,
                    help="Krotov-Hopfield's unsupervised epochs")
    ap.add_argument("--kh-eps0", type=errors.positive, default=KH.eps0,
                    help="Krotov-Hopfield's unsupervised step at the first epoch")
    ap.add_argument("--reuse", metavar="FILE", default=None,
                    help="take the points an earlier output file holds from it (e.g. "
                         "figures/classification.json) and run only the others")
    sweeps.add_arguments(ap, "the runs")
    ap.add_argument("--cache", default=str(ROOT / "runs" / "classification"))
    ap.add_argument("--out", default=str(ROOT / "figures" / "classification.json"))
    args = ap.parse_args()
    points = grid(args)
    if args.reuse:
        print(f"{seed_cache(points, args.reuse, args.cache)} of {len(points)} points taken "
              f"from {shown_path(args.reuse)}")
    results = sweeps.run_grid(functools.partial(run_point, data=args.data), points,
                              args.cache, scheduler=args.scheduler, n_workers=args.workers,
                              log=print)
    rows = table(points, results)
    write_json(args.out, {"training_images": 20_000, "validation_images": 2_699,
                          "test_images": 10_000, "hidden": HIDDEN, "grids": GRIDS,
                          "table": rows, "anchors": ANCHORS,
                          "points": [{"point": p, **r} for p, r in zip(points, results)],
                          "settings": {"epochs": args.epochs,
                                       "kh": dataclasses.asdict(kh_settings(args))}})
    plotting.plot_error_against_depth(rows, Path(args.out).with_name("classification_depth.png"))
    for r in rows:
        print(f"{r['learner']}, {r['depth']} hidden: test error {100 * r['test_error']:.2f} % "
              f"(validation {100 * r['valid_error']:.2f} %, {r['setting']})")
    print(f"wrote {shown_path(args.out)}")


if __name__ == "__main__":
    errors.run_script(main)
