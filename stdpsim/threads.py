"""Element-wise numpy work split over the cores.

numpy's matrix products (BLAS) use every core, but its element-wise functions (``exp``,
``log1p``, ``tanh``, the optimiser's arithmetic) run on one.  In rate-model training the
element-wise work on the (784, 1000) weights, in the optimiser, is large enough to be worth
splitting, so :func:`over_rows` hands blocks of rows to a small thread pool (numpy releases the
GIL inside its loops).  Every element still goes through the same operations, so
the results do not depend on the number of threads.

``STDPSIM_THREADS`` sets the number of threads (default: the cores this process may use;
1 turns the splitting off).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

THREADS_ENV = "STDPSIM_THREADS"
"""Environment variable with the number of threads for element-wise work."""

MIN_ELEMENTS_PER_THREAD = 131_072
"""Arrays are split only into blocks of at least this many elements.  A hand-off to a waiting
thread costs more than 100 µs on these (virtual) machines, more than splitting a layer's
(100, 1000) activation saves: measured in training steps, splitting those arrays made a step
5 ms slower (65.5 against 60.3 ms, best of 10 × 40 steps), so only the optimiser's
weight-sized arrays are split."""

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_workers = 0


def n_threads() -> int:
    """Threads for element-wise work: ``$STDPSIM_THREADS``, else the usable cores."""
    value = os.environ.get(THREADS_ENV)
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}") from None
        if n < 1:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}")
        return n
    return usable_cores()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; all cores where that is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared pool (a new one after a fork: the parent's threads do not exist there)."""
    global _pool, _pool_pid, _pool_workers
    with _lock:
        if _pool is None or _pool_pid != os.getpid() or _pool_workers < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stdpsim")
            _pool_pid, _pool_workers = os.getpid(), workers
        return _pool


def over_rows(fn: Callable[..., object], *arrays: np.ndarray) -> None:
    """Call ``fn(*blocks)`` on blocks of rows of ``arrays``, in parallel threads.

    Parameters
    ----------
    fn
        Works in place on its arguments (its return value is ignored) and treats every row
        independently of the others.
    arrays
        Arrays with the same first axis; the blocks are views of the same rows of each.
    """
    n_rows = arrays[0].shape[0]
    if any(a.shape[:1] != (n_rows,) for a in arrays):
        raise ValueError("over_rows needs arrays with the same number of rows, got shapes "
                         f"{[a.shape for a in arrays]}")
    k = min(n_threads(), n_rows, arrays[0].size // MIN_ELEMENTS_PER_THREAD)
    if k <= 1:
        fn(*arrays)
        return
    bounds = np.linspace(0, n_rows, k + 1).astype(int)
    pool = _executor(k - 1)
    futures = [pool.submit(fn, *(a[lo:hi] for a in arrays))
               for lo, hi in zip(bounds[1:-1], bounds[2:])]
    try:
        fn(*(a[:bounds[1]] for a in arrays))
    finally:
        for f in futures:
            f.result()
