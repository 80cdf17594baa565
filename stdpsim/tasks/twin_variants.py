"""Experiments over named variants of the rate twin's training: their shared options and
their resumable loop (each finished variant written at once; a stopped run goes on with the
missing ones)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .. import rate_config
from ..runs import results_to_continue, shown_path, write_json
from .common import Log, training_split

RunOne = Callable[[str, np.ndarray, np.ndarray, Any], Any]
"""Trains one variant: (name, training images, validation images, parsed options) → what the
results file keeps for it."""


def add_variant_arguments(parser: Any, variants: Iterable[str], epochs: int, out: Path
                          ) -> None:
    """Add ``--data``, ``--variant`` (repeatable, from ``variants``), ``--epochs`` (default
    ``epochs``), ``--lr`` (the shipped rate model's ε), ``--valid-samples`` and ``--out``
    (default ``out``) to an experiment's :class:`stdpsim.errors.ArgumentParser`."""
    from .. import errors

    parser.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    parser.add_argument("--variant", action="append", choices=list(variants), default=[],
                        help="variants to run [default: all of them]")
    parser.add_argument("--epochs", type=errors.count, default=epochs,
                        help=f"epochs per variant [default: {epochs}]")
    parser.add_argument("--lr", type=errors.positive, default=rate_config.SHIPPED_LR,
                        help="ε of the consolidation and of the rate model "
                             f"[default: {rate_config.SHIPPED_LR:g}]")
    parser.add_argument("--valid-samples", type=errors.count, default=1000,
                        help="GENERATE samples per validation score (at least 2) "
                             "[default: 1000]")
    parser.add_argument("--out", default=str(out), help=f"results JSON [default: {out}]")


def run_variants(args: Any, variants: Iterable[str], run_one: RunOne,
                 describe: Callable[[Any], str], log: Log = print) -> dict[str, Any]:
    """Train the variants ``args.variant`` names (all ``variants`` if none) that ``args.out``
    lacks at these settings, write the results after each, and log each variant's line
    (``describe`` of its results). Returns the results."""
    if args.valid_samples < 2:
        raise ValueError(f"--valid-samples must be at least 2, got {args.valid_samples}")
    settings = {"epochs": args.epochs, "lr": args.lr, "valid_samples": args.valid_samples}
    out = Path(args.out)
    results = results_to_continue(out, settings, "variants")
    data: tuple[np.ndarray, np.ndarray] | None = None  # read only if a variant is missing
    for name in args.variant or list(variants):
        if name not in results["variants"]:
            data = data or training_split(args.data)
            results["variants"][name] = run_one(name, *data, args)
            write_json(out, results)
        log(f"{name}: {describe(results['variants'][name])}")
    log(f"wrote {shown_path(out)}")
    return results


def scores_line(scores: list[list[float]]) -> str:
    """'epoch 1: -59.6, epoch 2: 35.9' for (epoch, validation score) pairs."""
    return ", ".join(f"epoch {e}: {v:.1f}" for e, v in scores)
