#!/usr/bin/env python3
"""Table: what the rate model's unpublished choices do (writes figures/rate_ablation.json).

Two parts, both scored with the standard Parzen protocol (10,000 samples, σ on the 2,699
validation images, the 10,000 test images), the class share of the samples, whether the mean
log p(x, h) rises at every one of 20 INFERENCE steps and the in-painting error:

* training variants (corruption noise, encoder learning rate, initial f2 weight scale,
  epochs), each trained with :func:`stdpsim.rate_training.train_model` into
  ``runs/ablation/<name>.npz`` — about 7 min an epoch-20 model on 2 cores; existing models are reused and a stopped training resumes
  from its checkpoint, so the script can be stopped and started again (rows whose model file
  is unchanged are not scored again);
* sampling variants on one trained model (prior variance scale, GENERATE's α and rounds).

    python experiments/rate_ablation.py [--data DIR] [--only NAME,...] [--train-only | --no-train]
                                        [--rescore]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from stdpsim import evaluation, rate_model, rate_training
from stdpsim.data import half_mask, load_mnist
from stdpsim.runs import read_json, write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000
N_SAMPLES = 10_000
BASE = rate_training.TrainConfig()

TRAINING = {
    "shipped (noise 0.05; cosine lr to 5 %)": {},
    "noise 0.1": dict(noise_x=0.1, noise_h1=0.1),
    "noise 0.3": dict(noise_x=0.3, noise_h1=0.3),
    "constant lr": dict(lr_final=1.0),
    "weight decay 0.1": dict(weight_decay=0.1),
    "f2 lr 3e-4": dict(lr={**BASE.lr, "f2": 3e-4}),
    "f2 lr 1e-3": dict(lr={**BASE.lr, "f2": 1e-3}),
    "10 epochs": dict(epochs=10),
    "f2 init gain 4": dict(init_gain={"f2": 4.0}),
    "f2 init gain 8": dict(init_gain={"f2": 8.0}),
    "f2 lr 3e-4 + init gain 4": dict(lr={**BASE.lr, "f2": 3e-4}, init_gain={"f2": 4.0}),
    "f2 lr 3e-4 + init gain 8": dict(lr={**BASE.lr, "f2": 3e-4}, init_gain={"f2": 8.0}),
}
"""Training variants: changes to :class:`~stdpsim.rate_training.TrainConfig`."""

SAMPLING = {
    "prior variance ×1": dict(var_scale=1.0),
    "prior variance ×4 (paper)": dict(var_scale=4.0),
    "prior variance ×16": dict(var_scale=16.0),
    "GENERATE α 0.03": dict(alpha=0.03),
    "GENERATE α 0.1": dict(alpha=0.1),
    "GENERATE 1 round": dict(n_rounds=1),
    "GENERATE 10 rounds": dict(n_rounds=10),
}
"""Sampling variants on the shipped model: prior ``var_scale`` and GENERATE arguments."""


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def score_model(model: rate_model.RateModel, data: dict, seed: int = 0,
                var_scale: float | None = None, **generate_args) -> dict:
    """Parzen LL and class share of GENERATE and ancestral samples; ``var_scale`` refits the
    prior with that multiple of the empirical variance first."""
    if var_scale is not None:
        model = dataclasses.replace(model)
        rate_model.fit_prior(model, data["h2_train"], var_scale)
    rng = np.random.default_rng(seed)
    out = {}
    for kind, samples in (("generate", rate_model.generate(model, N_SAMPLES, rng,
                                                            **generate_args)),
                          ("ancestral", rate_model.ancestral_sample(model, N_SAMPLES, rng))):
        r = evaluation.score_samples(samples, data["x_test"], data["x_valid"],
                                     data["x_train"], data["y_train"])
        out[kind] = {k: r[k] for k in ("mean", "sem", "sigma", "class_share",
                                       "class_share_max_abs_diff", "class_share_cosine",
                                       "class_share_max_abs_diff_cosine")}
    return out


def score_inference(model: rate_model.RateModel, data: dict) -> dict:
    """Mean log p(x, h) over 20 INFERENCE steps and right-half in-painting, on the test set."""
    lp = rate_model.inference_log_joint(model, data["x_test"], n_steps=20).mean(axis=1)
    rise = evaluation.rise_summary(lp)
    mask = half_mask("right")
    mean_image = data["x_train"].mean(axis=0)
    filled = rate_model.inpaint(model, data["x_test"], mask, mean_image)
    errors = evaluation.inpainting_errors(filled, data["x_test"], mask, mean_image)
    return {"log_p_start": float(lp[0]), "log_p_end": float(lp[-1]),
            "log_p_smallest_step": rise["smallest_step"],
            "log_p_rises_every_step": rise["rises_every_step"],
            "inpaint_mse": errors["mse_inpainting"], "mean_image_mse": errors["mse_fill"]}


def diagnostics(model: rate_model.RateModel, data: dict) -> dict:
    """Where the shipped model loses: decoder, prior, or GENERATE's rounds."""
    h1, h2 = rate_model.inference(model, data["x_train"][:N_SAMPLES])
    decoded = model.g1(model.g2(h2))
    r = evaluation.score_samples(decoded, data["x_test"], data["x_valid"], data["x_train"],
                                 data["y_train"])
    x = data["x_test"][:1000]
    ink = [float(x.sum(axis=1).mean())]
    for _ in range(3):  # GENERATE's rounds, started from real test digits
        h1x, _ = rate_model.inference(model, x, alpha=0.3)
        x = model.g1(h1x)
        ink.append(float(x.sum(axis=1).mean()))
    xt = data["x_test"][:2000]
    _, _, states = rate_model.inference(model, xt, n_steps=20, trace=True)
    terms = np.array([[t.mean() for t in rate_model.log_joint_terms(model, xt, a, b)]
                      for a, b in states])
    # Does the h2 autoencoder f2∘g2 shrink codes towards their mean (slope < 1), so that
    # INFERENCE's h2 update, which undoes that, spreads h2 out against the prior?
    h2_start = model.f2(model.f1(xt))
    dev = h2_start - model.prior_mean
    slope = float(np.sum((model.f2(model.g2(h2_start)) - model.prior_mean) * dev)
                  / np.sum(dev * dev))
    sd = data["h2_train"].std(axis=0)
    spread = [float(np.mean(np.abs(h - model.prior_mean) / sd))
              for h in (h2_start, states[-1][1])]
    return {"decoded_inferred_h2_parzen": {k: r[k] for k in ("mean", "sem", "sigma")},
            "f2_g2_slope_about_prior_mean": slope,
            "h2_spread_in_sd_start_and_after_20_steps": spread,
            "inferred_h2_share_between_0.1_and_0.9": float(np.mean((h2 > 0.1) & (h2 < 0.9))),
            "inferred_h2_mean_abs_correlation": float(np.abs(
                np.corrcoef(h2.T)[np.triu_indices(h2.shape[1], 1)]).mean()),
            "ink_per_generate_round_from_test_digits": ink,
            "log_p_term_changes_per_step": {
                name: np.diff(terms[:, i]).tolist()
                for i, name in enumerate(("log p(x|h1)", "log p(h1|h2)", "log p(h2)"))}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--only", default=None, help="comma-separated training variants")
    ap.add_argument("--no-train", action="store_true", help="score existing models only")
    ap.add_argument("--train-only", action="store_true",
                    help="train the missing models, score nothing (to run variants in "
                         "parallel processes, then score them all with --no-train)")
    ap.add_argument("--rescore", action="store_true",
                    help="score every row again, even where its model file is unchanged")
    ap.add_argument("--shipped", default=str(ROOT / "models" / "rate_mnist.npz"))
    ap.add_argument("--out", default=str(ROOT / "figures" / "rate_ablation.json"))
    args = ap.parse_args()

    x_all, y_all = load_mnist("train", args.data)
    data = {"x_train": x_all[:N_TRAIN], "y_train": y_all[:N_TRAIN],
            "x_valid": x_all[N_TRAIN:], "x_test": load_mnist("test", args.data)[0]}
    out_path = Path(args.out)
    results = read_json(out_path) if out_path.exists() else {"training": {}, "sampling": {}}
    names = args.only.split(",") if args.only else list(TRAINING)
    unknown = [n for n in names if n not in TRAINING]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {list(TRAINING)}")
    for name in names:
        cfg = dataclasses.replace(BASE, **TRAINING[name])
        path = ROOT / "runs" / "ablation" / f"{slug(name)}.npz"
        if name.startswith("shipped") and Path(args.shipped).exists():
            path = Path(args.shipped)
        if not path.exists():
            if args.no_train:
                print(f"{name}: no model at {path}, skipped")
                continue
            rate_training.train_model(data["x_train"], data["x_valid"], cfg, path,
                                      resume=True, command=f"experiments/rate_ablation.py "
                                      f"--only '{name}'")
        if args.train_only:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if (not args.rescore
                and results["training"].get(name, {}).get("model_sha256") == digest):
            print(f"{name}: already scored")
            continue
        model = rate_model.load_model(path)
        row = {"model": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
               "model_sha256": digest, "changes": dict(TRAINING[name]),
               **score_model(model, data), **score_inference(model, data)}
        results["training"][name] = row
        write_json(out_path, results)
        print(f"{name}: GENERATE {row['generate']['mean']:.1f}, ancestral "
              f"{row['ancestral']['mean']:.1f}, log p rises every step "
              f"{row['log_p_rises_every_step']}, in-painting MSE {row['inpaint_mse']:.4f}",
              flush=True)
    if args.train_only:
        return
    if Path(args.shipped).exists() and not args.only:
        shipped = rate_model.load_model(args.shipped)
        _, h2 = rate_model.inference(shipped, data["x_train"])
        data["h2_train"] = h2
        results["diagnostics"] = diagnostics(shipped, data)
        write_json(out_path, results)
        for name, change in SAMPLING.items():
            row = score_model(shipped, data, **change)
            results["sampling"][name] = {"changes": change, **row}
            write_json(out_path, results)
            print(f"{name}: GENERATE {row['generate']['mean']:.1f}, ancestral "
                  f"{row['ancestral']['mean']:.1f}", flush=True)
    if not args.only:
        ref = evaluation.score_samples(data["x_train"][:N_SAMPLES], data["x_test"],
                                       data["x_valid"], data["x_train"], data["y_train"])
        results["reference_training_images"] = {k: ref[k] for k in ("mean", "sem", "sigma")}
        write_json(out_path, results)
    print_table(results)


def _ones(r: dict, key: str = "class_share") -> str:
    return f"{100 * r[key][1]:.0f} %" if key in r else "–"


def print_table(results: dict) -> None:
    """The README's two tables (Markdown)."""
    print('| variant | GENERATE LL | ancestral LL | "1"s among GENERATE samples (by angle) | '
          "log p rises at every step (smallest step, nats) | in-painting MSE |")
    print("|---|---|---|---|---|---|")
    for name, r in results["training"].items():
        g, a = r["generate"], r["ancestral"]
        print(f"| {name} | {g['mean']:.1f} ± {g['sem']:.1f} | {a['mean']:.1f} ± {a['sem']:.1f} "
              f"| {_ones(g)} ({_ones(g, 'class_share_cosine')}) | "
              f"{'yes' if r['log_p_rises_every_step'] else 'no'} "
              f"({r['log_p_smallest_step']:.3f}) | {r['inpaint_mse']:.4f} |")
    ref = results.get("reference_training_images")
    if ref:
        print(f"| 10,000 training images as samples | {ref['mean']:.1f} ± {ref['sem']:.1f} "
              "| | | | |")
    print()
    print('| variant | GENERATE LL | ancestral LL | "1"s among GENERATE samples (by angle) |')
    print("|---|---|---|---|")
    for name, r in results["sampling"].items():
        g, a = r["generate"], r["ancestral"]
        print(f"| {name} | {g['mean']:.1f} ± {g['sem']:.1f} | {a['mean']:.1f} ± {a['sem']:.1f} "
              f"| {_ones(g)} ({_ones(g, 'class_share_cosine')}) |")


if __name__ == "__main__":
    main()
