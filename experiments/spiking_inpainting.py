#!/usr/bin/env python3
"""Spiking in-painting of 1,000 test digits, right half hidden (writes
figures/spiking_inpainting.{png,json}).

Same as ``stdpsim inpaint spiking --n-images 1000 --neuron poisson``; every option of that
command works here, e.g. ``python experiments/spiking_inpainting.py --data ../shared/data/mnist``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["inpaint", "spiking", "--n-images", "1000", "--neuron", "poisson",
                   "--out-dir", "figures", *sys.argv[1:]]))
