#!/usr/bin/env python3
"""In-painting procedure chosen on validation images (writes figures/inpaint_tuning.json).

Right half hidden.  The hidden half starts either at the mean training image or at the
mean of the 10 training images nearest on the visible half (the nearest-neighbour baseline,
which the model then refines).  For each start a grid over the number of INFERENCE steps, the
pull α of h1 towards g2(h2) (Algorithm 2 trains with 0.001, GENERATE uses 0.3) and the number
of rounds (each round restarts INFERENCE from the feed-forward pass of the last round's filled
image, as GENERATE's rounds do) is scored on the 2,699 validation images.  On all 10,000 test
images: the best setting overall, the best from the mean image (if that is another), the first
procedure (mean image, 20 steps, α = 0.001, 1 round) and the two baselines — the mean
training image and the 10-nearest-neighbour fill.

    python experiments/inpaint_tuning.py [--model PATH] [--data DIR] [--out PATH]
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np

from stdpsim import errors, evaluation, model_files, rate_model
from stdpsim.data import half_mask, load_mnist
from stdpsim.runs import shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000
GRIDS = {
    "mean": {"n_steps": (20, 100), "alpha": (0.001, 0.1, 0.3), "n_rounds": (1, 3)},
    "nearest": {"n_steps": (5, 20, 50), "alpha": (0.001, 0.1), "n_rounds": (1,)},
}
"""Settings tried for each start of the hidden half: the mean training image, or the mean of
the 10 training images nearest on the visible half (the baseline fill, refined by the
model)."""
FIRST = {"start": "mean", "n_steps": 20, "alpha": 0.001, "n_rounds": 1}
"""The procedure of the first release (and of the paper's Figure 5 as we read it)."""
KEYS = tuple(FIRST)


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "rate_mnist.npz"))
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--out", default=str(ROOT / "figures" / "inpaint_tuning.json"))
    args = ap.parse_args()

    model = model_files.load_model(args.model)
    x_all, _ = load_mnist("train", args.data)
    x_train, x_valid = x_all[:N_TRAIN], x_all[N_TRAIN:]
    x_test = load_mnist("test", args.data)[0]
    mask = half_mask("right")
    mean_image = x_train.mean(axis=0)

    starts = {"valid": {"mean": mean_image, "nearest": evaluation.nearest_neighbour_fill(
        x_valid, mask, x_train, k=10)}}
    grid = []
    for start, options in GRIDS.items():
        for values in itertools.product(*options.values()):
            setting = {"start": start, **dict(zip(options, values))}
            t0 = time.perf_counter()
            filled = rate_model.inpaint(model, x_valid, mask, starts["valid"][start],
                                        **{k: v for k, v in setting.items() if k != "start"})
            mse = evaluation.masked_mse(filled, x_valid, mask)
            grid.append({**setting, "valid_mse": mse, "seconds": time.perf_counter() - t0})
            print(f"{setting}: validation MSE {mse:.4f}", flush=True)
    best = {start: min((r for r in grid if r["start"] == start), key=lambda r: r["valid_mse"])
            for start in GRIDS}
    chosen = {start: {k: row[k] for k in KEYS} for start, row in best.items()}
    overall = chosen[min(best, key=lambda start: best[start]["valid_mse"])]

    nn = evaluation.nearest_neighbour_fill(x_test, mask, x_train, k=10)
    starts["test"] = {"mean": mean_image, "nearest": nn}
    test = {}
    for name, setting in (("chosen", overall), ("chosen_from_mean", chosen["mean"]),
                          ("first_procedure", FIRST)):
        if name != "chosen" and setting == overall:
            continue
        filled = rate_model.inpaint(model, x_test, mask, starts["test"][setting["start"]],
                                    **{k: v for k, v in setting.items() if k != "start"})
        test[name] = {**setting, "mse": evaluation.masked_mse(filled, x_test, mask)}
    test["nearest_10_training_images"] = {"mse": evaluation.masked_mse(nn, x_test, mask)}
    test["mean_training_image"] = {"mse": evaluation.masked_mse(
        np.where(mask, mean_image, x_test), x_test, mask)}
    result = {"model": shown_path(args.model), "half": "right", "grid": grid,
              "chosen_on_validation": overall, "chosen_per_start": chosen, "test": test,
              "n_test": int(x_test.shape[0]), "n_valid": int(x_valid.shape[0])}
    path = write_json(args.out, result)
    for name, r in test.items():
        print(f"test, {name}: {r['mse']:.4f} per hidden pixel"
              + (f" ({', '.join(f'{k} {r[k]}' for k in KEYS)})" if "alpha" in r else ""))
    print(f"wrote {path}")


if __name__ == "__main__":
    errors.run_script(main)
