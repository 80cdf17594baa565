"""Brian2's C++ standalone target: building a network once, running its binary many times.

The generated project is written to a private temporary folder first; its files are hashed
and the build lives in ``<cache>/standalone/<hash>``, so two different networks never share a
folder, and two identical ones share one binary.  Building takes an exclusive ``flock`` on
the folder, running takes a shared one, and every run writes its results to a folder of its
own that is deleted once its arrays are read.  Everything that varies between runs of one
build (per-neuron parameters, initial values, the random seed) is passed at start-up
(Brian2's ``run_args`` and an environment variable), never compiled in.  While a binary
runs, SIGTERM to the Python process (``kill PID``, a job scheduler's time limit) stops the
binary too instead of leaving it running on its own; on Linux the binary also ends when its
Python process is killed with SIGKILL (the kernel's parent-death signal), and the next run
removes the results folders such runs leave.  The generated ``main.cpp`` is made canonical
before hashing (Brian2 writes some lines in a set's order), so the same network gets the
same build in every process, and compilation runs at most one ``make`` job per usable core
(:func:`make_jobs`).

:func:`run` generates the network's code, finds or compiles its build and runs it once.
Generating the code takes about a second for the MNIST networks; a :class:`Session` does it
once and then runs the binary as often as asked with new inputs and seeds (the spiking
learner's minibatches, on each data-parallel worker).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import build_cache, compile_guard
from .runs import process_alive
from .threads import usable_cores

SEED_ENV = "STDPSIM_SEED"
"""Environment variable through which a standalone binary receives its random seed."""

_BUILD_MARKER = build_cache.MARKER

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
    with build_cache.exclusive_if_free(build / ".lock") as free:
        if free:  # else another run is in progress; it (or a later run) will prune
            for f in (build / "static_arrays").glob("init_*.dat*"):
                f.unlink(missing_ok=True)


REPORT_PERIOD_S = 10.0
"""Seconds of wall time between two progress lines of a running simulation (Brian2's
``report``: simulated time, share done, estimated time remaining)."""



def _start_device(dt: Any) -> tuple[Any, list[str]]:
    """Brian2's standalone device, reset and set up for one build (serial binary, the
    seed and parent-death code inserted first, at most :func:`make_jobs` compilers);
    returns it and the headers preference to restore."""
    import brian2 as b2

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
    # and make goes on when this process is killed: run it under a guard that ends it then
    b2.prefs.devices.cpp_standalone.make_cmd_unix = compile_guard.command(os.getpid())
    b2.defaultclock.dt = dt
    # before the build: random initial values that the build sets (``v = "randn()"``)
    # are drawn after the reseeding, so they follow the seed too
    dev.insert_code("main", _DIE_WITH_PARENT_CPP)
    dev.insert_code("main", _SEED_FROM_ENV_CPP)
    return dev, headers


def _stop_device(headers: list[str]) -> None:
    import brian2 as b2

    b2.prefs.codegen.cpp.headers = headers
    b2.get_device().reinit()
    b2.set_device("runtime")


@dataclasses.dataclass
class Build:
    """A network whose code was generated in this process, and its compiled build."""

    sim: Any
    """The :class:`stdpsim.backend.Simulation` (its objects live on the device)."""
    folder: Path
    cached: bool
    """Whether the binary was there already (no compilation)."""
    build_s: float
    compile_s: float
    in_use: Any = None
    """The open lock file that keeps the build from being pruned while it is used."""


def _build(dev: Any, build_fn: Callable[[], Any], duration: Any, cache: Path,
           check: Callable[[Any], None]) -> Build:
    """Generate the network's code, then find its build in the cache or compile it."""
    import brian2 as b2

    t0 = time.perf_counter()
    sim = build_fn()
    check(sim)
    net = b2.Network(*sim.objects)
    # the progress report is always compiled in (one build for both cases) and written to
    # the binary's stdout, which is shown only with ``progress``
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
        folder = root / key
        with _flock(root / f"{key}.lock", fcntl.LOCK_EX):
            cached = (folder / _BUILD_MARKER).exists()
            compile_s = 0.0
            if not cached:
                t_compile = time.perf_counter()
                print(f"compiling the network's C++ code (once: every later run of this "
                      f"network reuses the build in {folder.parent})", file=sys.stderr,
                      flush=True)
                shutil.rmtree(folder, ignore_errors=True)
                staging.rename(folder)
                staging = None
                dev.compile_source(str(folder), "gcc", debug=False, clean=False)
                for obj in folder.rglob("*.o"):  # keep the binary, drop the objects
                    obj.unlink()
                (folder / _BUILD_MARKER).write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
                compile_s = time.perf_counter() - t_compile
            build_cache.touch(folder)  # its last use, for the least-recently-used bound
            in_use = open(folder / build_cache.IN_USE, "a+")  # noqa: SIM115
            fcntl.flock(in_use, fcntl.LOCK_SH)  # not pruned while this build is used
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    if not cached:  # a new build: the cache may have grown past its bound
        build_cache.prune(root, keep=folder)
    dev.project_dir = str(folder)
    return Build(sim, folder, cached, time.perf_counter() - t0, compile_s, in_use)


def owned(results: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Copies of collected arrays.  Brian2 (2.10 and later) can hand out views of its
    monitors' buffers, which are freed with the network; a copy outlives it."""
    return {k: np.array(v, copy=True) for k, v in results.items()}


def _run_build(dev: Any, build: Build, values: Mapping[str, Any], seed: int,
               progress: bool) -> tuple[dict[str, np.ndarray], float]:
    """Run a build's binary once with ``values`` and ``seed``; returns the collected
    results (copies) and the run's seconds."""
    run_args = {build.sim.inputs[name]: value for name, value in values.items()}
    results_name = f"results_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    t1 = time.perf_counter()
    os.environ[SEED_ENV] = str(int(seed))
    os.environ[PARENT_ENV] = str(os.getpid())
    _remove_orphaned_results(build.folder.parent)
    try:
        with _flock(build.folder / ".lock", fcntl.LOCK_SH), _sigterm_stops_child():
            dev.run(directory=str(build.folder), results_directory=results_name,
                    with_output=progress, run_args=run_args)
            results = owned(build.sim.collect())
    finally:
        os.environ.pop(SEED_ENV, None)
        os.environ.pop(PARENT_ENV, None)
        shutil.rmtree(build.folder / results_name, ignore_errors=True)
    run_s = time.perf_counter() - t1
    _prune_run_args(build.folder)
    return results, run_s


class Session:
    """One network built once in this process and run many times (a context manager).

    While a session is open it holds Brian2's standalone device: the process runs no other
    Brian2 network until :meth:`close`.  Every :meth:`run` passes new inputs and a new
    seed to the same binary, with the same results as a fresh one-shot run.
    """

    def __init__(self, build_fn: Callable[[], Any], duration: Any, dt: Any, cache: Path,
                 check: Callable[[Any], None]) -> None:
        self._dev, self._headers = _start_device(dt)
        try:
            self.build = _build(self._dev, build_fn, duration, cache, check)
        except BaseException:
            _stop_device(self._headers)
            raise
        self.closed = False

    def run(self, values: Mapping[str, Any], seed: int, progress: bool = False
            ) -> tuple[dict[str, np.ndarray], float]:
        """Run the binary with ``values`` and ``seed``; returns the results and the run's
        seconds."""
        if self.closed:
            raise RuntimeError("the session is closed")
        return _run_build(self._dev, self.build, values, seed, progress)

    def close(self) -> None:
        """Give Brian2's device back (idempotent)."""
        if not self.closed:
            self.closed = True
            if self.build.in_use is not None:
                self.build.in_use.close()  # the build may be pruned from now on
            _stop_device(self._headers)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def run(build_fn: Callable[[], Any], values: Mapping[str, Any], duration: Any, dt: Any,
        seed: int, cache: Path, progress: bool, check: Callable[[Any], None]
        ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Generate, build (or reuse) and run a network once (a :class:`Session` of one run);
    returns the results and the timings (:class:`stdpsim.backend.RunInfo`'s fields but the
    device)."""
    t0 = time.perf_counter()
    with Session(build_fn, duration, dt, cache, check) as session:
        results, run_s = session.run(values, seed, progress)
    build = session.build
    return results, {"wall_s": time.perf_counter() - t0, "build_s": build.build_s,
                     "run_s": run_s, "cached": build.cached, "build_dir": str(build.folder),
                     "compile_s": build.compile_s}
