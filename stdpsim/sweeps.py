"""Embarrassingly parallel sweeps on dask.distributed, each grid point cached as its own file.

:func:`run_grid` calls ``fn(point)`` for every point of a grid that has no result file yet,
on a :class:`dask.distributed.LocalCluster` with one single-threaded worker process per core
(the default), on a cluster the user already runs (``scheduler="tcp://host:8786"``), or in
this process, one point after another (``scheduler="serial"``: no dask, for debugging).
Every result is written as ``<cache>/<name>.json`` (atomically) as soon as it arrives, so a
stopped sweep, started again, computes only the points that are missing.  A point's file
name comes from its values (readable, with a hash of the whole point), so changing the grid
reuses every point it still contains.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from . import errors
from .progress import interactive
from .runs import RunFileError, read_json, write_json
from .threads import usable_cores

SERIAL = "serial"
"""``scheduler`` value that runs the points in this process, without dask."""


def _short(value: Any) -> bool:
    """Whether a value goes into a point's readable name: numbers and short words, not paths
    or None."""
    if isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and len(value) <= 12 and re.fullmatch(r"[\w.+-]+", value)


def add_arguments(parser: argparse.ArgumentParser, what: str = "the points") -> None:
    """``--scheduler`` and ``--workers``, the options of :func:`run_grid`, for a script's
    argument parser (``what`` names the work in the help)."""
    parser.add_argument("--scheduler", default=None,
                        help=f"dask scheduler address for {what} [default: a LocalCluster, "
                             f"one worker per core]; '{SERIAL}' runs them here, one after "
                             "another")
    parser.add_argument("--workers", type=errors.count, default=None,
                        help="LocalCluster workers [default: the usable cores]")


def point_name(point: Mapping[str, Any]) -> str:
    """The file name stem of a grid point: its numbers and short words (``key-value`` pairs,
    in key order; paths and long strings left out) and the first 10 hex digits of a SHA-256
    of the whole point's JSON, which tells apart points whose readable part is the same."""
    text = json.dumps(point, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    readable = "_".join(f"{k}-{point[k]}" for k in sorted(point) if _short(point[k]))
    readable = re.sub(r"[^A-Za-z0-9.+_-]+", "", readable)[:100]
    return f"{readable}_{digest}" if readable else digest


def _saved(path: Path) -> dict[str, Any] | None:
    """A point file's contents; None when it is missing or not a readable JSON object (a
    file cut short by a full disk or a crash is computed again, not an error)."""
    try:
        saved = read_json(path)
    except (RunFileError, OSError, UnicodeDecodeError):
        return None
    return saved if isinstance(saved, dict) else None


def run_grid(fn: Callable[[dict[str, Any]], dict[str, Any]],
             points: Sequence[Mapping[str, Any]], cache: str | os.PathLike, *,
             scheduler: str | None = None, n_workers: int | None = None,
             progress: bool | None = None, log: Callable[[str], None] | None = None
             ) -> list[dict[str, Any]]:
    """``fn(point)`` for every point, in parallel, reusing the cached results.

    Parameters
    ----------
    fn
        A picklable function of one point (a dict of JSON values) returning a JSON-able dict;
        it runs in a worker process, so it loads what it needs itself.
    points
        The grid.
    cache
        Folder of the result files (made if missing); one ``<point_name>.json`` per point,
        holding ``{"point": ..., "result": ...}``.
    scheduler
        ``None``: a new LocalCluster with ``n_workers`` single-threaded worker processes
        (default: the usable cores); ``"serial"``: this process, no dask; else the address of
        a running dask scheduler.
    progress
        A bar over the points [default: when stderr is a terminal].
    log
        Called with one line per finished point (e.g. ``print``).

    Returns
    -------
    The results in the order of ``points``.
    """
    folder = Path(cache)
    folder.mkdir(parents=True, exist_ok=True)
    points = [dict(p) for p in points]
    names = [point_name(p) for p in points]
    if len(set(names)) != len(names):
        raise ValueError("the grid holds the same point twice")
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for name, point in zip(names, points):
        saved = _saved(folder / f"{name}.json")
        if (saved is not None and saved.get("point") == json.loads(json.dumps(point, default=str))
                and isinstance(saved.get("result"), dict)):
            results[name] = saved["result"]
            continue
        todo.append((name, point))  # missing, another point's, or damaged: computed again
    progress = interactive() if progress is None else progress
    bar = tqdm(total=len(points), initial=len(points) - len(todo), unit="point",
               desc="sweep", disable=not progress, file=sys.stderr)

    def finish(name: str, point: dict[str, Any], result: dict[str, Any]) -> None:
        write_json(folder / f"{name}.json", {"point": point, "result": result})
        results[name] = result
        bar.update()
        if log is not None:
            log(f"{name}: done")

    try:
        if todo and scheduler == SERIAL:
            for name, point in todo:
                finish(name, point, fn(point))
        elif todo:
            _run_dask(fn, todo, scheduler, n_workers, finish)
    finally:
        bar.close()
    return [results[name] for name in names]


@contextlib.contextmanager
def open_client(scheduler: str | None = None, n_workers: int | None = None,
                timeout_s: float = 10.0) -> Iterator[Any]:
    """A :class:`dask.distributed.Client`: of a new LocalCluster with ``n_workers``
    single-threaded worker processes (default: the usable cores) when ``scheduler`` is
    None, else of the running scheduler at that address (an error naming it when it does
    not answer within ``timeout_s``).  Closed (and the LocalCluster with it) on exit."""
    import dask
    from dask.distributed import Client, LocalCluster

    from .backend import cache_dir

    if n_workers is not None and n_workers < 1:
        raise ValueError(f"--workers must be at least 1, got {n_workers}")
    cluster = None
    if scheduler is None:
        # the workers' scratch space goes into the cache, not the temporary folder (dask
        # clears it when they close, and stale parts of killed runs at the next start)
        scratch = str(cache_dir() / "dask")
        dask.config.set({"temporary-directory": scratch})  # the scheduler's and the client's
        cluster = LocalCluster(n_workers=n_workers or usable_cores(), threads_per_worker=1,
                               processes=True, local_directory=scratch,
                               # its HTTP server on a free port: with the default (8787)
                               # every cluster after the first warns that it is in use
                               dashboard_address=":0")
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError, ValueError) as e:
            raise ValueError(f"--scheduler {scheduler}: no dask scheduler answers there "
                             f"within {timeout_s:g} s ({type(e).__name__})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_dask(fn, todo, scheduler: str | None, n_workers: int | None, finish) -> None:
    """The missing points on dask.distributed; each result is handed to ``finish`` in this
    process as it arrives."""
    from dask.distributed import as_completed

    with open_client(scheduler, n_workers) as client:
        futures = {client.submit(fn, point, key=f"{name}-{os.getpid()}", pure=False):
                   (name, point) for name, point in todo}
        for future in as_completed(futures):
            name, point = futures[future]
            finish(name, point, future.result())
