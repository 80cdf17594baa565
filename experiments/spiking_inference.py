#!/usr/bin/env python3
"""Spiking INFERENCE on 1,000 test digits beside the rate model (writes
figures/spiking_inference.{png,json} and the first digits' spikes,
figures/spiking_inference_spikes.npz).

Same as ``stdpsim infer spiking --n-images 1000 --alpha 0.1``; every option of that command
works here, e.g. ``python experiments/spiking_inference.py --data ../shared/data/mnist``.
``--replot`` only redraws the PNG from the JSON and the spikes already in figures/.
"""
import sys
from pathlib import Path

from stdpsim import errors, plotting
from stdpsim.cli import main
from stdpsim.runs import load_spikes, read_json

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def replot() -> None:
    png = FIGURES / "spiking_inference.png"
    plotting.plot_spiking_inference(read_json(FIGURES / "spiking_inference.json"),
                                    load_spikes(FIGURES / "spiking_inference_spikes.npz"), png)
    print(f"wrote {png}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--replot"]:
        errors.run_script(replot)
    sys.exit(main(["infer", "spiking", "--n-images", "1000", "--alpha", "0.1",
                   "--out-dir", "figures", *sys.argv[1:]]))
