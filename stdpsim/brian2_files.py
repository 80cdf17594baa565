"""Brian2's own files kept out of the temporary folder.

On import Brian2 writes a debug log (``brian_debug_*.log``) and a copy of the main script
(``brian_script_*.py``) into the temporary folder, and its compiler output goes into
``brian_stdout_*.log`` / ``brian_stderr_*.log`` there.  It deletes them when a process ends
cleanly, but not when the process is killed (a dask worker at shutdown, kill -9) or ends in
a traceback, so they pile up.  stdpsim reports its own errors, so here:

* the debug log and the script copy are switched off (and the ones the import made are
  deleted at once);
* the compiler output goes to ``<cache>/brian_output/<pid>/`` (the build cache of
  :func:`stdpsim.backend.cache_dir`), which Brian2 still deletes at a clean exit and
  :func:`install` clears for processes that no longer run.

:func:`install` (called when stdpsim is imported) does this as soon as Brian2 is imported,
whichever of the two comes first.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

OUTPUT_FOLDER = "brian_output"
"""Below the build cache: one folder per process for Brian2's compiler output."""


def _remove(path: str | None) -> None:
    if path:
        for name in (path, path + ".1"):  # the rotated debug log too
            try:
                os.remove(name)
            except OSError:
                pass


def _clear_stale(root: Path) -> None:
    """Output folders of processes that no longer run."""
    from .runs import process_alive

    for folder in root.iterdir() if root.is_dir() else ():
        if folder.name.isdigit() and not process_alive(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)


def quiet() -> None:
    """Switch Brian2's temporary files off or into the cache (idempotent)."""
    from brian2 import prefs
    from brian2.utils.logger import BrianLogger, std_silent

    prefs.logging.file_log = False
    prefs.logging.save_script = False
    handler = BrianLogger.file_handler
    if handler is not None:
        logging.getLogger("brian2").removeHandler(handler)
        handler.close()
        BrianLogger.file_handler = None
    _remove(BrianLogger.tmp_log)
    _remove(BrianLogger.tmp_script)
    BrianLogger.tmp_log = BrianLogger.tmp_script = None
    if std_silent.dest_stdout is not None:  # already redirected (by an earlier call)
        return
    try:
        from .backend import cache_dir

        root = cache_dir() / OUTPUT_FOLDER
        _clear_stale(root)
        own = root / str(os.getpid())
        own.mkdir(parents=True, exist_ok=True)
        atexit.register(shutil.rmtree, own, ignore_errors=True)
        std_silent.dest_fname_stdout = str(own / "stdout.log")
        std_silent.dest_fname_stderr = str(own / "stderr.log")
        std_silent.dest_stdout = open(std_silent.dest_fname_stdout, "w")  # noqa: SIM115
        std_silent.dest_stderr = open(std_silent.dest_fname_stderr, "w")  # noqa: SIM115
    except Exception:  # an unusable cache: Brian2 keeps its own files
        std_silent.dest_stdout = std_silent.dest_stderr = None


class _AfterBrian2Import(importlib.abc.MetaPathFinder):
    """Runs :func:`quiet` right after Brian2's own import has finished."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "brian2":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            quiet()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """:func:`quiet` now if Brian2 is imported, else right after it is."""
    if "brian2" in sys.modules:
        quiet()
    elif not any(isinstance(f, _AfterBrian2Import) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterBrian2Import())
