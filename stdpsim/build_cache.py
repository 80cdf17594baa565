"""A size bound on the cache of compiled standalone builds, least recently used first.

Every network setting compiled in (sizes, equations, what is recorded) is a build of its
own, 16–60 MB each, in ``<cache>/standalone/<hash>/`` (:mod:`stdpsim.standalone`).  Each
use of a build touches its marker file, so the marker's time is the build's last use.  After
every new build, and on ``stdpsim cache --prune``, :func:`prune` deletes:

* half builds: a folder without the marker that nobody is building (a compile that was
  killed), and staging folders (``gen_*``) older than an hour;
* then whole builds, least recently used first, until the builds take at most the bound:
  ``$STDPSIM_CACHE_MB`` megabytes (default :data:`DEFAULT_LIMIT_MB`).

A build is never deleted while it is built (its ``<hash>.lock`` is held) or used: every
open :class:`stdpsim.standalone.Session` holds a shared lock on its ``.inuse`` file, and the
build just made or used is kept whatever the bound.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

LIMIT_ENV = "STDPSIM_CACHE_MB"
"""Environment variable: the builds' size bound in megabytes."""
DEFAULT_LIMIT_MB = 2000.0
"""The default bound: about 40–100 builds."""
MARKER = "stdpsim_build_ok"
"""The file that marks a finished build; its modification time is the build's last use."""
IN_USE = ".inuse"
"""A build's lock file that open sessions hold shared."""
STAGING_MAX_AGE_S = 3600.0
"""Staging folders older than this are leftovers of a killed code generation."""


def limit_bytes() -> int:
    """The bound from ``$STDPSIM_CACHE_MB`` (a positive number), else the default."""
    text = os.environ.get(LIMIT_ENV, "")
    try:
        mb = float(text) if text else DEFAULT_LIMIT_MB
    except ValueError:
        raise ValueError(f"${LIMIT_ENV} must be a number of megabytes, got {text!r}") from None
    if not mb > 0 or mb == float("inf"):
        raise ValueError(f"${LIMIT_ENV} must be a positive number of megabytes, got {text!r}")
    return int(mb * 1e6)


def touch(build: Path) -> None:
    """Record a use of ``build`` (its marker's time)."""
    with contextlib.suppress(OSError):
        os.utime(build / MARKER)


def folder_bytes(folder: Path) -> int:
    """The size of the files below ``folder``."""
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


@contextlib.contextmanager
def exclusive_if_free(path: Path) -> Iterator[bool]:
    """An exclusive lock on the file ``path`` if nobody holds one, without waiting (yields
    whether it was got; released on exit)."""
    try:
        fh = open(path, "a+")  # noqa: SIM115
    except OSError:
        yield False
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _delete_if_idle(build: Path) -> bool:
    """Delete ``build`` unless it is being built or used; whether it was deleted."""
    with exclusive_if_free(build.parent / f"{build.name}.lock") as not_building:
        if not not_building:
            return False
        with exclusive_if_free(build / IN_USE) as not_used:
            if not not_used:
                return False
            shutil.rmtree(build, ignore_errors=True)
    with contextlib.suppress(OSError):
        (build.parent / f"{build.name}.lock").unlink()
    return True


@dataclasses.dataclass
class Pruned:
    """What :func:`prune` did."""

    removed: list[str]
    freed_bytes: int
    kept_bytes: int


def prune(root: Path, limit: int | None = None, keep: Path | None = None) -> Pruned:
    """Prune the builds below ``root`` (``<cache>/standalone``) to ``limit`` bytes
    (default :func:`limit_bytes`), keeping ``keep`` (the build just used)."""
    limit = limit_bytes() if limit is None else limit
    removed, freed = [], 0
    builds = []
    entries = sorted(root.iterdir()) if root.is_dir() else []
    now = time.time()
    for entry in entries:
        if not entry.is_dir() or entry == keep:
            continue
        size = folder_bytes(entry)
        if entry.name.startswith("gen_"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > STAGING_MAX_AGE_S:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry.name)
                    freed += size
            continue
        marker = entry / MARKER
        if not marker.exists():  # a half build, unless it is being built right now
            if _delete_if_idle(entry):
                removed.append(entry.name)
                freed += size
            continue
        builds.append((marker.stat().st_mtime, size, entry))
    total = sum(size for _, size, _ in builds) + (folder_bytes(keep) if keep else 0)
    for _, size, entry in sorted(builds, key=lambda b: b[0]):  # least recently used first
        if total <= limit:
            break
        if _delete_if_idle(entry):
            removed.append(entry.name)
            freed += size
            total -= size
    return Pruned(removed, freed, total)
