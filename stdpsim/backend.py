"""Brian2 code-generation back-ends: choosing one, building once, running many times.

Three targets are supported:

``cpp_standalone``
    The whole network becomes one C++ program.  The default wherever a C++ compiler works.
``cython``
    Brian2's runtime mode with Cython-compiled code objects.
``numpy``
    Brian2's runtime mode in pure numpy; slow, but needs no compiler (the fallback).

Standalone builds are cached.  The generated project is written to a private temporary
folder first; its files are hashed and the build lives in ``<cache>/standalone/<hash>``, so
two different networks never share a folder, and two identical ones share one binary.
Building takes an exclusive ``flock`` on the folder, running takes a shared one, and every
run writes its results to a folder of its own that is deleted once its arrays are read.
Everything that varies between runs of one build (per-neuron parameters, initial values,
the random seed) is passed at start-up (Brian2's ``run_args`` and an environment variable),
never compiled in.  While a binary runs, SIGTERM to the Python process (``kill PID``, a job
scheduler's time limit) stops the binary too instead of leaving it running on its own; on
Linux the binary also ends when its Python process is killed with SIGKILL (the kernel's
parent-death signal), and the next run removes the results folders such runs leave.  The
generated ``main.cpp`` is made canonical before hashing (Brian2 writes some lines in a set's
order), so the same network gets the same build in every process, and compilation runs at
most one ``make`` job per usable core (:func:`make_jobs`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import gc
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .runs import process_alive, write_probe
from .threads import usable_cores

DEVICES: tuple[str, ...] = ("cpp_standalone", "cython", "numpy")
"""The Brian2 targets stdpsim can run on, fastest first."""

CACHE_ENV = "STDPSIM_CACHE"
"""Environment variable overriding the cache folder (default ``~/.cache/stdpsim``)."""

SEED_ENV = "STDPSIM_SEED"
"""Environment variable through which a standalone binary receives its random seed."""

_BUILD_MARKER = "stdpsim_build_ok"

# Brian2 writes the lines that reset each clock (``_array_<clock>_timestep[0] = 0;`` and
# ``_array_<clock>_t[0] = 0.0;``) in the order of a set, which changes from process to
# process.  They are independent assignments, so sorting each run of them gives one canonical
# main.cpp and with it a build hash that is the same for the same network.
_CLOCK_RESET_LINE = re.compile(r"^\s*_array_\w+_(timestep|t)\[0\] = 0(\.0)?;\s*$")

# C++ inserted at the start of ``main``: reseed Brian2's generators from the environment,
# so that one compiled binary serves every seed.
_SEED_FROM_ENV_CPP = f"""
{{
    const char* _stdpsim_seed = std::getenv("{SEED_ENV}");
    if (_stdpsim_seed != NULL) {{
        const unsigned long _seed = std::strtoul(_stdpsim_seed, NULL, 10);
        for (size_t _i = 0; _i < brian::_random_generators.size(); _i++)
            brian::_random_generators[_i].seed(_seed + _i);
    }}
}}
"""


PARENT_ENV = "STDPSIM_PARENT_PID"
"""Environment variable through which a standalone binary learns which process started it."""

# C++ inserted at the start of ``main`` (Linux): ask the kernel to SIGKILL this binary when
# the Python process that started it dies, even by SIGKILL (which Python cannot catch to stop
# its child), and end at once if that process died before the request was made.
_DIE_WITH_PARENT_CPP = f"""
#ifdef __linux__
{{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char* _stdpsim_parent = std::getenv("{PARENT_ENV}");
    if (_stdpsim_parent != NULL && (long)getppid() != std::strtol(_stdpsim_parent, NULL, 10))
        return 1;
}}
#endif
"""
_DIE_WITH_PARENT_HEADERS = ["<sys/prctl.h>", "<unistd.h>"] if sys.platform == "linux" else []


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
    """The stdpsim cache folder: ``path``, else ``$STDPSIM_CACHE``, else ``~/.cache/stdpsim``."""
    source = "--cache" if path is not None else f"${CACHE_ENV}" if os.environ.get(
        CACHE_ENV) else "the default cache"
    if path is None:
        path = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "stdpsim"
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
    if name not in DEVICES:
        raise BackendError(
            f"unknown device {name!r}: choose one of {', '.join(DEVICES)} or 'auto'"
        )
    if name != "numpy" and not cxx_compiler_works():
        raise BackendError(f"device {name!r} needs a working C++ compiler (none found)")
    return name


@contextlib.contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    with open(path, "a+") as fh:
        fcntl.flock(fh, mode)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Terminated(SystemExit):
    """Raised in place of Python's default exit on SIGTERM while a standalone binary runs."""


@contextlib.contextmanager
def _sigterm_stops_child() -> Iterator[None]:
    """Turn SIGTERM into an exception for the duration of the block.

    Python's default SIGTERM action ends the process at once, leaving a standalone binary
    started with ``subprocess.call`` running as an orphan.  As an exception it unwinds through
    ``subprocess.call``, which kills and reaps its child.  Only the main thread may install
    signal handlers; elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _canonical_main(path: Path) -> None:
    """Sort every run of consecutive clock-reset lines in Brian2's generated ``main.cpp``."""
    lines = path.read_text().splitlines(keepends=True)
    out: list[str] = []
    block: list[str] = []
    for line in lines + [""]:
        if line and _CLOCK_RESET_LINE.match(line):
            block.append(line)
            continue
        out.extend(sorted(block))
        block = []
        out.append(line)
    path.write_text("".join(out))


def make_jobs() -> int:
    """Compiler processes a standalone build may run at once: the cores this process may use."""
    return usable_cores()


def _hash_tree(root: Path) -> str:
    """SHA-256 over every file's relative path and content below ``root``."""
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:20]


def _remove_orphaned_results(root: Path) -> None:
    """Delete the results folders (``<build>/results_<pid>_<tag>``) of runs whose process no
    longer exists, in every build below ``root``: a run killed with SIGKILL cannot clean up
    after itself.

    Other processes work in ``root`` at the same time (parallel sweeps): their staging
    folders (``gen_*``) are skipped, and a folder renamed or removed while it is being looked
    at is passed over, not an error."""
    try:
        builds = [e.path for e in os.scandir(root)
                  if not e.name.startswith("gen_") and e.is_dir()]
    except FileNotFoundError:
        return
    for build in builds:
        try:
            entries = [e for e in os.scandir(build) if e.name.startswith("results_")]
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            parts = entry.name.split("_")
            pid = parts[1] if len(parts) >= 3 else ""
            if not pid.isdigit() or not process_alive(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)


def _prune_run_args(build: Path) -> None:
    """Delete run_args value files once no process is using ``build``."""
    with open(build / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another run is in progress; it (or a later run) will prune
        try:
            for f in (build / "static_arrays").glob("init_*.dat*"):
                f.unlink(missing_ok=True)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


REPORT_PERIOD_S = 10.0
"""Seconds of wall time between two progress lines of a running simulation (Brian2's
``report``: simulated time, share done, estimated time remaining)."""


def _run_standalone(
    build_fn: Callable[[], Simulation],
    values: Mapping[str, Any],
    duration: Any,
    dt: Any,
    seed: int,
    cache: Path,
    progress: bool,
) -> tuple[dict[str, np.ndarray], RunInfo]:
    import brian2 as b2

    t0 = time.perf_counter()
    b2.set_device("cpp_standalone", build_on_run=False)
    dev = b2.get_device()
    dev.reinit()
    dev.activate(build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # serial: processes parallelise
    headers = list(b2.prefs.codegen.cpp.headers)
    b2.prefs.codegen.cpp.headers = headers + [h for h in _DIE_WITH_PARENT_HEADERS
                                              if h not in headers]
    # Brian2's default is a bare ``make -j``: dozens of compilers at once on a small machine
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{make_jobs()}"]
    try:
        b2.defaultclock.dt = dt
        # before the build: random initial values that the build sets (``v = "randn()"``)
        # are drawn after the reseeding, so they follow the seed too
        dev.insert_code("main", _DIE_WITH_PARENT_CPP)
        dev.insert_code("main", _SEED_FROM_ENV_CPP)
        sim = build_fn()
        _check_inputs(sim, values)
        net = b2.Network(*sim.objects)
        # the progress report is always compiled in (one build for both cases) and written
        # to the binary's stdout, which is shown only with ``progress``
        net.run(duration, namespace={}, report="stdout",
                report_period=REPORT_PERIOD_S * b2.second)

        root = cache / "standalone"
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="gen_", dir=root))
        try:
            dev.build(directory=str(staging), compile=False, run=False)
            # the empty results folder Brian2 creates is not part of the build
            shutil.rmtree(staging / "results", ignore_errors=True)
            _canonical_main(staging / "main.cpp")
            key = _hash_tree(staging)
            build = root / key
            with _flock(root / f"{key}.lock", fcntl.LOCK_EX):
                cached = (build / _BUILD_MARKER).exists()
                compile_s = 0.0
                if not cached:
                    t_compile = time.perf_counter()
                    shutil.rmtree(build, ignore_errors=True)
                    staging.rename(build)
                    staging = None
                    dev.compile_source(str(build), "gcc", debug=False, clean=False)
                    for obj in build.rglob("*.o"):  # keep the binary, drop the objects
                        obj.unlink()
                    (build / _BUILD_MARKER).write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
                    compile_s = time.perf_counter() - t_compile
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        build_s = time.perf_counter() - t0

        dev.project_dir = str(build)
        run_args = {sim.inputs[name]: value for name, value in values.items()}
        results_name = f"results_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        t1 = time.perf_counter()
        os.environ[SEED_ENV] = str(int(seed))
        os.environ[PARENT_ENV] = str(os.getpid())
        _remove_orphaned_results(root)
        try:
            with _flock(build / ".lock", fcntl.LOCK_SH), _sigterm_stops_child():
                dev.run(
                    directory=str(build),
                    results_directory=results_name,
                    with_output=progress,
                    run_args=run_args,
                )
                results = _owned(sim.collect())
        finally:
            os.environ.pop(SEED_ENV, None)
            os.environ.pop(PARENT_ENV, None)
            shutil.rmtree(build / results_name, ignore_errors=True)
        run_s = time.perf_counter() - t1
        _prune_run_args(build)
        info = RunInfo("cpp_standalone", time.perf_counter() - t0, build_s, run_s, cached,
                       str(build), compile_s)
        return results, info
    finally:
        b2.prefs.codegen.cpp.headers = headers
        dev.reinit()
        b2.set_device("runtime")


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
    results = _owned(sim.collect())
    run_s = time.perf_counter() - t1
    return results, RunInfo(target, time.perf_counter() - t0, build_s, run_s, cached=False)


def _owned(results: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Copies of the collected arrays.  Brian2 (2.10 and later) can hand out views of its
    monitors' buffers, which are freed with the network; a copy outlives it."""
    return {k: np.array(v, copy=True) for k, v in results.items()}


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
        return _run_standalone(build, values, duration, dt, seed, cache_path, progress)
    return _run_runtime(build, values, duration, dt, seed, device, cache_path, progress)
