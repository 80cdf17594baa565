"""Downloading the four MNIST IDX files, checked against their published checksums.

``stdpsim data fetch`` puts them into the default data folder
(:func:`stdpsim.data.default_data_dir`, a user cache folder) or ``--dest``.  Mirrors are
tried in order for each file; a file counts only when its MD5 equals the published one.  A
download goes to a temporary name beside the target and is renamed only after the check, so
an interrupted or bad download never leaves a partial file under the real name.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from .data import DATA_ENV, default_data_dir
from .progress import interactive

MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
"""The published MD5 checksums of the four gzipped IDX files (LeCun, Cortes & Burges)."""

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Public mirrors of the files, tried in this order."""

TIMEOUT_S = 60
"""Seconds without data after which a mirror counts as failed."""
DEADLINE_S = 600
"""Seconds after which a file still not complete counts as failed, however slowly data
still trickles in (11 MB take seconds on any working link)."""
BLOCK = 1 << 16
"""Bytes read per chunk."""


class DownloadError(ValueError):
    """No mirror delivered a file with the published checksum."""


def md5_of(path: str | os.PathLike) -> str:
    """The hex MD5 of a file's bytes."""
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(url: str, target: Path, progress: bool) -> None:
    """``url`` into ``target`` (overwritten), with a progress bar of bytes; a
    :class:`TimeoutError` after :data:`TIMEOUT_S` without data or :data:`DEADLINE_S` in
    all."""
    deadline = time.monotonic() + DEADLINE_S
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(target, "wb") as out:
        total = response.headers.get("Content-Length")
        with tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                  desc=target.name.lstrip(".").split(".part")[0], leave=False,
                  disable=not progress, file=sys.stderr) as bar:
            # read1: what one receive brings, so that the deadline is looked at often
            for block in iter(lambda: response.read1(BLOCK), b""):
                out.write(block)
                bar.update(len(block))
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not complete after {DEADLINE_S:g} s")


def _remove_stale_parts(folder: Path) -> None:
    """Partial downloads (``.<file>.<pid>.part``) of fetches that no longer run."""
    from .runs import process_alive

    for part in folder.glob(".*.part"):
        pid = part.name.rsplit(".", 2)[-2]
        if not pid.isdigit() or not process_alive(int(pid)):
            part.unlink(missing_ok=True)


def fetch_mnist(dest: str | os.PathLike | None = None, *,
                mirrors: Sequence[str] = MIRRORS, checksums: dict[str, str] | None = None,
                progress: bool | None = None, log=print) -> Path:
    """Download the MNIST files that ``dest`` lacks (or holds with a wrong checksum).

    Parameters
    ----------
    dest
        Folder for the files [default: :func:`default_data_dir`]; made if missing.
    mirrors
        Base URLs, tried in order for each file.
    checksums
        File name -> MD5 [default: :data:`MNIST_MD5`].
    progress
        Show a progress bar per file [default: when stderr is a terminal].
    log
        Called with one line per file.

    Returns
    -------
    The folder, which then holds every file with its published checksum.

    Raises
    ------
    DownloadError
        When no mirror delivers a file with its checksum (the message lists each mirror's
        failure); files already verified stay.
    """
    folder = Path(dest).expanduser() if dest is not None else default_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    checksums = MNIST_MD5 if checksums is None else checksums
    progress = interactive() if progress is None else progress
    if not mirrors:
        raise DownloadError("no mirror to download from")
    _remove_stale_parts(folder)
    for name, md5 in checksums.items():
        target = folder / name
        if target.is_file() and md5_of(target) == md5:
            log(f"{target}: present, checksum ok")
            continue
        part = folder / f".{name}.{os.getpid()}.part"
        failures = []
        try:
            for base in mirrors:
                url = base.rstrip("/") + "/" + name
                try:
                    _download(url, part, progress)
                except (urllib.error.URLError, OSError, ValueError) as e:
                    failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
                    continue
                got = md5_of(part)
                if got != md5:
                    failures.append(f"{url}: checksum {got}, expected {md5}")
                    continue
                part.replace(target)
                log(f"{target}: downloaded from {base}, checksum ok")
                break
            else:
                raise DownloadError(
                    f"{name}: no mirror delivered it (" + "; ".join(failures) + "). Check "
                    "the connection and run 'stdpsim data fetch' again (files already "
                    "verified stay), or put the four IDX files in a folder yourself and "
                    f"point --data DIR or {DATA_ENV} at it")
        finally:
            part.unlink(missing_ok=True)
    return folder
