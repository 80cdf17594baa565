#!/usr/bin/env python3
"""Figure: 100 spiking-GENERATE samples (writes figures/fig3_spiking_samples.png).

Same as ``stdpsim generate spiking``; e.g. ``python experiments/fig3_spiking_samples.py``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", "spiking", "--n", "100", "--out",
                   "runs/fig3_spiking_samples.npy", "--figure",
                   "figures/fig3_spiking_samples.png", *sys.argv[1:]]))
