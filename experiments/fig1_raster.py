#!/usr/bin/env python3
"""The raster of Figure 1's main condition (writes figures/fig1_raster.png).

Reads the spikes that ``experiments/fig1_stdp_curve.py`` saved in runs/fig1_stdp_curve/; same
as ``stdpsim raster runs/fig1_stdp_curve --rows main --max-neurons 200 --t-min-ms 0
--t-max-ms 240 --out figures/fig1_raster.png``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["raster", "runs/fig1_stdp_curve", "--rows", "main", "--max-neurons", "200",
                   "--t-min-ms", "0", "--t-max-ms", "240", "--out", "figures/fig1_raster.png",
                   *sys.argv[1:]]))
