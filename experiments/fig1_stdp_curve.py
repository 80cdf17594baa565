#!/usr/bin/env python3
"""Figure 1: the STDP curve of ΔW ∝ S_pre·dV_post/dt (writes figures/fig1_stdp_curve.*).

Same as ``stdpsim stdp-curve``; every option of that command works here, e.g.
``python experiments/fig1_stdp_curve.py --device numpy``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["stdp-curve", "--out-dir", "figures", "--spikes-dir", "runs/fig1_stdp_curve",
                   *sys.argv[1:]]))
