"""In-painting as tasks (the paper's Figure 5): fill a hidden half of each test image by
INFERENCE with the other half clamped, in the rate model (``stdpsim inpaint rate``) or in
the spiking network (``stdpsim inpaint spiking``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .. import runs
from ..data import half_mask, load_mnist
from ..runs import shown_path, write_json
from .common import (DEFAULT_MODEL, N_TRAIN, SPIKING_IMAGES, Log, check_outputs, out_dir,
                     record_metrics, stages, test_images)
from .network import SpikingNetwork

INPAINT = {"start": "nearest", "n_steps": 50, "alpha": 0.001, "n_rounds": 1}
"""The rate model's in-painting procedure, chosen on validation images
(``experiments/inpaint_tuning.py``)."""
STARTS = ("mean", "nearest")
"""What the hidden half starts as: the mean training image, or the mean of the 10 training
images nearest on the visible half."""
SPIKING_STEPS = 20
"""INFERENCE steps of spiking in-painting (one round, the network's own α)."""
N_SHOW = 10
"""Examples drawn in the figure, at most (fewer when fewer images are in-painted)."""


@dataclasses.dataclass(frozen=True)
class InpaintTask:
    """What ``stdpsim inpaint rate|spiking`` asks for.

    Attributes
    ----------
    model, data
        Rate-model file; MNIST folder.
    half
        The hidden half (:data:`stdpsim.data.HALVES`).
    start
        What the hidden half starts as (:data:`STARTS`).
    n_steps, alpha, n_rounds
        INFERENCE steps with the visible half clamped; the rate model's pull α and rounds
        (the spiking network runs one round with its own α).
    n_images, n_show
        First test images (None: all for the rate model,
        :data:`stdpsim.tasks.common.SPIKING_IMAGES` spiking);
        examples drawn (None: up to :data:`N_SHOW`).
    out_dir, out, update_card
        Where the figure and JSON go (default: a new run folder); also save the filled
        images as ``.npy``; record in the model card (rate model).
    network
        In-paint in this spiking network (None: the rate model).
    """

    model: str = str(DEFAULT_MODEL)
    data: str | None = None
    half: str = "right"
    start: str | None = None
    n_steps: int | None = None
    alpha: float | None = None
    n_rounds: int | None = None
    n_images: int | None = None
    n_show: int | None = None
    out_dir: str | None = None
    out: str | None = None
    update_card: bool = False
    network: SpikingNetwork | None = None

    def procedure(self) -> dict:
        """The in-painting procedure with this task's changes (checked)."""
        if self.network is not None:
            if self.start not in (None, *STARTS):
                raise ValueError(f"--start must be one of {STARTS}, got {self.start!r}")
            steps = SPIKING_STEPS if self.n_steps is None else self.n_steps
            if steps < 1:
                raise ValueError(f"--n-steps must be at least 1, got {steps}")
            return {"start": self.start or "mean", "n_steps": steps}
        out = {"start": self.start or INPAINT["start"]}
        for key in ("n_steps", "alpha", "n_rounds"):
            value = getattr(self, key)
            if value is None:
                value = INPAINT[key]
            elif key == "alpha" and value < 0:
                raise ValueError(f"--alpha must be non-negative, got {value}")
            elif key != "alpha" and value < 1:
                raise ValueError(f"--{key.replace('_', '-')} must be at least 1, got {value}")
            out[key] = value
        return out


def inpaint(task: InpaintTask, log: Log = print) -> dict:
    """In-paint, measure against two fills that use no model, save, plot; returns the
    results."""
    from .. import evaluation, model_files, rate_model

    procedure = task.procedure()
    spiking = task.network is not None
    if task.out:
        runs.check_output(task.out, "--out", ".npy")
    name = "spiking_inpainting" if spiking else "fig5_inpainting"
    out_path = out_dir(task.out_dir, "inpaint")
    check_outputs(out_path, (f"{name}.json", f"{name}.png"), "--out-dir")
    model = model_files.load_model(task.model)
    if spiking:  # the network's settings, checked before any work
        from .. import spiking as sn

        net = task.network
        params = net.parameters("inference", n_steps=procedure["n_steps"])
        sn.check_model(model, params)
    x = test_images(task.data, task.n_images, default=SPIKING_IMAGES if spiking else None)
    n_show = min(N_SHOW, x.shape[0]) if task.n_show is None else task.n_show
    if not 1 <= n_show <= x.shape[0]:
        raise ValueError(f"--n-show must be in 1..{x.shape[0]}, got {n_show}")
    mask = half_mask(task.half)
    x_train = load_mnist("train", task.data)[0][:N_TRAIN]
    mean_image = x_train.mean(axis=0)
    bar = stages(2, "inpaint: nearest-neighbour fill, in-painting")
    nearest = evaluation.nearest_neighbour_fill(x, mask, x_train, k=10)
    bar.update()
    fill = mean_image if procedure["start"] == "mean" else nearest
    results = {"model": shown_path(task.model), "half": task.half, **procedure,
               "n_images": int(x.shape[0])}
    if spiking:
        filled, events, run = sn.run_inpaint(model, x, mask, fill, params, device=net.device,
                                             seed=net.seed)
        results.update(params=sn.parameters_summary(params), device=run.device,
                       seed=net.seed, run_s=run.run_s, build_s=run.build_s, events=events)
    else:
        filled = rate_model.inpaint(model, x, mask, fill,
                                    **{k: v for k, v in procedure.items() if k != "start"})
    bar.update()
    bar.close()
    errors = evaluation.inpainting_errors(filled, x, mask, mean_image)
    results.update(mse_inpainting=errors["mse_inpainting"], mse_mean_image=errors["mse_fill"],
                   mse_nearest_10=evaluation.masked_mse(nearest, x, mask))
    write_json(out_path / f"{name}.json", results)
    if task.out:
        runs.save_npy(task.out, filled.astype(np.float32))
    _figure(task, procedure, x, np.where(mask, fill, x), filled, n_show, out_path / name,
            mask, results)
    log(f"squared error per hidden pixel: {'spiking ' if spiking else ''}in-painting "
        f"{results['mse_inpainting']:.4f}; mean training image "
        f"{results['mse_mean_image']:.4f}; mean of the 10 nearest training images "
        f"{results['mse_nearest_10']:.4f} ({x.shape[0]} test images, {task.half} half "
        "hidden)")
    log(f"wrote {out_path / name}.png and .json")
    if task.update_card and not spiking:
        record_metrics(task.model, "inpainting", results, log)
    return results


def _figure(task: InpaintTask, procedure: dict, x: np.ndarray, start: np.ndarray,
            filled: np.ndarray, n_show: int, stem: Path, mask: np.ndarray,
            results: dict) -> None:
    from .. import plotting

    spiking = task.network is not None
    start_text = ("the mean training image" if procedure["start"] == "mean"
                  else "the 10 nearest training images' mean")
    rounds = "" if spiking else (
        f" × {procedure['n_rounds']} round{'s' if procedure['n_rounds'] > 1 else ''}, "
        f"α\u00a0=\u00a0{procedure['alpha']:g}")
    plotting.plot_inpainting(x[:n_show], start[:n_show], filled[:n_show],
                             stem.with_suffix(".png"),
                             title=f"{task.half} half hidden, started from {start_text}, "
                             f"filled by {procedure['n_steps']} "
                             f"{'spiking ' if spiking else ''}INFERENCE steps{rounds}",
                             hidden=mask, model=results["model"],
                             errors={"in-painting": results["mse_inpainting"],
                                     "mean image": results["mse_mean_image"],
                                     "10-NN fill": results["mse_nearest_10"]})
