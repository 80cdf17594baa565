"""Progress of long runs: a live bar on a terminal, one plain line per step in a log.

When standard error is a terminal, a run shows a tqdm bar that rewrites itself in place;
when it goes to a file or a pipe, a bar's carriage returns would fill the log, so the run
writes one line per step instead (a chunk of examples, an epoch), each with the one rate
measured since the run started (or resumed) and the time left at that rate.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def interactive() -> bool:
    """Whether standard error is a terminal (a live bar), not a log."""
    return sys.stderr.isatty()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def status_line(desc: str, done: int, total: int, unit: str, elapsed_s: float,
                since: int = 0, **fields: Any) -> str:
    """``desc: done/total unit (p %), r unit/s, elapsed, h:mm:ss left`` and ``fields``; the
    rate counts the units done since ``since`` (where the run started or resumed) over
    ``elapsed_s``."""
    rate = (done - since) / elapsed_s if elapsed_s > 0 else float("nan")
    text = f"{desc}: {done}/{total} {unit} ({100 * done / total:.0f} %)"
    if rate > 0:
        text += (f", {rate:.3g} {unit}/s, {_duration(elapsed_s)} elapsed, "
                 f"{_duration((total - done) / rate)} left")
    return text + "".join(f", {k} {v}" for k, v in fields.items())


class Progress:
    """Progress of a run of ``total`` units (``initial`` already done, e.g. on resume).

    On a terminal a tqdm bar; in a log one :func:`status_line` per :meth:`update`; nothing
    when ``enabled`` is false.  A context manager.
    """

    def __init__(self, total: int, desc: str, unit: str, initial: int = 0,
                 enabled: bool = True) -> None:
        self.desc, self.unit, self.total = desc, unit, total
        self.done = self.since = initial
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.bar = None
        if enabled and interactive():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit=unit, desc=desc)

    def update(self, n: int, **fields: Any) -> None:
        """``n`` more units done; ``fields`` (name: value) are shown beside the count."""
        self.done += n
        if self.bar is not None:
            self.bar.set_postfix(fields, refresh=False)
            self.bar.update(n)
        elif self.enabled:
            print(status_line(self.desc, self.done, self.total, self.unit,
                              time.perf_counter() - self.t0, self.since, **fields),
                  file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """A line of its own (above the bar on a terminal)."""
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        elif self.enabled:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
