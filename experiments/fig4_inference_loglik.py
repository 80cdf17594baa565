#!/usr/bin/env python3
"""Figure 4: log p(x, h) along INFERENCE on the test set (writes figures/fig4_inference_loglik.*).

Same as ``stdpsim infer rate``; every option of that command works here, e.g.
``python experiments/fig4_inference_loglik.py --data ../shared/data/mnist``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["infer", "rate", "--update-card", "--out-dir", "figures", *sys.argv[1:]]))
