#!/usr/bin/env python3
"""Learning curves of the learner's first design: the spiking S·dV/dt learner (weights
changing at every spike) against its online rate twin, at equal examples.

Reads the learning curve a ``stdpsim train spiking`` run keeps in its checkpoint
(validation Parzen log-likelihood every ``valid_every`` examples), then trains the rate twin
(:class:`stdpsim.rate_training.SdvdtTwinTrainer`) from the same initial weights on the same
examples in the same order (:func:`stdpsim.spiking_training.example_order`), one example at a
time as the spiking learner learns (a minibatch of 100 summed updates at the same ε is not
the same learner: over the first 10,000 examples its score fell from −69 to −133 where the
online twin's and the spiking learner's rose), with the same ε and INFERENCE settings, and
scores it with the
same validation protocol and number of samples at the same points.  The shipped rate model's
score under that protocol is drawn as a reference.  The twin's scores are cached beside the
checkpoint (keyed by its settings), so a re-run only adds the new points.

Writes ``figures/spiking_learning_curve_first_design.json`` and ``.png``; with
``--twin-out`` also the twin after as many examples as the spiking run has seen, as a model
file (prior fitted as training does), for the full evaluation beside the spiking-trained
model.

    python experiments/spiking_learning_curve_first_design.py
        [--run runs/spiking/spiking_mnist.npz] [--twin-out runs/twin_mnist.npz]
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stdpsim import (errors, model_files, plotting, rate_config, rate_model, rate_training,
                     spiking_training)
from stdpsim.data import load_mnist
from stdpsim.runs import load_npz, read_json, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000


RENAMED = {"lr_final": "eps_final", "lr_encoders": "eps_encoders", "lr_decoders": "eps_decoders"}
"""Settings of the spiking learner that older checkpoints record under their earlier names."""


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--run", default=str(ROOT / "runs" / "spiking" / "spiking_mnist.npz"),
                    help="the spiking run's model path (its checkpoint is RUN.ckpt.npz)")
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"),
                    help="the reference rate model")
    ap.add_argument("--out", default=str(ROOT / "figures"
                                         / "spiking_learning_curve_first_design.json"))
    ap.add_argument("--twin-out", default=None,
                    help="also save the twin at the run's last point as a model file")
    args = ap.parse_args()

    ckpt = Path(args.run).with_suffix(".ckpt.npz")
    state = json.loads(str(load_npz(ckpt, "checkpoint", keys=("state",))["state"]))
    settings, history = state["settings"], state["history"]
    train, net, learn = settings["train"], settings["network"], settings["learning"]
    # checkpoints written before the learner's ε had its own name
    train = {RENAMED.get(k, k): v for k, v in train.items()}
    learn = {RENAMED.get(k, k): v for k, v in learn.items()}
    spiking = [{"examples": r["examples"], "valid_parzen": r["valid_parzen"]}
               for r in history if "valid_parzen" in r]
    if not spiking:
        raise SystemExit(f"{ckpt}: no validation score yet")
    x_all = load_mnist("train", args.data)[0]
    x_train, x_valid = x_all[:N_TRAIN], x_all[N_TRAIN:]
    cfg = spiking_training.SpikingTrainConfig(**train)
    twin_cfg = rate_config.TrainConfig(
        rule="sdvdt", lr_encoders=learn["eps_encoders"], lr_decoders=learn["eps_decoders"],
        n_steps=int(net["n_steps"]), delta=net["delta"], alpha=net["alpha"],
        batch_size=1, seed=cfg.seed, **rate_config.FIRST_TWIN)

    cache_path = ckpt.with_name(ckpt.name.replace(".ckpt.npz", ".twin_curve.json"))
    key = {"settings": settings, "twin": {"rule": "sdvdt", "batch_size": 1}}
    cache = read_json(cache_path) if cache_path.exists() else {}
    if cache.get("key") != json.loads(json.dumps(key)):
        cache = {"key": key, "points": []}
    model = rate_model.init_model(np.random.default_rng(cfg.seed), twin_cfg.layers,
                                  init=twin_cfg.init)
    trainer = rate_training.SdvdtTwinTrainer(model, twin_cfg)
    wanted = [p["examples"] for p in spiking]
    scored = {p["examples"]: p["valid_parzen"] for p in cache["points"]}
    n, seen = x_train.shape[0], 0
    per_epoch = n // cfg.chunk
    rng = np.random.default_rng(0)  # unused by the twin (no corruption)
    base = dict(trainer.lrs)
    for c in range(max(wanted) // cfg.chunk):
        epoch, k = divmod(c, per_epoch)
        scale = cfg.eps_scale(c, cfg.epochs * per_epoch)  # the spiking run's ε schedule
        trainer.lrs = {name: lr * scale for name, lr in base.items()}
        order = spiking_training.example_order(n, cfg.seed, epoch)
        for i in order[k * cfg.chunk:(k + 1) * cfg.chunk]:  # online, as the spiking learner
            trainer.step(x_train[i:i + 1], rng)
        seen = (c + 1) * cfg.chunk
        if seen in wanted and seen not in scored:
            scored[seen] = spiking_training.validation_score(model, x_train, x_valid,
                                                             cfg)["valid_parzen"]
            cache["points"] = [{"examples": e, "valid_parzen": v}
                               for e, v in sorted(scored.items())]
            write_json(cache_path, cache)
            print(f"twin after {seen} examples: validation Parzen {scored[seen]:.1f}",
                  flush=True)
    if args.twin_out:
        top = rate_model.inference(model, x_train, twin_cfg.n_steps, twin_cfg.delta,
                                   twin_cfg.alpha)[-1]
        rate_model.fit_prior(model, top, twin_cfg.prior_var_scale)
        model.meta = {"learner": "online rate twin of the spiking S·dV/dt learner",
                      "run": shown_path(args.run), "examples_seen": max(wanted),
                      "settings": settings, "prior_var_scale": twin_cfg.prior_var_scale}
        model_files.save_model(model, args.twin_out)
        print(f"wrote the twin after {max(wanted)} examples to {args.twin_out}")
    reference = model_files.load_model(args.model)
    ref = spiking_training.validation_score(reference, x_train, x_valid, cfg)["valid_parzen"]
    results = {"run": shown_path(args.run), "settings": settings,
               "valid_samples": cfg.valid_samples, "spiking": spiking,
               "twin": [{"examples": e, "valid_parzen": scored[e]} for e in wanted],
               "reference_model": shown_path(args.model), "reference_valid_parzen": ref}
    results["curves"] = [
        {"label": "spiking learner, first design (LIF, S·dV/dt in Brian2)", "points": spiking},
        {"label": "its rate twin, online", "points": results["twin"], "line": "--"}]
    write_json(args.out, results)
    plotting.plot_learning_curves(results, Path(args.out).with_suffix(".png"))
    print(f"spiking: {spiking[-1]['valid_parzen']:.1f}, twin: {scored[wanted[-1]]:.1f} after "
          f"{wanted[-1]} examples; shipped rate model {ref:.1f}; wrote {args.out}")


if __name__ == "__main__":
    errors.run_script(main)
