"""Soak test (slow): many spiking runs in a row and side by side leave no growth behind.

20 back-to-back ``stdpsim infer spiking --n-images 2`` in fresh processes, then two at once:
after the first build the cache must not grow, no process may be left, and a process's open
files must not grow from run to run.  Run by hand: ``pytest -m slow tests/test_soak.py``
(7.7 minutes here with two simulations sharing the 2 cores; real MNIST in
``STDPSIM_DATA``).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("STDPSIM_DATA"),
                                 reason="STDPSIM_DATA not set")]

RUN = ("import os, sys; from stdpsim.cli import main; code = main(sys.argv[1:]); "
       "print('open-files', len(os.listdir('/proc/self/fd'))); sys.exit(code)")


def _infer(out: Path, cache: Path) -> subprocess.Popen:
    env = dict(os.environ, STDPSIM_CACHE=str(cache))
    return subprocess.Popen([sys.executable, "-c", RUN, "infer", "spiking", "--n-images", "2",
                             "--out-dir", str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _stdpsim_binaries() -> list[int]:
    """Standalone binaries of the cache below this test's folder that are still running."""
    out = []
    for exe in Path("/proc").glob("[0-9]*/exe"):
        try:
            if "soak_cache" in os.readlink(exe):
                out.append(int(exe.parent.name))
        except OSError:
            continue
    return out


def test_twenty_runs_in_a_row_and_two_at_once_leave_nothing_growing(tmp_path):
    cache = tmp_path / "soak_cache"
    sizes, open_files = [], []
    for k in range(20):
        proc = _infer(tmp_path / f"run{k}", cache)
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        open_files.append(int(stdout.rsplit("open-files", 1)[1]))
        sizes.append(_size(cache))
    pair = [_infer(tmp_path / f"pair{k}", cache) for k in range(2)]
    for proc in pair:
        assert proc.wait(timeout=600) == 0, proc.stderr.read()
    assert sizes[1:] == [sizes[0]] * 19, f"the cache grew after the first build: {sizes}"
    assert _size(cache) == sizes[0]
    assert len(set(open_files)) == 1, f"open files changed from run to run: {open_files}"
    assert not _stdpsim_binaries(), "a standalone binary outlived its run"
    assert not list(cache.glob("standalone/*/results_*")), "results folders were left"
