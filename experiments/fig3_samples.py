#!/usr/bin/env python3
"""Figure 3: 100 GENERATE samples of the shipped rate model (writes figures/fig3_samples.png).

Same as ``stdpsim generate rate``; every option of that command works here, e.g.
``python experiments/fig3_samples.py --model runs/my_model.npz``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", "rate", "--n", "100", "--out", "runs/fig3_samples.npy",
                   "--figure", "figures/fig3_samples.png", *sys.argv[1:]]))
