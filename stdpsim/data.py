"""MNIST from standard IDX files (plain or gzip), any number of images.

The folder comes from the ``--data`` option, the ``STDPSIM_DATA`` environment variable, or
else is the user cache folder that ``stdpsim data fetch`` fills (:func:`default_data_dir`).
The loader reads the image count from each file's header and checks the magic number, the
dimensions and the file length, so that a truncated or foreign file fails loudly.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from .runs import user_cache

DATA_ENV = "STDPSIM_DATA"
"""Environment variable naming the folder with the MNIST IDX files."""

IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataError(ValueError):
    """A data folder or IDX file is missing or not what it should be."""


def default_data_dir() -> Path:
    """The default MNIST folder, where ``stdpsim data fetch`` puts the files:
    ``$XDG_CACHE_HOME/stdpsim/mnist`` (``~/.cache/stdpsim/mnist`` when that is unset)."""
    return user_cache("mnist")


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The MNIST folder: ``path`` if given, else ``$STDPSIM_DATA``, else
    :func:`default_data_dir`; must exist."""
    source = "--data"
    if path is None:
        path, source = os.environ.get(DATA_ENV), f"${DATA_ENV}"
        if not path:
            path = default_data_dir()
            if not path.is_dir():
                raise DataError(f"no MNIST files: run 'stdpsim data fetch' (into {path}), or "
                                f"use --data DIR or set {DATA_ENV}")
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise DataError(f"MNIST folder {p} is a file; give the folder that holds the IDX files")
    if not p.is_dir():
        raise DataError(f"MNIST folder {p} ({source}) does not exist: point --data DIR or "
                        f"{DATA_ENV} at a folder of the IDX files, or run 'stdpsim data "
                        f"fetch' to download them into {default_data_dir()}")
    return p


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder / stem}[.gz]: file not found")


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot read ({e})") from None


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """Read one unsigned-byte IDX file, checking its magic number and length.

    Parameters
    ----------
    path
        The file (``.gz`` is decompressed).
    magic
        Expected magic number (:data:`IMAGES_MAGIC` or :data:`LABELS_MAGIC`).

    Returns
    -------
    numpy.ndarray
        uint8, shape given by the header (e.g. (n, 28, 28) or (n,)).
    """
    path = Path(path)
    raw = _read_bytes(path)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise DataError(f"{path}: magic number 0x{found:08x}, expected 0x{magic:08x} "
                        f"(unsigned-byte IDX with {ndim} dimension(s))")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{path}: {len(raw)} bytes, header {shape} needs {expected} "
                        "(truncated or corrupt)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(split: str = "train", path: str | os.PathLike | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST split.

    Parameters
    ----------
    split
        ``"train"`` or ``"test"``.
    path
        Folder of the IDX files (default: ``$STDPSIM_DATA``).

    Returns
    -------
    images, labels
        float32 (n, 784) in [0, 1]; uint8 (n,) in 0..9.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: choose 'train' or 'test'")
    folder = data_dir(path)
    img_stem, lab_stem = SPLITS[split]
    img_file = _find(folder, img_stem)
    images = read_idx(img_file, IMAGES_MAGIC)
    lab_file = _find(folder, lab_stem)
    labels = read_idx(lab_file, LABELS_MAGIC)
    if images.shape[0] == 0:
        raise DataError(f"{img_file}: holds no images")
    if images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{img_file}: images of {images.shape[1]} × {images.shape[2]} "
                        f"pixels, expected MNIST's {IMAGE_SHAPE[0]} × {IMAGE_SHAPE[1]}")
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{img_file} has {images.shape[0]} images but {lab_file} has "
                        f"{labels.shape[0]} labels")
    if labels.size and labels.max() > 9:
        raise DataError(f"{lab_file}: label {labels.max()} outside 0..9")
    x = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0)
    return x, labels.copy()


IMAGE_SHAPE = (28, 28)
"""Rows × columns of an MNIST image (flattened row by row to 784 pixels)."""

HALVES = ("left", "right", "top", "bottom")


def half_mask(side: str) -> np.ndarray:
    """Boolean mask of shape (784,), True on the ``side`` half of the image (left, right,
    top or bottom): the pixels an in-painting experiment hides."""
    if side not in HALVES:
        raise ValueError(f"unknown half {side!r}; choose from {', '.join(HALVES)}")
    rows, cols = np.indices(IMAGE_SHAPE)
    half_r, half_c = IMAGE_SHAPE[0] // 2, IMAGE_SHAPE[1] // 2
    mask = {"left": cols < half_c, "right": cols >= half_c,
            "top": rows < half_r, "bottom": rows >= half_r}[side]
    return mask.reshape(-1)
