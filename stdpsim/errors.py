"""One error path for the command line and the scripts in ``experiments/``.

A user's mistake (a bad value, a missing or damaged file, no compiler) is one line on
standard error, ``PROG: error: ...``, and exit code 1; a bug is one line naming the
exception, with the traceback only when ``$STDPSIM_DEBUG`` is set.  The argparse types here
give the scripts the command line's checks of numbers (finite, in range).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable

DEBUG_ENV = "STDPSIM_DEBUG"
"""Set to 1 to get full tracebacks instead of one-line errors."""


def require(checks: list[tuple[bool, str]]) -> None:
    """ValueError with the message of the first (condition, message) whose condition is
    false: a settings class's checks in one list."""
    for ok, message in checks:
        if not ok:
            raise ValueError(message)


def user_errors() -> tuple[type[BaseException], ...]:
    """Errors a user's input or environment causes: one line, no traceback (a failed
    download is a ValueError too)."""
    from .backend import BackendError
    from .data import DataError
    from .runs import RunFileError

    return (BackendError, DataError, RunFileError, ValueError)


def interrupt_raises() -> None:
    """Make SIGINT raise KeyboardInterrupt, also in a process started in the background.

    Such a process inherits SIGINT ignored, and brian2, on import, wraps the handler it
    finds in its own, which calls it: SIG_IGN is not callable, so ``kill -INT`` ended a
    training with a TypeError instead of its interrupted message.  Python's own handler
    takes the place of an ignored one, in brian2's wrapper if it is there.  Main thread
    only (elsewhere nothing changes)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    handler = signal.getsignal(signal.SIGINT)
    if handler in (signal.SIG_IGN, signal.SIG_DFL, None):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    elif not callable(getattr(handler, "previous_handler", signal.default_int_handler)):
        handler.previous_handler = signal.default_int_handler  # brian2's _InterruptHandler


def one_line(prog: str, fn: Callable[[], object]) -> int:
    """Run ``fn``; its errors become one line on stderr; returns the exit code (what ``fn``
    returns when that is an int, else 0; 1 for an error, 130 when interrupted, by Ctrl-C or
    SIGINT: :func:`interrupt_raises`)."""
    t0 = time.perf_counter()
    debug = bool(os.environ.get(DEBUG_ENV))
    interrupt_raises()
    try:
        code = fn()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted after {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        return 130
    except MemoryError:
        if debug:
            raise
        print(f"{prog}: error: not enough memory for this command; ask for fewer samples, "
              "images or digits", file=sys.stderr)
        return 1
    except Exception as e:
        if debug:
            raise
        if isinstance(e, user_errors()):
            print(f"{prog}: error: {e}", file=sys.stderr)
        else:  # a bug: one line, the traceback only when asked for
            print(f"{prog}: error: unexpected {type(e).__name__}: {e} (set {DEBUG_ENV}=1 for "
                  "the traceback)", file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


def run_script(main: Callable[[], object]) -> None:
    """``sys.exit`` with :func:`one_line` of a script's ``main`` (the script's file name as
    the program's)."""
    sys.exit(one_line(os.path.basename(sys.argv[0]) or "script", main))


# ---------------------------------------------------------------- argparse, the scripts'

class ArgumentParser(argparse.ArgumentParser):
    """argparse with the command line's one-line errors (``PROG: error: ...``, exit code
    2, no usage block): ``--help`` shows the usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)



def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return x


def finite(text: str) -> float:
    """A finite number."""
    return _number(text)


def positive(text: str) -> float:
    """A finite number above 0."""
    x = _number(text)
    if not x > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not above 0")
    return x


def non_negative(text: str) -> float:
    """A finite number at least 0."""
    x = _number(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is below 0")
    return x


def _integer(text: str, least: int) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < least:
        raise argparse.ArgumentTypeError(f"{text!r} is below {least}")
    return n


def count(text: str) -> int:
    """A whole number at least 1."""
    return _integer(text, 1)


def natural(text: str) -> int:
    """A whole number at least 0 (a seed, an offset)."""
    return _integer(text, 0)


def numbers(kind: Callable[[str], float]) -> Callable[[str], list[float]]:
    """A comma-separated list of ``kind`` (e.g. ``--r-max 1000,2000``)."""
    def parse(text: str) -> list[float]:
        return [kind(v) for v in text.split(",") if v.strip()]
    parse.__name__ = f"list of {kind.__name__}"
    return parse
