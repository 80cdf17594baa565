"""A spike raster of any saved run as a task (``stdpsim raster``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .. import runs
from ..runs import load_spikes
from .common import Log


@dataclasses.dataclass(frozen=True)
class RasterTask:
    """What ``stdpsim raster`` asks for: the run (a spike file or a folder holding
    ``spikes.npz``), the PNG (default: a new run folder), how many neurons, which rows of
    the display order (``"START:STOP"`` or ``"main"``) and which time window (ms)."""

    run: str
    out: str | None = None
    max_neurons: int = 300
    rows: str | None = None
    t_min_ms: float | None = None
    t_max_ms: float | None = None

    def row_range(self, meta: dict) -> tuple[int, int] | None:
        """The rows as a (start, stop) pair; a clear error for a malformed one."""
        if self.rows is None:
            return None
        if self.rows == "main":
            if "main_rows" not in meta:
                raise ValueError("--rows main: this run has no main condition")
            return tuple(meta["main_rows"])
        parts = self.rows.split(":")
        if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise ValueError(f"--rows must be START:STOP or 'main', got {self.rows!r}")
        return int(parts[0]), int(parts[1])


def raster(task: RasterTask, log: Log = print) -> Path:
    """Draw the raster; returns the PNG."""
    from .. import plotting

    t0, t1 = task.t_min_ms, task.t_max_ms
    if t0 is not None and t1 is not None and t0 >= t1:
        raise ValueError(f"--t-min-ms ({t0:g}) must be below --t-max-ms ({t1:g})")
    spikes = load_spikes(task.run)
    rows = task.row_range(spikes["meta"])
    target = Path(task.out) if task.out else runs.new_run_folder("raster") / "raster.png"
    runs.check_output(target, "--out")
    path = plotting.plot_raster(spikes, target, max_neurons=task.max_neurons, rows=rows,
                                t_min_ms=t0, t_max_ms=t1)
    log(f"{spikes['spike_i'].size} spikes of {int(spikes['n'])} neurons; wrote {path}")
    return path
