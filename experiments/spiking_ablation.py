#!/usr/bin/env python3
"""Ablation of the spiking learner's mechanisms in spikes: each one taken away on its own, at
equal examples, beside the same ablation of its rate twin.

Every variant is a ``stdpsim train spiking`` run (:func:`stdpsim.tasks.training.train_spiking`)
of ``--epochs`` epochs at the learner's defaults (the ``training`` preset, minibatches of
100, centred RMSprop at ε 2.5e-5, the gain factor, corruption events at the preset's s.d.
(:data:`stdpsim.spiking.EVENTS_SD`) and ``--noise-rate``), in its own folder
``--runs/VARIANT/``, scored on the learning curves' protocol every 2,000 examples.  Then
one mechanism off at a time:

``no_tags``
    weights change at every spike (batch size 1); adaptive rates need a minibatch's tags,
    so the changes are added as they are (``sgd``) at the first design's ε (1e-4 for the
    encoders, 3e-5 for the decoders);
``no_adaptive``
    tags consolidated per minibatch but added as they are (``sgd``), at the first design's ε
    per example;
``no_gain``
    the delta rule (no gain factor, ``--loss delta``);
``no_corruption``
    no corruption events (``--noise-x 0``).

``all`` is the run with every mechanism: ``--all-run`` names one already made at these
settings (e.g. the main training run; its first ``--epochs`` epochs are the same run, the ε
being constant), its points read from its checkpoint or, once that is gone, from the
learning curves' results (``--curves``, the curve of that run); else it is trained here.
Each variant resumes from its checkpoint (every 1,000 examples): a stopped call loses at
most one chunk, and running the script again goes on (``--max-chunks``: at most that many
chunks per variant and call).  Writes
``figures/spiking_ablation.json``: each variant's validation points and its last score,
beside the twin's (``--twin``, from ``experiments/twin_ablation.py``).

    python experiments/spiking_ablation.py [--variant no_gain ...] [--epochs 2]
        [--all-run runs/eleventh/spiking_mnist.npz] [--curves figures/spiking_learning_curve.json]
        [--noise-rate HZ] [--max-chunks N] [--workers 2]
"""

from __future__ import annotations

from pathlib import Path

from stdpsim import errors, spiking, training
from stdpsim.runs import read_json, shown_path, write_json
from stdpsim.tasks.training import SpikingTrainTask, train_spiking

ROOT = Path(__file__).resolve().parents[1]
FIRST_DESIGN_EPS = {"eps_encoders": 1e-4, "eps_decoders": 3e-5}
"""The first design's ε (the shipped spiking model's), for the tags added as they are."""
VARIANTS = {
    "all": {},
    "no_tags": {"batch_size": 1, "optimizer": "sgd", **FIRST_DESIGN_EPS},
    "no_adaptive": {"optimizer": "sgd", **FIRST_DESIGN_EPS},
    "no_gain": {"loss": "delta"},
    "no_corruption": {"noise_x": 0.0},
}
"""Each variant's changes to the learner with every mechanism (SpikingTrainTask fields)."""


def task(variant: str, args) -> SpikingTrainTask:
    """The variant's training, resumed if its checkpoint exists."""
    out = Path(args.runs) / variant / "spiking_mnist.npz"
    changes = VARIANTS[variant]
    events = {} if changes.get("noise_x") == 0 else {"noise_rate": args.noise_rate}
    return SpikingTrainTask(epochs=args.epochs, workers=args.workers, data=args.data,
                            max_chunks=args.max_chunks, out=str(out),
                            resume=out.with_suffix(".ckpt.npz").exists(),
                            **events, **changes)


def points(run: Path, up_to: int, curves: dict | None = None
           ) -> tuple[list[list[float]], bool]:
    """A run's (examples, validation score) up to ``up_to`` examples, and whether it got
    there: from its checkpoint, or else from the learning curves' results ``curves`` if
    they have a curve of that run."""
    ckpt = run.with_suffix(".ckpt.npz")
    if ckpt.exists():
        history = training.read_checkpoint(ckpt, needs=("history",))[0]["history"]
    else:
        history = next((c["points"] for c in (curves or {}).get("curves", [])
                        if c.get("run") == shown_path(run)), [])
    got = [[r["examples"], r["valid_parzen"]] for r in history
           if "valid_parzen" in r and r["examples"] <= up_to]
    return got, bool(got) and got[-1][0] == up_to


def main() -> None:
    ap = errors.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder [default: $STDPSIM_DATA]")
    ap.add_argument("--variant", action="append", choices=list(VARIANTS), default=[],
                    help="variants to train [default: all of them]")
    ap.add_argument("--epochs", type=errors.count, default=2, help="epochs per variant")
    ap.add_argument("--noise-rate", type=errors.positive, default=None,
                    help="the corruption events' rate per unit of abs(n) (Hz) [default: "
                         "the training preset's]")
    ap.add_argument("--all-run", default=None,
                    help="a finished run with every mechanism at these settings, for 'all'")
    ap.add_argument("--curves", default=str(ROOT / "figures" / "spiking_learning_curve.json"),
                    help="the learning curves' results, for the points of an --all-run "
                         "whose checkpoint is gone")
    ap.add_argument("--max-chunks", type=errors.count, default=None,
                    help="stop each variant after this many chunks of 1,000 examples in this "
                         "call [default: train it to the end]")
    ap.add_argument("--workers", type=errors.count, default=2)
    ap.add_argument("--runs", default="runs/spiking_ablation", help="the variants' folder")
    ap.add_argument("--twin", default=str(ROOT / "figures" / "twin_ablation.json"))
    ap.add_argument("--out", default=str(ROOT / "figures" / "spiking_ablation.json"))
    args = ap.parse_args()
    examples = args.epochs * 20_000
    runs = {v: Path(args.runs) / v / "spiking_mnist.npz" for v in VARIANTS}
    curves = {}
    if args.all_run is not None:
        runs["all"] = Path(args.all_run)
        if not runs["all"].with_suffix(".ckpt.npz").exists():
            curves = read_json(args.curves)
        if not points(runs["all"], examples, curves)[0]:
            raise SystemExit(f"--all-run {args.all_run}: no checkpoint "
                             f"{shown_path(runs['all'].with_suffix('.ckpt.npz'))} and no "
                             f"curve of it in {shown_path(args.curves)}")
    for variant in args.variant or list(VARIANTS):
        if (variant == "all" and args.all_run) or points(runs[variant], examples)[1]:
            continue
        print(f"{variant}: training ({shown_path(runs[variant])})", flush=True)
        train_spiking(task(variant, args), log=lambda line: print(line, flush=True))
    twin = read_json(args.twin)["variants"] if Path(args.twin).exists() else {}
    _, params, learning = task("all", args).settings()
    results = {"epochs": args.epochs, "network": spiking.parameters_summary(params),
               "learning": spiking.learning_summary(learning), "variants": {}}
    for variant, run in runs.items():
        got, done = points(run, examples, curves)
        results["variants"][variant] = {
            "run": shown_path(run), "changes": VARIANTS[variant], "points": got,
            "finished": done, "twin_scores": twin.get(variant, {}).get("scores")}
        print(f"{variant}: " + (f"{got[-1][1]:.1f} after {got[-1][0]} examples"
                                + ("" if done else " (not finished)") if got else "not started"))
    write_json(args.out, results)
    print(f"wrote {shown_path(args.out)}")


if __name__ == "__main__":
    errors.run_script(main)
