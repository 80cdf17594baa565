"""What the tasks share: the data split, test images, output folders and checks, progress,
model cards.

A task's messages name the command-line flag that sets the value they are about, since the
command line is how most users reach a task; the tasks take plain values and never parse.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import runs, shipped
from ..data import load_mnist
from ..progress import interactive
from ..runs import read_json, write_json

Log = Callable[[str], None]
"""Where a task's report lines go (``print`` by default, ``click.echo`` on the command
line)."""

N_TRAIN = 20_000
"""The first N_TRAIN training images train the models; the rest validate them."""

SAMPLE_BYTES = 4 * 4 * (784 + 1000 + 1000 + 100)
"""Rough memory per GENERATE sample: float32 pixels, h1, g2(h2) and h2, about four copies of
each alive at once (INFERENCE's states and temporaries)."""

DEFAULT_MODEL = shipped.model_path(shipped.RATE_MODEL)
"""The shipped rate model, every MNIST task's default model."""


def info(msg: str) -> None:
    """A progress note on stderr (kept out of a command's output)."""
    print(msg, file=sys.stderr, flush=True)


def stages(total: int, desc: str):
    """A progress bar over a task's ``total`` stages (on stderr, only on a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="stage", leave=False,
                disable=not interactive())


def check_outputs(folder: str | Path, names: tuple[str, ...], option: str) -> None:
    """Check, before any work, that the files ``names`` can be written into ``folder``."""
    for name in names:
        runs.check_output(Path(folder) / name, option)


def out_dir(folder: str | Path | None, command: str) -> Path:
    """``folder``, or a new run folder ``runs/<command>-<time>/``."""
    return Path(folder) if folder is not None else runs.new_run_folder(command)


SPIKING_IMAGES = 100
"""Test images of the spiking tasks (``infer spiking``, ``inpaint spiking``) when they are
not told (or all, when there are fewer)."""


def test_images(data_path: str | None, n_images: int | None, minimum: int = 1,
                option: str = "--n-images", default: int | None = None) -> np.ndarray:
    """The MNIST test images, or the first ``n_images`` of them (checked; ``option`` names
    the flag in the error).  Without ``n_images``: the first ``default`` of them, or all
    when there are fewer (a default never fails), or all when no default is given."""
    x, _ = load_mnist("test", data_path)
    if n_images is None:
        return x if default is None else x[:default]
    if not minimum <= n_images <= x.shape[0]:
        raise ValueError(f"{option} must be in {minimum}..{x.shape[0]}, got {n_images}")
    return x[:n_images]


def training_split(data_path: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The training images (the first :data:`N_TRAIN`) and the validation images (the
    rest)."""
    x, _ = load_mnist("train", data_path)
    if x.shape[0] <= N_TRAIN:
        raise ValueError(f"need more than {N_TRAIN} training images, found {x.shape[0]}")
    return x[:N_TRAIN], x[N_TRAIN:]


def record_metrics(model_path: str | Path, key: str, metrics: dict, log: Log = print) -> None:
    """Add ``metrics`` under ``card["metrics"][key]`` of the model card beside the model."""
    card_path = Path(model_path).with_suffix(".json")
    card = read_json(card_path) if card_path.exists() else {}
    card.setdefault("metrics", {})[key] = metrics
    write_json(card_path, card)
    log(f"recorded {key} metrics in {card_path}")


def shares(share) -> str:
    """Class shares as "0:10% 1:11% ..."."""
    return " ".join(f"{c}:{100 * p:.0f}%" for c, p in enumerate(share))


def command_line() -> str:
    """The command that is running, as a model card records it."""
    return "stdpsim " + " ".join(sys.argv[1:])
