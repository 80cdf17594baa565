#!/usr/bin/env python3
"""The spiking-trained model, evaluated as the rate model is (writes figures/spiking_model/).

The model trained by the spiking S·dV/dt learner (``stdpsim train spiking``) is a rate
model file like the shipped one, so the rate model's own evaluation commands score it, with
the same protocols:

1. ``generate``: 100 GENERATE samples (``fig3_samples.png``);
2. ``evaluate``: Parzen log-likelihood of the 10,000 test images under 10,000 GENERATE and
   ancestral samples, and the digit classes of the samples (``rate_parzen.json``);
3. ``infer``: log p(x, h) along 20 INFERENCE steps with α = 0.1, Figure 4
   (``fig4_inference_loglik.*``);
4. ``inpaint``: the right half of the test digits filled in (``fig5_inpainting.*``).

    python experiments/spiking_model_eval.py [--model models/spiking_mnist.npz] [--data DIR]
                                             [--out-dir figures/spiking_model]
                                             [--steps generate,evaluate,infer,inpaint]
"""

from __future__ import annotations

from pathlib import Path

from stdpsim import errors
from stdpsim.cli import main as stdpsim

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("generate", "evaluate", "infer", "inpaint")


def main() -> int:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "spiking_mnist.npz"))
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--out-dir", default=str(ROOT / "figures" / "spiking_model"))
    ap.add_argument("--steps", default=",".join(STEPS),
                    help=f"comma-separated, of {', '.join(STEPS)}")
    args = ap.parse_args()
    steps = args.steps.split(",")
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        ap.error(f"unknown steps {unknown}; choose from {', '.join(STEPS)}")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    common = ["--model", args.model] + (["--data", args.data] if args.data else [])
    commands = {
        "generate": ["generate", "rate", "--model", args.model, "--n", "100",
                     "--out", str(ROOT / "runs" / "spiking_model" / "fig3_samples.npy"),
                     "--figure", str(out / "fig3_samples.png")],
        "evaluate": ["evaluate", *common, "--out", str(out / "rate_parzen.json"),
                     "--update-card"],
        "infer": ["infer", "rate", *common, "--alpha", "0.1", "--out-dir", str(out),
                  "--update-card"],
        "inpaint": ["inpaint", "rate", *common, "--out-dir", str(out), "--update-card"],
    }
    for step in steps:
        print(f"== stdpsim {' '.join(commands[step])}", flush=True)
        code = stdpsim(commands[step])
        if code:
            return code
    return 0


if __name__ == "__main__":
    errors.run_script(main)
