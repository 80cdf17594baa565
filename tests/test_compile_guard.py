"""A compile ends with the process that asked for it (kill -9 included)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from stdpsim import compile_guard
from stdpsim.runs import process_alive

def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.quick
def test_the_guarded_command_and_its_children_die_with_the_owner(tmp_path):
    """A stand-in for make (a shell that starts a 'compiler' child and waits) under the
    guard; the owner is killed with SIGKILL: both the shell and its child are gone within
    a second."""
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pids = tmp_path / "pids"
    make = f"sleep 60 & echo $$ $! > {pids}; wait"
    guard = subprocess.Popen([sys.executable, "-m", "stdpsim.compile_guard", str(owner.pid),
                              "sh", "-c", make])
    deadline = time.monotonic() + 10
    while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    shell, compiler = (int(p) for p in pids.read_text().split())
    assert process_alive(shell) and process_alive(compiler)
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    assert guard.wait(timeout=5) == 1
    assert _gone(shell, 2.0) and _gone(compiler, 2.0)


@pytest.mark.quick
def test_a_guarded_command_that_ends_gives_its_exit_code():
    owner = os.getpid()
    assert compile_guard.guard(owner, ["sh", "-c", "exit 3"]) == 3
    assert compile_guard.guard(owner, ["true"]) == 0


@pytest.mark.quick
def test_a_zombie_owner_does_not_count_as_alive():
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while process_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # exited, not yet reaped: a zombie
    assert not process_alive(child.pid)
    child.wait()


@pytest.mark.quick
def test_brian2_compiles_through_the_guard():
    import brian2 as b2

    from stdpsim import standalone

    dev, headers = standalone._start_device(0.1 * b2.ms)
    try:
        cmd = b2.prefs.devices.cpp_standalone.make_cmd_unix
        assert cmd.endswith(f"-m stdpsim.compile_guard {os.getpid()} make")
    finally:
        standalone._stop_device(headers)


def _processes_in(folder) -> list[int]:
    """Processes whose working directory lies in ``folder``."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                out.append(int(pid))
        except OSError:
            pass
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_during_a_real_compile_leaves_no_compiler_running(tmp_path):
    """A fresh cache, so the network compiles; the process is killed with SIGKILL once it
    says it is compiling: within 2 s no make or compiler works in the cache any more."""
    from stdpsim import backend

    if not backend.cxx_compiler_works():
        pytest.skip("no C++ compiler")
    cache, tmp = tmp_path / "cache", tmp_path / "tmp"
    tmp.mkdir()
    code = ("import numpy as np, sys; sys.path.insert(0, 'tests')\n"
            "from netfixtures import run_constant_drive\n"
            "run_constant_drive(np.array([-55.0]), -70.0, [7.0], 15.0, 'cpp_standalone')\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, STDPSIM_CACHE=str(cache), TMPDIR=str(tmp)),
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    for line in proc.stderr:
        if "compiling the network's C++ code" in line:
            break
    time.sleep(1.0)  # make and the compilers are running now
    assert _processes_in(cache), "expected a compiler at work in the cache"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 2.0
    while _processes_in(cache) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_in(cache) == []
    assert list(tmp.iterdir()) == []  # the killed compiler's temporary files are not there
