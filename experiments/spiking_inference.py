#!/usr/bin/env python3
"""Spiking INFERENCE on 1,000 test digits beside the rate model (writes
figures/spiking_inference.{png,json} and the first digits' spikes,
figures/spiking_inference_spikes.npz).

Same as ``stdpsim infer spiking --n-images 1000 --alpha 0.1``; every option of that command
works here, e.g. ``python experiments/spiking_inference.py --data ../shared/data/mnist``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["infer", "spiking", "--n-images", "1000", "--alpha", "0.1",
                   "--out-dir", "figures", *sys.argv[1:]]))
