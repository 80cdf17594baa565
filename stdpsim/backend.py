"""Brian2 code-generation back-ends: choosing one, building once, running many times.

Three targets are supported:

``cpp_standalone``
    The whole network becomes one C++ program.  The default wherever a C++ compiler works.
``cython``
    Brian2's runtime mode with Cython-compiled code objects.
``numpy``
    Brian2's runtime mode in pure numpy; slow, but needs no compiler (the fallback).

Standalone builds are cached and run through :mod:`stdpsim.standalone` (one build per
network, a binary run many times; :func:`session` keeps one network's generated code for
repeated runs in one process).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import standalone
from .runs import user_cache, write_probe
from .standalone import REPORT_PERIOD_S, Session, owned

DEVICES: tuple[str, ...] = ("cpp_standalone", "cython", "numpy")
"""The Brian2 targets stdpsim can run on, fastest first."""

CACHE_ENV = "STDPSIM_CACHE"
"""Environment variable overriding the cache folder (default :func:`stdpsim.runs.user_cache`)."""

class BackendError(ValueError):
    """A back-end was asked for that does not exist or cannot run here."""


@dataclasses.dataclass
class Simulation:
    """What a network builder hands to :func:`simulate`.

    Attributes
    ----------
    objects
        The Brian2 objects to put in the network.
    inputs
        Name -> Brian2 ``VariableView`` (e.g. ``group.s``) or ``TimedArray`` for every value
        set per run (the arrays built into the network are placeholders).
    collect
        Called after the run; returns the results as plain numpy arrays.
    """

    objects: Sequence[Any]
    inputs: Mapping[str, Any]
    collect: Callable[[], dict[str, np.ndarray]]


@dataclasses.dataclass
class RunInfo:
    """How a call to :func:`simulate` went (all times in seconds of wall clock)."""

    device: str
    wall_s: float
    build_s: float
    run_s: float
    cached: bool
    build_dir: str | None = None
    compile_s: float = 0.0
    """Of ``build_s``, the C++ compilation alone: 0 when a cached build was reused."""


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The stdpsim cache folder: ``path``, else ``$STDPSIM_CACHE``, else
    :func:`stdpsim.runs.user_cache` (``$XDG_CACHE_HOME/stdpsim``, ``~/.cache/stdpsim``)."""
    source = "--cache" if path is not None else f"${CACHE_ENV}" if os.environ.get(
        CACHE_ENV) else "the default cache"
    if path is None:
        path = os.environ.get(CACHE_ENV) or user_cache()
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise BackendError(f"cache folder {p} ({source}) is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
        write_probe(p)
    except OSError as e:
        raise BackendError(f"cache folder {p} ({source}) cannot be written "
                           f"({e.strerror or e})") from None
    return p


@functools.lru_cache(maxsize=None)
def cxx_compiler_works() -> bool:
    """Whether a C++ compiler can build a trivial program here (checked once per process)."""
    compiler = os.environ.get("CXX", "c++")
    if shutil.which(compiler) is None:
        return False
    with tempfile.TemporaryDirectory(prefix="stdpsim_cxx_") as tmp:
        src = Path(tmp) / "t.cpp"
        src.write_text("#include <vector>\nint main(){std::vector<int> v(1); return v[0];}\n")
        try:
            proc = subprocess.run(
                [compiler, str(src), "-o", str(Path(tmp) / "t")],
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return proc.returncode == 0


def check_device_name(name: str | None) -> None:
    """A one-line error for a device name that is not one of :data:`DEVICES` or
    ``"auto"`` (checked before any work; whether it runs here is :func:`resolve_device`'s
    question)."""
    if name not in (None, "auto", *DEVICES):
        raise BackendError(
            f"unknown device {name!r}: choose one of {', '.join(DEVICES)} or 'auto'"
        )


def resolve_device(name: str | None = "auto") -> str:
    """Validate a device name; ``"auto"``/``None`` picks the fastest one that works here.

    Raises
    ------
    BackendError
        For an unknown name, or for a compiled target without a working C++ compiler.
    """
    if name in (None, "auto"):
        if cxx_compiler_works():
            return "cpp_standalone"
        warnings.warn(
            "No working C++ compiler found: falling back to Brian2's pure-numpy target "
            "(much slower). Install g++ to use cpp_standalone.",
            RuntimeWarning,
            stacklevel=2,
        )
        return "numpy"
    check_device_name(name)
    if name != "numpy" and not cxx_compiler_works():
        raise BackendError(f"device {name!r} needs a working C++ compiler (none found)")
    return name




def _run_runtime(
    build_fn: Callable[[], Simulation],
    values: Mapping[str, Any],
    duration: Any,
    dt: Any,
    seed: int,
    target: str,
    cache: Path,
    progress: bool,
) -> tuple[dict[str, np.ndarray], RunInfo]:
    import brian2 as b2

    t0 = time.perf_counter()
    b2.set_device("runtime")
    b2.prefs.codegen.target = target
    if target == "cython":
        b2.prefs.codegen.runtime.cython.cache_dir = str(cache / "cython")
        b2.prefs.codegen.runtime.cython.multiprocess_safe = True
    b2.defaultclock.dt = dt
    b2.seed(int(seed))
    sim = build_fn()
    _check_inputs(sim, values)
    for name, value in values.items():
        slot = sim.inputs[name]  # not ``target``: that names the device in the RunInfo below
        if isinstance(slot, b2.TimedArray):
            # the runtime code reads this very array when the network is run
            slot.values[...] = np.asarray(value, dtype=np.float64).reshape(slot.values.shape)
        else:
            slot[:] = value
    net = b2.Network(*sim.objects)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    net.run(duration, namespace={}, report="stdout" if progress else None,
            report_period=REPORT_PERIOD_S * b2.second)
    results = owned(sim.collect())
    run_s = time.perf_counter() - t1
    return results, RunInfo(target, time.perf_counter() - t0, build_s, run_s, cached=False)


def _check_inputs(sim: Simulation, values: Mapping[str, Any]) -> None:
    missing = set(values) - set(sim.inputs)
    if missing:
        raise ValueError(f"values given for unknown inputs: {sorted(missing)}")


def simulate(
    build: Callable[[], Simulation],
    values: Mapping[str, Any],
    duration: Any,
    *,
    device: str | None = "auto",
    dt: Any = None,
    seed: int = 0,
    cache: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> tuple[dict[str, np.ndarray], RunInfo]:
    """Build a network with ``build()`` and run it for ``duration`` on ``device``.

    Parameters
    ----------
    build
        Creates the Brian2 objects (inside the chosen device) and returns a
        :class:`Simulation`.  It must give the same network every time it is called:
        everything that varies between runs goes through ``values``.
    values
        Name -> array (with Brian2 units) for each entry of ``Simulation.inputs``.
    duration, dt
        Brian2 quantities (time).  ``dt`` defaults to 0.1 ms.
    device
        One of :data:`DEVICES` or ``"auto"``.
    seed
        Seed of the random number generators (noise); results are reproducible per seed.
    cache
        Cache folder (see :func:`cache_dir`).
    progress
        Print Brian2's progress report (simulated time, share done, time remaining) every
        :data:`REPORT_PERIOD_S` seconds to stdout [default: when stdout is a terminal].

    Returns
    -------
    results, info
        What ``Simulation.collect`` returned, and timings.
    """
    import brian2 as b2

    device = resolve_device(device)
    # Brian2 names objects uniquely among those still alive ("post", then "post_1", ...);
    # the previous run's objects sit in reference cycles, and a renamed object would change
    # the generated code and with it the build hash.  Collect them first.
    gc.collect()
    if dt is None:
        dt = 0.1 * b2.ms
    if float(duration) <= 0 or float(dt) <= 0:
        raise ValueError("duration and dt must be positive")
    cache_path = cache_dir(cache)
    progress = sys.stdout.isatty() if progress is None else progress
    if device == "cpp_standalone":
        results, timings = standalone.run(build, values, duration, dt, seed, cache_path,
                                          progress, check=lambda sim: _check_inputs(sim, values))
        return results, RunInfo("cpp_standalone", **timings)
    return _run_runtime(build, values, duration, dt, seed, device, cache_path, progress)


def session(build: Callable[[], Simulation], duration: Any, *, dt: Any = None,
            cache: str | os.PathLike | None = None) -> Session:
    """A :class:`stdpsim.standalone.Session` of the network ``build()`` makes: its code is
    generated (and compiled, unless cached) once; ``session.run(values, seed)`` then runs
    the binary with new inputs (:func:`simulate`'s ``values``) as often as asked, each run
    giving what :func:`simulate` would.  Needs a C++ compiler; use it as a context
    manager."""
    import brian2 as b2

    resolve_device("cpp_standalone")
    gc.collect()  # as in simulate: stale objects would rename this network's
    return Session(build, duration, 0.1 * b2.ms if dt is None else dt, cache_dir(cache),
                   check=lambda sim: None)
