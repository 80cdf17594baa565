"""Figure 1 as a task: simulate the STDP-curve experiment, fit, save, plot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .. import backend, runs
from ..runs import read_json, write_json
from .common import Log, check_outputs, info, out_dir


@dataclasses.dataclass(frozen=True)
class Figure1Task:
    """What ``stdpsim stdp-curve`` asks for; None keeps the experiment's default
    (:class:`stdpsim.stdp_curve.STDPCurveConfig`).

    Attributes
    ----------
    trials
        Trials per slope in the main condition.
    dt_ms, duration_ms
        Time step and simulated time (ms); the pre spike sits in the middle.
    seed
        Random seed of the membrane noise.
    device, cache
        Brian2 target and build cache.
    out_dir, spikes_dir
        Where the figure and JSON go (default: a new run folder) and the spikes (default:
        ``out_dir``).
    """

    trials: int | None = None
    dt_ms: float | None = None
    duration_ms: float | None = None
    seed: int | None = None
    device: str = "auto"
    cache: str | None = None
    out_dir: str | None = None
    spikes_dir: str | None = None

    def config(self):
        """The experiment's configuration with this task's changes (checked)."""
        from ..stdp_curve import STDPCurveConfig

        cfg = STDPCurveConfig()
        changes: dict = {}
        if self.trials is not None:
            if self.trials < 1:
                raise ValueError(f"--trials must be at least 1, got {self.trials}")
            changes["main"] = dataclasses.replace(cfg.main, n_trials=self.trials)
        if self.dt_ms is not None:
            changes["dt_ms"] = self.dt_ms
        if self.duration_ms is not None:
            if not self.duration_ms > 0:
                raise ValueError(f"--duration-ms must be positive, got {self.duration_ms}")
            changes.update(duration_ms=self.duration_ms, t_pre_ms=self.duration_ms / 2)
        if self.seed is not None:
            changes["seed"] = self.seed
        cfg = dataclasses.replace(cfg, **changes)
        cfg.validate()
        return cfg


def run(task: Figure1Task, log: Log = print) -> Path:
    """Run Figure 1; returns the folder of its figure and JSON."""
    from .. import plotting, stdp_curve

    cfg = task.config()
    out = out_dir(task.out_dir, "stdp-curve")
    spikes = Path(task.spikes_dir or out) / "spikes.npz"
    check_outputs(out, ("fig1_stdp_curve.json", "fig1_stdp_curve.png"), "--out-dir")
    runs.check_output(spikes, "--spikes-dir" if task.spikes_dir else "--out-dir")
    device = backend.resolve_device(task.device)
    info(f"stdp-curve: {sum(c.n_neurons for c in cfg.conditions)} trials on {device} "
         "(the first cpp_standalone/cython run compiles; later runs reuse the build)")
    results = stdp_curve.run_experiment(cfg, device=device, cache=task.cache,
                                        spikes_path=spikes)
    json_path = write_json(out / "fig1_stdp_curve.json", results)
    png_path = plotting.plot_stdp_curve(read_json(json_path), out / "fig1_stdp_curve.png")
    f = results["fit"]
    log(f"fit: A+ = {f['A_plus']:.4g} mV, tau+ = {f['tau_plus_ms']:.2f} ms; "
        f"A- = {f['A_minus']:.4g} mV, tau- = {f['tau_minus_ms']:.2f} ms "
        f"(Bi & Poo: tau+ = {stdp_curve.BI_POO_TAU_PLUS_MS}, "
        f"tau- = {stdp_curve.BI_POO_TAU_MINUS_MS} ms)")
    log(f"shape checks: {results['checks']}")
    log(f"simulation {results['sim_s']:.2f} s, build {results['build_s']:.2f} s "
        f"(cached: {results['build_cached']}), total {results['wall_s']:.2f} s")
    log(f"wrote {json_path}, {png_path}, {spikes}")
    return out
