#!/usr/bin/env python3
"""Does spiking INFERENCE stay faithful to the rate model as the stack grows deeper?

For stacks of 2, 3 and 4 hidden layers the same test digits run through spiking INFERENCE
(:func:`stdpsim.spiking.run_inference`, the ``inference`` preset: LIF units at up to 8 kHz,
τ = 20 ms, 20 steps, α = 0.001) and through the rate model's INFERENCE.  Recorded per depth:
the correlation of each hidden layer's trajectory with the rate model's (all digits, steps
and units), the log p(x, h) gain over the 20 steps of both, and the run's events and time.

The models: depth 2 is the shipped model (``models/rate_mnist.npz``, 784-1000-100); the
deeper ones (784-1000-500-100, the rate ablation's, and 784-1000-500-250-100) are trained
here with the authors' settings for ``--epochs`` on the first 20,000 training images, each
resumable from its checkpoint in ``runs/depth/``.  Each finished depth is saved at once, so
a stopped run continues where it stopped; a depth whose model file or digits changed is run
again.

Then, for the stacks of 2 and 3 hidden layers (``--pilot-depths``), the rest of the spiking
network: GENERATE (100 samples in one simulation, the ``generation`` preset; the 3-layer
samples drawn in ``figures/spiking_depth3_samples.png``) and a pilot of the S·dV/dt learner
(``--pilot-examples`` examples from the rate model's initialisation at the first design's
settings, the ``first_design`` preset, then the validation Parzen score of 1,000 GENERATE
samples, against the initial weights' score).

Writes ``figures/spiking_depth.json`` and ``figures/spiking_depth.png``.

    python experiments/spiking_depth.py [--data DIR] [--digits 1000] [--epochs 10]
                                        [--depths 2,3,4] [--pilot-depths 2,3]
                                        [--pilot-examples 1000] [--device auto]
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from stdpsim import (errors, model_files, plotting, rate_config, rate_model, rate_training,
                     shipped, spiking)
from stdpsim.data import load_mnist
from stdpsim.runs import file_digest, read_json, shown_path, write_json

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN = 20_000
SIZES = {2: None, 3: (784, 1000, 500, 100), 4: (784, 1000, 500, 250, 100)}
"""The stack of each depth (None: the shipped model)."""


def model_for(depth: int, data: str | None, epochs: int) -> Path:
    """The model file of ``depth`` hidden layers, trained (or resumed) when missing."""
    if SIZES[depth] is None:
        return shipped.model_path()
    sizes = SIZES[depth]
    out = ROOT / "runs" / "depth" / f"rate_{'-'.join(map(str, sizes))}_e{epochs}.npz"
    if not out.exists():
        x_all = load_mnist("train", data)[0]
        cfg = dataclasses.replace(rate_config.PRESETS["authors"], sizes=sizes,
                                  epochs=epochs, valid_every=0)
        print(f"training {'-'.join(map(str, sizes))} for {epochs} epochs -> {out}")
        out.parent.mkdir(parents=True, exist_ok=True)
        rate_training.train_model(x_all[:N_TRAIN], x_all[N_TRAIN:], cfg, out,
                                  resume=out.with_suffix(".ckpt.npz").exists(),
                                  command="experiments/spiking_depth.py", preset="authors")
    return out


def run_depth(path: Path, x, device: str, h_max: float) -> dict:
    """Spiking and rate INFERENCE of one model on the digits ``x``."""
    model = model_files.load_model(path)
    params = spiking.preset("inference", h_max=h_max)
    res = spiking.run_inference(model, x, params, device=device, record_spikes=False)
    cmp = spiking.compare_with_rate(res, model, x)
    return {"sizes": list(model.sizes), "depth": model.depth,
            "corr": [cmp[f"corr_h{l}"] for l in range(1, model.depth + 1)],
            "corr_change": [cmp[f"corr_change_h{l}"] for l in range(1, model.depth + 1)],
            "log_p_gain_spiking": cmp["spiking"]["gain"],
            "log_p_gain_spiking_sem": cmp["spiking"]["gain_sem"],
            "log_p_gain_rate": cmp["rate"]["gain"],
            "log_p_gain_rate_sem": cmp["rate"]["gain_sem"],
            "log_p_start_spiking": cmp["spiking"]["mean"][0],
            "log_p_start_rate": cmp["rate"]["mean"][0],
            "events": res.events, "run_s": res.info.run_s, "build_s": res.info.build_s,
            "device": res.info.device, "params": spiking.parameters_summary(params)}


def generate_row(path: Path, device: str, figure: Path | None) -> dict:
    """Spiking GENERATE of 100 samples from one model (and their figure)."""
    import numpy as np

    model = model_files.load_model(path)
    samples, events, info = spiking.run_generate(model, 100, np.random.default_rng(0),
                                                 device=device)
    if figure is not None:
        plotting.plot_digit_grid(samples, figure, title=f"100 spiking GENERATE samples, "
                                 f"{'-'.join(map(str, model.sizes))} (LIF, 8 kHz)")
    return {"n_samples": 100, "run_s": info.run_s, "build_s": info.build_s,
            "events": events, "mean_pixel": float(samples.mean()),
            "finite": bool(np.all(np.isfinite(samples)))}


def pilot_row(depth: int, data: str | None, n_examples: int, device: str) -> dict:
    """The spiking learner on ``n_examples`` examples from the rate model's initialisation,
    scored on validation before and after (1,000 GENERATE samples)."""
    import numpy as np

    from stdpsim import spiking_training

    sizes = SIZES[depth] or (784, 1000, 100)
    x_all = load_mnist("train", data)[0]
    x_train, x_valid = x_all[:N_TRAIN], x_all[N_TRAIN:]
    cfg = spiking_training.SpikingTrainConfig(sizes=sizes, chunk=100, valid_every=n_examples,
                                              valid_samples=1000,
                                              **spiking_training.FIRST_DESIGN)
    params, learning = spiking_training.training_parameters("first_design")
    rate_cfg = rate_config.TrainConfig(sizes=sizes)
    start = rate_model.init_model(np.random.default_rng(cfg.seed), rate_cfg.layers,
                                  init=rate_cfg.init)
    before = spiking_training.validation_score(start, x_train, x_valid, cfg)
    out = ROOT / "runs" / "depth" / f"spiking_pilot_{'-'.join(map(str, sizes))}.npz"
    model = spiking_training.train_model(
        x_train, x_valid, cfg, params, learning, out, command="experiments/spiking_depth.py",
        progress=False, device=device, max_chunks=n_examples // cfg.chunk)
    history = model.meta["history"]
    return {"sizes": list(sizes), "examples": history[-1]["examples"],
            "valid_parzen_start": before["valid_parzen"],
            "valid_parzen_end": history[-1]["valid_parzen"],
            "run_s": sum(r["run_s"] for r in history),
            "examples_per_s": history[-1]["examples"] / sum(r["run_s"] for r in history),
            "network": spiking.parameters_summary(params)}


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="folder of the MNIST IDX files")
    ap.add_argument("--digits", type=errors.count, default=1000, help="test digits per depth")
    ap.add_argument("--epochs", type=errors.count, default=10, help="training epochs of the deeper "
                                                           "rate models")
    ap.add_argument("--depths", type=errors.numbers(errors.count), default="2,3,4",
                    help="hidden layers, comma-separated")
    ap.add_argument("--h-max", type=errors.positive, default=spiking.SpikingParameters.h_max,
                    help="the value the softplus layers code at r_max")
    ap.add_argument("--pilot-depths", type=errors.numbers(errors.count), default="2,3",
                    help="hidden layers of the GENERATE runs and learner pilots")
    ap.add_argument("--pilot-examples", type=errors.count, default=1000,
                    help="examples of each learner pilot (a multiple of 100)")
    ap.add_argument("--device", default="auto", help="Brian2 target")
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_depth.json"))
    args = ap.parse_args()
    depths = args.depths
    unknown = [d for d in depths if d not in SIZES]
    if unknown:
        raise SystemExit(f"--depths: no stack defined for {unknown}; choose from "
                         f"{sorted(SIZES)}")
    if args.digits < 2:
        raise SystemExit(f"--digits must be at least 2, got {args.digits}")
    x = load_mnist("test", args.data)[0][:args.digits].astype("float64")
    out = Path(args.out)
    results = read_json(out) if out.exists() else {}
    rows = results.get("rows", {})
    for depth in depths:
        path = model_for(depth, args.data, args.epochs)
        key = {"model_sha256": file_digest(path), "n_digits": args.digits,
               "h_max": args.h_max}
        if all(rows.get(str(depth), {}).get(k) == v for k, v in key.items()):
            continue
        print(f"depth {depth}: spiking INFERENCE of {args.digits} test digits ({shown_path(path)})")
        row = run_depth(path, x, args.device, args.h_max)
        rows[str(depth)] = {**key, "model": shown_path(path), **row}
        results = {**results, "rows": rows, "epochs_deeper_models": args.epochs}
        write_json(out, results)
        r = rows[str(depth)]
        print(f"  corr per layer {', '.join(f'{c:.3f}' for c in r['corr'])}; log p gain "
              f"spiking {r['log_p_gain_spiking']:.1f}, rate {r['log_p_gain_rate']:.1f} nats; "
              f"run {r['run_s']:.0f} s")
    results = {**results, "rows": rows, "epochs_deeper_models": args.epochs}
    write_json(out, results)
    plotting.plot_depth_fidelity(results, out.with_suffix(".png"))
    for depth in args.pilot_depths:
        path = model_for(depth, args.data, args.epochs)
        key = {"model_sha256": file_digest(path), "pilot_examples": args.pilot_examples}
        done = results.get("pilots", {}).get(str(depth), {})
        if all(done.get(k) == v for k, v in key.items()):
            continue
        figure = ROOT / "figures" / "spiking_depth3_samples.png" if depth == 3 else None
        print(f"depth {depth}: spiking GENERATE and a learner pilot of "
              f"{args.pilot_examples} examples")
        row = {**key, "generate": generate_row(path, args.device, figure),
               "learner": pilot_row(depth, args.data, args.pilot_examples, args.device)}
        results.setdefault("pilots", {})[str(depth)] = row
        write_json(out, results)
        g, p = row["generate"], row["learner"]
        print(f"  GENERATE: run {g['run_s']:.0f} s, mean pixel {g['mean_pixel']:.3f}; learner: "
              f"validation Parzen {p['valid_parzen_start']:.1f} -> {p['valid_parzen_end']:.1f} "
              f"after {p['examples']} examples ({p['examples_per_s']:.1f} examples/s)")
    print(f"wrote {shown_path(out)} and {shown_path(out.with_suffix('.png'))}")


if __name__ == "__main__":
    errors.run_script(main)
