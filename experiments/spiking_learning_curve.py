#!/usr/bin/env python3
"""Learning curves at equal examples: the spiking learner (second design), its rate twin,
the rate model's own training, and the first design.

* **spiking learner**: the validation scores a ``stdpsim train spiking`` run keeps in its
  checkpoint (every ``valid_every`` examples; ``--run``, several allowed);
* **its rate twin** (:class:`stdpsim.rate_training.SdvdtTwinTrainer`): the first run's
  batch size, optimiser, loss and ε, its predictions corrupted at the authors' levels (f1's
  presynaptic factor too: the corruption events' rate limit), scored after every epoch;
  with ``--bounded-twin`` also the twin as the network's exact rate limit: hidden values
  stop at the units' top value and x's corruption reaches the upper encoders through the
  layers below (``TrainConfig``'s ``h_cap`` and ``propagate``);
* **the rate model** (Algorithm 2, the authors' settings) at the shipped model's learning
  rate (2.5e-5, ``--rate-lr``), scored after every epoch;
* **the first design**: the 3-epoch curve in ``figures/spiking_learning_curve_first_design.json``.

Every score is the same protocol (:func:`stdpsim.training.validation_parzen`: GENERATE
samples from the model, σ chosen on training images, the 2,699 validation images scored)
with the spiking run's number of samples; the shipped rate model's score under it is the
reference line.  The rate runs start from the same initialisation (seed 0) but draw their
own example order and corruption.  Their curves are cached in ``runs/curves/`` by their
settings, so re-running only adds what is missing; ``--reuse FILE`` takes what an earlier
results file holds (the rate curves of the same settings, and the spiking runs whose
checkpoints are gone), since ``runs/`` does not travel with the project.  Writes
``figures/spiking_learning_curve.json`` and ``.png``.

    python experiments/spiking_learning_curve.py --run runs/spiking/spiking_mnist.npz
        [--run OTHER.npz --label OTHER] [--epochs 3] [--bounded-twin] [--data DIR]
        [--reuse figures/spiking_learning_curve.json]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
from brian2 import Hz

from stdpsim import (errors, model_files, plotting, rate_config, rate_model, rate_training,
                     spiking)
from stdpsim.runs import load_npz, read_json, shown_path, write_json
from stdpsim.tasks.common import training_split
from stdpsim.training import validation_parzen

ROOT = Path(__file__).resolve().parents[1]


def run_history(run: str, reused: dict | None = None) -> tuple[dict | None, list[dict]]:
    """A spiking run's settings and its validation points; a run whose checkpoint is gone,
    from ``reused`` (an earlier results file) if it holds the run (its settings then None,
    unless it was that file's first run)."""
    ckpt = Path(run).with_suffix(".ckpt.npz")
    if not ckpt.exists() and reused is not None:
        for k, c in enumerate(reused["curves"]):
            if c.get("run") == shown_path(run):
                return (reused["settings"] if k == 0 else None), c["points"]
    state = json.loads(str(load_npz(ckpt, "checkpoint", keys=("state",))["state"]))
    points = [{"examples": r["examples"], "valid_parzen": r["valid_parzen"]}
              for r in state["history"] if "valid_parzen" in r]
    if not points:
        raise SystemExit(f"{ckpt}: no validation score yet")
    return state["settings"], points


def reused_rate_curves(old: dict | None) -> dict[str, list[dict]]:
    """The rate curves of an earlier results file (read), keyed by their settings."""
    if old is None:
        return {}
    return {json.dumps(c["config"], sort_keys=True): c["points"]
            for c in old["curves"] if "config" in c}


def rate_curve(cfg: rate_config.TrainConfig, x_train: np.ndarray, x_valid: np.ndarray,
               reused: dict[str, list[dict]] | None = None) -> list[dict]:
    """Validation scores after every epoch of a rate training, cached by its settings (or
    taken from ``reused``, :func:`reused_rate_curves`)."""
    key = json.dumps(cfg.settings(), sort_keys=True)
    if reused and key in reused:
        return reused[key]
    cache = ROOT / "runs" / "curves" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if cache.exists() and read_json(cache).get("key") == key:
        return read_json(cache)["points"]
    model = rate_model.init_model(np.random.default_rng(cfg.seed), cfg.layers, init=cfg.init)
    history = rate_training.train(model, x_train, cfg, x_valid=x_valid, progress=True)
    points = [{"examples": r["epoch"] * x_train.shape[0], "valid_parzen": r["valid_parzen"]}
              for r in history if "valid_parzen" in r]
    write_json(cache, {"key": key, "points": points})
    return points


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--run", action="append", required=True,
                    help="a spiking run's model path (its checkpoint is RUN.ckpt.npz)")
    ap.add_argument("--label", action="append", default=[],
                    help="legend label of each --run, in order")
    ap.add_argument("--epochs", type=errors.count, default=3, help="epochs of the rate runs")
    ap.add_argument("--rate-lr", type=errors.positive, default=rate_config.SHIPPED_LR,
                    help="the rate model's learning rate (the shipped model's)")
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"),
                    help="the reference rate model")
    ap.add_argument("--first-design",
                    default=str(ROOT / "figures" / "spiking_learning_curve_first_design.json"))
    ap.add_argument("--bounded-twin", action="store_true",
                    help="also the twin as the spiking network's exact rate limit: hidden "
                         "values bounded at the units' top value, x's corruption propagated "
                         "to the upper encoders")
    ap.add_argument("--reuse", default=None, metavar="FILE",
                    help="an earlier results file whose curves of the same settings are "
                         "taken from it, and whose spiking runs stand in for checkpoints "
                         "that are gone")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_learning_curve.json"))
    args = ap.parse_args()
    if args.epochs < 1:
        raise SystemExit("--epochs must be at least 1")

    old = read_json(args.reuse) if args.reuse else None
    reused = reused_rate_curves(old)
    runs = [run_history(r, old) for r in args.run]
    settings = runs[0][0]
    if settings is None:
        raise SystemExit(f"{args.run[0]}: the first --run needs its checkpoint (its settings "
                         "define the twin's)")
    train, learn = settings["train"], settings["learning"]
    samples = train["valid_samples"]
    x_train, x_valid = training_split(args.data)
    common = dict(epochs=args.epochs, valid_every=1, valid_samples=samples,
                  sizes=tuple(train["sizes"]), seed=train["seed"])
    twin_cfg = rate_config.TrainConfig(
        rule="sdvdt", lr_encoders=learn["eps_encoders"], lr_decoders=learn["eps_decoders"],
        batch_size=train["batch_size"], optimizer=train["optimizer"], loss=train["loss"],
        **common)
    rate_cfg = rate_config.TrainConfig(lr_encoders=args.rate_lr, lr_decoders=args.rate_lr,
                                       **common)
    curves = []
    for k, ((_, points), run) in enumerate(zip(runs, args.run)):
        label = args.label[k] if k < len(args.label) else f"spiking learner ({Path(run).stem})"
        curves.append({"label": label, "points": points, "run": shown_path(run)})
    curves.append({"label": f"its rate twin (ε {learn['eps_encoders']:g}, authors' "
                            "corruption, f1's presynaptic factor too)", "line": "--",
                   "points": rate_curve(twin_cfg, x_train, x_valid, reused),
                   "config": twin_cfg.settings()})
    if args.bounded_twin:
        top = spiking.preset("training", r_max=settings["network"]["r_max_hz"] * Hz).top_value
        bounded_cfg = dataclasses.replace(twin_cfg, propagate=True, h_cap=top)
        curves.append({"label": f"its rate twin as the network's exact rate limit (values "
                                f"bounded at {top:g}, x's corruption propagated)",
                       "line": "-.",
                       "points": rate_curve(bounded_cfg, x_train, x_valid, reused),
                       "config": bounded_cfg.settings()})
    curves.append({"label": f"rate model, authors' settings at lr {args.rate_lr:g}",
                   "line": "--", "points": rate_curve(rate_cfg, x_train, x_valid, reused),
                   "config": rate_cfg.settings()})
    first = read_json(args.first_design)
    if first.get("valid_samples") == samples:
        curves.append({"label": "spiking learner, first design (the shipped model's run)",
                       "line": ":",
                       "points": first["spiking"]})
    reference = model_files.load_model(args.model)
    how = rate_config.TrainConfig(valid_samples=samples, seed=train["seed"]).validation()
    ref = validation_parzen(reference, x_train, x_valid, how)["valid_parzen"]
    results = {"settings": settings, "valid_samples": samples, "curves": curves,
               "twin_config": twin_cfg.settings(),
               "rate_config": rate_cfg.settings(),
               "reference_model": shown_path(args.model), "reference_valid_parzen": ref}
    write_json(args.out, results)
    plotting.plot_learning_curves(results, Path(args.out).with_suffix(".png"))
    for c in curves:
        print(f"{c['label']}: " + ", ".join(f"{p['examples']}: {p['valid_parzen']:.1f}"
                                             for p in c["points"]))
    print(f"shipped rate model: {ref:.1f}; wrote {args.out}")


if __name__ == "__main__":
    errors.run_script(main)
