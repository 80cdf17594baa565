#!/usr/bin/env python3
"""Table: Parzen log-likelihood of GENERATE and ancestral samples (writes figures/rate_parzen.json).

Same as ``stdpsim evaluate``; every option of that command works here, e.g.
``python experiments/rate_parzen.py --data ../shared/data/mnist``.
"""
import sys

from stdpsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", "--update-card", "--out", "figures/rate_parzen.json",
                   *sys.argv[1:]]))
