#!/usr/bin/env python3
"""Figure 5: in-painting the right half of test digits (writes figures/fig5_inpainting.*).

Same as ``stdpsim inpaint rate``; every option of that command works here, e.g.
``python experiments/fig5_inpainting.py --data ../shared/data/mnist``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["inpaint", "rate", "--update-card", "--out-dir", "figures", *sys.argv[1:]]))
