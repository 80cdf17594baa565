"""A compiler run that ends with the process that asked for it.

Brian2 compiles a standalone project with ``os.system("make ...")``; when the Python process
that asked for it is killed (kill -9, a dask worker shut down), ``make`` and its compilers go
on for many seconds, writing into the build cache.  :mod:`stdpsim.standalone` therefore has
Brian2 run ``python -m stdpsim.compile_guard OWNER_PID make ARGS...``: the command runs in a
process group of its own, and the whole group is killed as soon as the owner no longer runs
(or when this guard is terminated).

    python -m stdpsim.compile_guard OWNER_PID COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile

from .runs import process_alive

POLL_S = 0.2
"""How often the owner is looked at (seconds)."""


def guard(owner: int, command: list[str]) -> int:
    """Run ``command`` until it ends (its exit code) or ``owner`` stops running (1).  Its
    temporary files (the compiler's ``cc*.s``, which a killed compiler leaves) go to a
    folder of its own in the working directory, removed at the end."""
    scratch = tempfile.mkdtemp(prefix=".compile_tmp_", dir=os.getcwd())
    try:
        return _guarded(owner, command, dict(os.environ, TMPDIR=scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _guarded(owner: int, command: list[str], env: dict[str, str]) -> int:
    child = subprocess.Popen(command, start_new_session=True, env=env)

    def kill_group(*_: object) -> None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *a: (kill_group(), sys.exit(1)))
    while True:
        try:
            return child.wait(timeout=POLL_S)
        except subprocess.TimeoutExpired:
            if not process_alive(owner):
                kill_group()
                child.wait()
                return 1


def command(owner: int, program: str = "make") -> str:
    """The shell command that runs ``program`` under this guard for process ``owner``
    (Brian2's ``devices.cpp_standalone.make_cmd_unix``)."""
    import shlex

    return " ".join(shlex.quote(p) for p in (sys.executable, "-m", "stdpsim.compile_guard",
                                              str(owner), program))


if __name__ == "__main__":
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python -m stdpsim.compile_guard OWNER_PID COMMAND [ARGS...]")
    sys.exit(guard(int(sys.argv[1]), sys.argv[2:]))
