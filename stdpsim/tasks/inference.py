"""INFERENCE as tasks: log p(x, h) along the rate model's INFERENCE (the paper's Figure 4,
``stdpsim infer rate``) and spiking INFERENCE beside it, with rasters (``stdpsim infer
spiking``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .. import backend, rate_config, runs
from ..runs import load_spikes, read_json, shown_path, write_json
from .common import (DEFAULT_MODEL, SPIKING_IMAGES, Log, check_outputs, info, out_dir,
                     record_metrics, stages, test_images)
from .network import SpikingNetwork

TRAIN_ALPHA = rate_config.PRESETS["authors"].alpha
"""INFERENCE's α during training (Algorithm 2), drawn as the reference curve of Figure 4 and
the spiking network's default."""
FIGURE4_ALPHA = 0.1
"""Figure 4's α: with it log p(x, h) rises at every INFERENCE step of the shipped model
(with training's α it falls; docs/rate_results.md, Figure 4)."""
RASTER_DIGITS = 2
"""``infer spiking`` records the spikes of this many digits (the rasters), counts the rest."""
SPIKING_INFERENCE_SPIKES = "spiking_inference_spikes.npz"
"""``infer spiking``'s spike file (``stdpsim raster`` reads it, populations labelled)."""


@dataclasses.dataclass(frozen=True)
class RateInferenceTask:
    """What ``stdpsim infer rate`` asks for.

    Attributes
    ----------
    model, data
        Rate-model file; MNIST folder.
    n_steps, n_images, n_traces
        INFERENCE iterations; first test images (None: all); single traces drawn.
    alpha, prior_alpha
        Pull of each hidden layer towards the prediction from above; weight of the prior's
        term in the top layer's update.
    out_dir, update_card
        Where the figure and JSON go (default: a new run folder); record in the model card.
    """

    model: str = str(DEFAULT_MODEL)
    data: str | None = None
    n_steps: int = 20
    n_images: int | None = None
    n_traces: int = 20
    alpha: float = FIGURE4_ALPHA
    prior_alpha: float = 0.001
    out_dir: str | None = None
    update_card: bool = False


def infer_rate(task: RateInferenceTask, log: Log = print) -> dict:
    """Figure 4: log p(x, h) after every INFERENCE step for the chosen setting, Algorithm 2
    as trained and the chosen α without the prior's term; returns the results."""
    from .. import evaluation, model_files, plotting, rate_model

    if task.n_steps < 1:
        raise ValueError(f"--n-steps must be at least 1, got {task.n_steps}")
    if task.alpha < 0:
        raise ValueError(f"--alpha must be non-negative, got {task.alpha}")
    if task.prior_alpha < 0:
        raise ValueError(f"--prior-alpha must be non-negative, got {task.prior_alpha}")
    out = out_dir(task.out_dir, "infer")
    check_outputs(out, ("fig4_inference_loglik.json", "fig4_inference_loglik.png"),
                  "--out-dir")
    model = model_files.load_model(task.model)
    x = test_images(task.data, task.n_images, minimum=2)  # a standard error needs two
    settings = list(dict.fromkeys([(task.alpha, task.prior_alpha), (TRAIN_ALPHA, 0.0),
                                   (task.alpha, 0.0)]))
    curves, traces = [], None
    bar = stages(len(settings), "infer: settings")
    for a, beta in settings:
        lp = rate_model.inference_log_joint(model, x, task.n_steps, alpha=a, prior_alpha=beta)
        bar.update()
        rise = evaluation.rise_summary(lp.mean(axis=1))
        traces = lp[:, :task.n_traces].T.tolist() if traces is None else traces
        curves.append({"alpha": a, "prior_alpha": beta, "mean": lp.mean(axis=1).tolist(),
                       "sem": (lp.std(axis=1, ddof=1) / np.sqrt(x.shape[0])).tolist(),
                       "mean_increase_per_step": rise["increase_per_step"],
                       "rises_every_step": rise["rises_every_step"],
                       "smallest_step": rise["smallest_step"],
                       "share_of_images_rising_overall": float(np.mean(lp[-1] > lp[0]))})
        log(f"alpha {a:g}, prior term beta {beta:g}: log p(x,h) {lp[0].mean():.1f} -> "
            f"{lp[-1].mean():.1f} nats over {task.n_steps} iterations ({x.shape[0]} test "
            f"images); mean rises at every step: {rise['rises_every_step']} (smallest "
            f"step {rise['smallest_step']:+.3f} nats)")
    bar.close()
    results = {"model": shown_path(task.model), "n_images": int(x.shape[0]),
               "n_steps": task.n_steps, **curves[0], "traces": traces, "curves": curves}
    write_json(out / "fig4_inference_loglik.json", results)
    plotting.plot_inference_loglik(read_json(out / "fig4_inference_loglik.json"),
                                   out / "fig4_inference_loglik.png")
    log(f"wrote {out / 'fig4_inference_loglik.png'} and .json")
    if task.update_card:
        record_metrics(task.model, "inference_log_p", {
            "n_images": results["n_images"], **{
                f"alpha {c['alpha']:g}, beta {c['prior_alpha']:g}": {
                    "start": c["mean"][0], "end": c["mean"][-1],
                    "rises_every_step": c["rises_every_step"],
                    "smallest_step": c["smallest_step"]} for c in curves}}, log)
    return results


@dataclasses.dataclass(frozen=True)
class SpikingInferenceTask:
    """What ``stdpsim infer spiking`` asks for: spiking INFERENCE of the first ``n_images``
    test digits in one simulation, beside the rate model's.

    Attributes
    ----------
    model, data
        Rate-model file (any depth); MNIST folder.
    n_steps, n_images, alpha
        INFERENCE steps; test digits (None: :data:`stdpsim.tasks.common.SPIKING_IMAGES`,
        or all when there are fewer); top-down pull α.
    network
        The spiking network (the ``inference`` preset with its changes).
    out_dir
        Where the figure, JSON and spikes go (default: a new run folder).
    """

    model: str = str(DEFAULT_MODEL)
    data: str | None = None
    n_steps: int = 20
    n_images: int | None = None
    alpha: float = TRAIN_ALPHA
    network: SpikingNetwork = SpikingNetwork()
    out_dir: str | None = None


def infer_spiking(task: SpikingInferenceTask, log: Log = print) -> dict:
    """Run, compare with the rate model, save, plot; returns the results."""
    from .. import model_files, plotting, spiking

    if task.n_steps < 1:
        raise ValueError(f"--n-steps must be at least 1, got {task.n_steps}")
    if task.alpha < 0:
        raise ValueError(f"--alpha must be non-negative, got {task.alpha}")
    out = out_dir(task.out_dir, "infer")
    check_outputs(out, ("spiking_inference.json", "spiking_inference.png",
                        SPIKING_INFERENCE_SPIKES), "--out-dir")
    net = task.network
    params = net.parameters("inference", n_steps=task.n_steps, alpha=task.alpha)
    model = model_files.load_model(task.model)
    spiking.check_model(model, params)
    x = test_images(task.data, task.n_images, default=SPIKING_IMAGES)
    digits = x.shape[0]
    summary = spiking.parameters_summary(params)
    info(f"infer spiking: {digits} test digits, {digits * summary['t_digit_ms']:.0f} ms of "
         f"biological time on {backend.resolve_device(net.device)} ({net.neuron} units"
         + (f", {params.ensemble} neurons per unit" if params.ensemble > 1 else "")
         + (f" with their own noise of {summary['member_sigma_mv']:g} mV"
            if "member_sigma_mv" in summary else "")
         + f", r_max {summary['r_max_hz']:g} Hz, tau {summary['tau_ms']:g} ms)")
    # every spike of a long run would take gigabytes: count them, and record the rasters in
    # a second, short run of the first digits (same network and seed)
    result = spiking.run_inference(model, x, params, device=net.device, seed=net.seed,
                                   record_spikes=False)
    n_raster = min(RASTER_DIGITS, digits)
    raster = spiking.run_inference(model, x[:n_raster], params, device=net.device,
                                   seed=net.seed, record_spikes=True)
    comparison = spiking.compare_with_rate(result, model, x)
    run = result.info
    biological_s = digits * summary["t_digit_ms"] / 1000
    results = {"model": shown_path(task.model), "device": run.device, "seed": net.seed,
               "n_digits": digits, "params": summary, "t_digit_ms": summary["t_digit_ms"],
               "t_settle_ms": summary["t_settle_ms"], "step_ms": summary["step_ms"],
               **comparison, "events": result.events,
               "raster": {"n_digits": n_raster,
                          "spike_counts": {k: int(v[0].size) for k, v in raster.spikes.items()}},
               "timing": {"wall_s": run.wall_s, "build_s": run.build_s,
                          "compile_s": run.compile_s, "run_s": run.run_s,
                          "cached_build": run.cached, "biological_s": biological_s,
                          "run_s_per_biological_s": run.run_s / biological_s,
                          "synaptic_events_per_s": result.events["synaptic"] / run.run_s}}
    spikes_path = _save_rasters(out, raster, model, params, summary, n_raster)
    write_json(out / "spiking_inference.json", results)
    plotting.plot_spiking_inference(read_json(out / "spiking_inference.json"),
                                    load_spikes(spikes_path), out / "spiking_inference.png")
    sp, rt = comparison["spiking"]["mean"], comparison["rate"]["mean"]
    log(f"spiking log p(x,h): {sp[0]:.1f} -> {sp[-1]:.1f} nats over {task.n_steps} steps "
        f"({digits} test digits; rate model {rt[0]:.1f} -> {rt[-1]:.1f}); correlation with "
        "the rate trajectory " + ", ".join(f"h{l} {comparison[f'corr_h{l}']:.3f}"
                                           for l in range(1, model.depth + 1)))
    log(f"{biological_s:.2f} s of biological time: run {run.run_s:.1f} s "
        f"({result.events['synaptic'] / run.run_s / 1e6:.0f} M synaptic events/s), "
        f"build {run.build_s:.1f} s ({'cached' if run.cached else 'compiled'})")
    log(f"wrote {out / 'spiking_inference.png'}, .json and {spikes_path.name}")
    return results


def _save_rasters(out: Path, raster, model, params, summary: dict, n_raster: int) -> Path:
    """The spikes of the raster run as a spike file of labelled populations."""
    sizes = [n * params.ensemble for n in model.sizes]  # neurons, members with ensembles
    t_digit = summary["t_digit_ms"]
    return runs.save_population_spikes(
        out / SPIKING_INFERENCE_SPIKES,
        {name: (i, t * 1000, n) for (name, (i, t)), n in zip(raster.spikes.items(), sizes)},
        duration_ms=n_raster * t_digit,
        meta={"experiment": "infer spiking", "digit_starts_ms":
              [k * t_digit for k in range(n_raster)],
              "settling_ms": [[k * t_digit, k * t_digit + summary["t_settle_ms"]]
                              for k in range(n_raster)]})
