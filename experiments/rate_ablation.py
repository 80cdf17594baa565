#!/usr/bin/env python3
"""Table: which of the authors' training settings matter (writes figures/rate_ablation.json).

Starting from the authors' preset (:data:`stdpsim.rate_config.PRESETS`), each training row
changes one setting back to this project's first choice (``adam-v1``) and trains for 20
epochs (the paper's budget; no epoch selection, so every row is the model after epoch 20).
Two rows ask other questions of the same budget: three hidden layers, and a learning rate
scaled by the training-set sizes (the paper does not give its size; over MNIST's usual
50,000 training images of that time, 20 epochs are 2.5 × the updates of 20 epochs over our
20,000).
Each row is scored with the standard protocol:

* Parzen log-likelihood of the 10,000 test images under 10,000 GENERATE and 10,000 ancestral
  samples (σ chosen on the 2,699 validation images; the σ = 0.2 figure beside it);
* the class mix of the GENERATE samples (5 nearest training images) and its largest class;
* the Figure-4 check: does the mean log p(x, h) rise at every one of 20 INFERENCE steps on
  the test set (smallest step), with training's α = 0.001 and with Figure 4's α = 0.1 and
  prior term β = 0.001;
* right-half in-painting error per hidden pixel on the test set (20 steps, the first
  procedure).

Sampling rows change only the prior's width of a trained model.  Models go to
``runs/ablation/<row>.npz``; a stopped training resumes from its checkpoint and rows whose
model file is unchanged are not scored again, so the script can be stopped and re-run.  The
missing trainings run in parallel on dask.distributed (:func:`stdpsim.sweeps.run_grid`: one
worker per core, ``--scheduler ADDRESS`` for a running cluster, ``serial`` for none).

    python experiments/rate_ablation.py [--data DIR] [--only NAME,...] [--train-only | --no-train]
                                        [--rescore] [--scheduler ADDRESS|serial] [--workers N]
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from stdpsim import (errors, evaluation, model_files, rate_config, rate_model, rate_training,
                     sweeps)
from stdpsim.data import half_mask, load_mnist
from stdpsim.runs import file_digest, read_json, write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000
N_SAMPLES = 10_000
BASE = dataclasses.replace(rate_config.PRESETS["authors"], epochs=20, valid_every=0)
OLD = rate_config.PRESETS["adam-v1"]

TRAINING = {
    "authors' settings, 20 epochs": {},
    "authors' settings, seed 1": dict(seed=1),
    "noise 0.05 everywhere (was 0.5 / 0.5 / 0.3)": dict(noise_x=0.05, noise_h=0.05,
                                                         noise_g=0.05),
    "g2 linear (was softplus)": dict(decoder_hidden="linear"),
    "delta-rule loss (was through the nonlinearity)": dict(loss="delta"),
    "Adam 1e-4 / 1e-3, cosine to 5 % (was centred RMSprop 1e-5)": dict(
        optimizer="adam", lr_encoders=OLD.lr_encoders, lr_decoders=OLD.lr_decoders,
        lr_final=OLD.lr_final),
    "Gaussian N(0, 1/n_in) init (was orthogonal)": dict(init="gaussian"),
    "all of the above: the adam-v1 preset": {
        k: getattr(OLD, k) for k in ("decoder_hidden", "loss", "optimizer", "lr_encoders",
                                     "lr_decoders", "lr_final", "noise_x", "noise_h",
                                     "noise_g", "init", "prior_var_scale")},
    "3 hidden layers, 784-1000-500-100": dict(sizes=(784, 1000, 500, 100)),
    "learning rate 2.5e-5 (was 1e-5; × 50k / 20k training images)": dict(  # noqa
        lr_encoders=2.5e-5, lr_decoders=2.5e-5),
}
"""Training rows: changes to :data:`BASE` (the authors' preset, 20 epochs)."""

SAMPLING = {
    "prior variance ×4 (the paper's text; was ×16)": ("authors' settings, 20 epochs", 4.0),
    "prior variance ×1": ("authors' settings, 20 epochs", 1.0),
    "adam-v1 preset with prior variance ×16": ("all of the above: the adam-v1 preset", 16.0),
}
"""Sampling rows: (training row, prior variance factor)."""


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")[:60]


def score_model(model: rate_model.RateModel, data: dict, seed: int = 0) -> dict:
    """Parzen LL (σ on validation, and σ = 0.2) and class share of GENERATE and ancestral
    samples."""
    rng = np.random.default_rng(seed)
    out = {}
    for kind, samples in (("generate", rate_model.generate(model, N_SAMPLES, rng)),
                          ("ancestral", rate_model.ancestral_sample(model, N_SAMPLES, rng))):
        r = evaluation.score_samples(samples, data["x_test"], data["x_valid"],
                                     data["x_train"], data["y_train"])
        out[kind] = {k: r[k] for k in ("mean", "sem", "sigma", "fixed_sigma", "class_share",
                                       "class_share_max_abs_diff", "class_share_cosine",
                                       "class_share_max_abs_diff_cosine")}
    return out


def score_inference(model: rate_model.RateModel, data: dict) -> dict:
    """Mean log p(x, h) over 20 INFERENCE steps (Algorithm 2 as trained, α = 0.001; and
    Figure 4's setting, α = 0.1 with the prior's term β = 0.001) and right-half in-painting,
    on the test set."""
    out = {}
    for key, alpha, prior_alpha in (("", 0.001, 0.0), ("_fig4", 0.1, 0.001)):
        lp = rate_model.inference_log_joint(model, data["x_test"], n_steps=20, alpha=alpha,
                                            prior_alpha=prior_alpha).mean(axis=1)
        rise = evaluation.rise_summary(lp)
        out.update({f"log_p_start{key}": float(lp[0]), f"log_p_end{key}": float(lp[-1]),
                    f"log_p_smallest_step{key}": rise["smallest_step"],
                    f"log_p_rises_every_step{key}": rise["rises_every_step"]})
    mask = half_mask("right")
    mean_image = data["x_train"].mean(axis=0)
    filled = rate_model.inpaint(model, data["x_test"], mask, mean_image)
    errors = evaluation.inpainting_errors(filled, data["x_test"], mask, mean_image)
    out.update(inpaint_mse=errors["mse_inpainting"], mean_image_mse=errors["mse_fill"])
    return out


def train_row(name: str, data: dict, no_train: bool) -> Path | None:
    cfg = dataclasses.replace(BASE, **TRAINING[name])
    path = ROOT / "runs" / "ablation" / f"{slug(name)}.npz"
    if not path.exists():
        if no_train:
            print(f"{name}: no model at {path}, skipped")
            return None
        resume = path.with_suffix(".ckpt.npz").exists()  # a stopped training continues
        rate_training.train_model(data["x_train"], data["x_valid"], cfg, path, resume=resume,
                                  command=f"experiments/rate_ablation.py --only '{name}'",
                                  preset="authors")
    return path


def train_point(point: dict) -> dict:
    """Train one row's model (or resume its stopped training); runs in a dask worker."""
    x_all, y_all = load_mnist("train", point["data"])
    data = {"x_train": x_all[:N_TRAIN], "x_valid": x_all[N_TRAIN:]}
    path = train_row(point["row"], data, no_train=False)
    return {"model": str(path)}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--only", default=None, help="comma-separated training rows")
    ap.add_argument("--no-train", action="store_true", help="score existing models only")
    ap.add_argument("--train-only", action="store_true",
                    help="train the missing models, score nothing")
    ap.add_argument("--rescore", action="store_true",
                    help="score every row again, even where its model file is unchanged")
    sweeps.add_arguments(ap, "the trainings")
    ap.add_argument("--out", default=str(ROOT / "figures" / "rate_ablation.json"))
    args = ap.parse_args()

    x_all, y_all = load_mnist("train", args.data)
    data = {"x_train": x_all[:N_TRAIN], "y_train": y_all[:N_TRAIN],
            "x_valid": x_all[N_TRAIN:], "x_test": load_mnist("test", args.data)[0]}
    out_path = Path(args.out)
    results = read_json(out_path) if out_path.exists() else {}
    results.setdefault("training", {})
    results.setdefault("sampling", {})
    results["base"] = dataclasses.asdict(BASE)
    names = args.only.split(",") if args.only else list(TRAINING)
    unknown = [n for n in names if n not in TRAINING]
    if unknown:
        raise SystemExit(f"unknown row(s) {unknown}; choose from {list(TRAINING)}")
    missing = [n for n in names if not (ROOT / "runs" / "ablation" / f"{slug(n)}.npz").exists()]
    if missing and not args.no_train:  # the trainings in parallel, each resumable
        data_path = str(Path(args.data).resolve()) if args.data else None
        sweeps.run_grid(train_point, [{"row": n, "data": data_path} for n in missing],
                        ROOT / "runs" / "ablation" / "points", scheduler=args.scheduler,
                        n_workers=args.workers, log=print)
    for name in names:
        path = train_row(name, data, no_train=True)
        if path is None or args.train_only:
            continue
        digest = file_digest(path, 64)
        if (not args.rescore
                and results["training"].get(name, {}).get("model_sha256") == digest):
            print(f"{name}: already scored")
            continue
        model = model_files.load_model(path)
        row = {"model": str(path.relative_to(ROOT)), "model_sha256": digest,
               "changes": dict(TRAINING[name]),
               "train_seconds": model.meta.get("train_seconds"),
               **score_model(model, data), **score_inference(model, data)}
        results["training"][name] = row
        write_json(out_path, results)
        print(f"{name}: GENERATE {row['generate']['mean']:.1f}, ancestral "
              f"{row['ancestral']['mean']:.1f}, log p rises every step "
              f"{row['log_p_rises_every_step']}, in-painting MSE {row['inpaint_mse']:.4f}",
              flush=True)
    if args.train_only:
        return
    for name, (row_name, scale) in SAMPLING.items():
        path = ROOT / "runs" / "ablation" / f"{slug(row_name)}.npz"
        if not path.exists() or (args.only and row_name not in names):
            continue
        digest = file_digest(path, 64)
        if (not args.rescore
                and results["sampling"].get(name, {}).get("model_sha256") == digest):
            continue
        model = rate_model.with_prior_scale(model_files.load_model(path), scale)
        row = {"model_sha256": digest, "row": row_name, "prior_var_scale": scale,
               **score_model(model, data)}
        results["sampling"][name] = row
        write_json(out_path, results)
        print(f"{name}: GENERATE {row['generate']['mean']:.1f}, ancestral "
              f"{row['ancestral']['mean']:.1f}", flush=True)
    if "reference_training_images" not in results:
        ref = evaluation.score_samples(data["x_train"][:N_SAMPLES], data["x_test"],
                                       data["x_valid"], data["x_train"], data["y_train"])
        results["reference_training_images"] = {k: ref[k] for k in ("mean", "sem", "sigma")}
        write_json(out_path, results)
    print_table(results)


def _largest(r: dict) -> str:
    share = r["class_share"]
    c = int(np.argmax(share))
    return f"'{c}' {100 * share[c]:.0f} %"


def print_table(results: dict) -> None:
    """The README's two tables (Markdown)."""
    print("| variant | GENERATE LL | at σ = 0.2 | ancestral LL | largest class of GENERATE "
          "samples | log p rises at every step (smallest step, nats): α 0.001 / α 0.1 with "
          "prior term | in-painting MSE |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results["training"].items():
        g, a = r["generate"], r["ancestral"]
        rises = " / ".join(
            f"{'yes' if r['log_p_rises_every_step' + k] else 'no'} "
            f"({r['log_p_smallest_step' + k]:+.3f})" for k in ("", "_fig4"))
        print(f"| {name} | {g['mean']:.1f} ± {g['sem']:.1f} | {g['fixed_sigma']['mean']:.1f} "
              f"| {a['mean']:.1f} ± {a['sem']:.1f} | {_largest(g)} | {rises} | "
              f"{r['inpaint_mse']:.4f} |")
    ref = results.get("reference_training_images")
    if ref:
        print(f"| 10,000 training images as samples | {ref['mean']:.1f} ± {ref['sem']:.1f} "
              "| | | | | |")
    print()
    print("| sampling variant | GENERATE LL | at σ = 0.2 | ancestral LL | largest class of "
          "GENERATE samples |")
    print("|---|---|---|---|---|")
    for name, r in results["sampling"].items():
        g, a = r["generate"], r["ancestral"]
        print(f"| {name} | {g['mean']:.1f} ± {g['sem']:.1f} | {g['fixed_sigma']['mean']:.1f} "
              f"| {a['mean']:.1f} ± {a['sem']:.1f} | {_largest(g)} |")


if __name__ == "__main__":
    errors.run_script(main)
