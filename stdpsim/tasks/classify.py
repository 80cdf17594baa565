"""The supervised tasks: ``stdpsim train classify`` and ``stdpsim evaluate``.

Training uses the first :data:`~stdpsim.tasks.common.N_TRAIN` training images, scores the
rest (validation) after every epoch and keeps the best epoch; evaluation classifies the
official 10,000 test images.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .. import labels
from ..data import load_mnist
from ..runs import check_output
from .common import N_TRAIN, Log, check_outputs, out_dir


def parse_hidden(text: str) -> tuple[int, ...]:
    """'1000,500' → (1000, 500), with a one-line error naming --hidden."""
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise ValueError(f"--hidden takes widths separated by commas, e.g. 1000,500; got "
                         f"{text!r}") from None
    if not widths or min(widths) < 1:
        raise ValueError(f"--hidden widths must be at least 1, got {text!r}")
    return widths


@dataclasses.dataclass(frozen=True)
class ClassifyTask:
    """What ``stdpsim train classify`` asks for.

    Attributes
    ----------
    settings
        :class:`stdpsim.classifiers.ClassifyConfig`'s fields the user set (``hidden`` as
        text, e.g. '1000,500').
    data, labels, out
        MNIST folder; a label file for the training images (None: MNIST's own; one class
        per line, or ``.npy``, as many as the training file's images); the model file.
    """

    settings: dict
    data: str | None = None
    labels: str | None = None
    out: str = "runs/classifier.npz"


def train_classify(task: ClassifyTask, log: Log = print) -> Path:
    """Train a classifier and write it; returns its path."""
    from ..classifiers import ClassifyConfig
    from ..classifiers.files import from_trainer, save_classifier
    from ..classifiers.training import train_classifier

    settings = dict(task.settings)
    if isinstance(settings.get("hidden"), str):
        settings["hidden"] = parse_hidden(settings["hidden"])
    cfg = ClassifyConfig(**settings)
    out = check_output(task.out, "--out", ".npz")
    x, y = load_mnist("train", task.data)
    if task.labels is not None:
        y = labels.load_label_file(task.labels, x.shape[0])
    if x.shape[0] <= N_TRAIN:
        raise ValueError(f"need more than {N_TRAIN} training images, found {x.shape[0]}")
    trainer, history = train_classifier(cfg, x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:],
                                        y[N_TRAIN:], log=log)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_classifier(from_trainer(trainer), out)
    best = min(r["valid_error_feed_forward"] for r in history)
    log(f"wrote {out} (epoch {trainer.meta['chosen_epoch']}, validation error "
        f"{100 * best:.2f} %)")
    return out


def is_classifier(path: str) -> bool:
    """Whether a model file holds a classifier (its meta says ``task: classify``); False
    for anything else, including files that cannot be read (their reader says why)."""
    import json

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["meta"])).get("task") == "classify"
    except Exception:  # noqa: BLE001 (not readable as one: the generative reader reports)
        return False


@dataclasses.dataclass(frozen=True)
class EvaluateTask:
    """What ``stdpsim evaluate`` asks for with a classifier: its file, the MNIST folder,
    the comparators' results file (``experiments/classification.py``'s; None: none) and the
    results JSON (None: ``classification.json`` in a new run folder; the confusion matrices
    go beside it)."""

    model: str
    data: str | None = None
    results: str | None = None
    out: str | None = None


def evaluate(task: EvaluateTask, log: Log = print) -> dict:
    """Test error of a classifier (each way it classifies), a confusion-matrix figure per
    way, and the comparators' test errors beside it; returns the errors."""
    from .. import plotting
    from ..classifiers.files import load_classifier
    from ..runs import read_json, write_json

    classifier = load_classifier(task.model)
    comparators = read_json(task.results)["table"] if task.results else []
    out = Path(task.out) if task.out else out_dir(None, "evaluate") / "classification.json"
    folder = out.parent
    names = tuple(f"{out.stem}_confusion_{how}.png" for how in classifier.predictions)
    check_outputs(folder, names + (out.name,), "--out")
    x, y = load_mnist("test", task.data)
    errors = {}
    for how, name in zip(classifier.predictions, names):
        predicted = classifier.classify(x, how)
        errors[how] = labels.error_rate(predicted, y)
        cfg = classifier.cfg
        widths = (cfg.kh.hidden,) if cfg.learner == "krotov_hopfield" else cfg.hidden
        plotting.plot_confusion(labels.confusion_matrix(predicted, y), folder / name,
                                f"{cfg.learner} ({how.replace('_', '-')}), hidden "
                                f"{','.join(map(str, widths))}")
        log(f"test error ({how.replace('_', '-')}): {100 * errors[how]:.2f} % of "
            f"{len(y):,} images; confusion matrix {folder / name}")
    for row in comparators:
        log(f"  {row['learner']}, {row['depth']} hidden: {100 * row['test_error']:.2f} %"
            + (f" ({row['note']})" if row.get("note") else ""))
    result = {"model": str(task.model), "learner": classifier.cfg.learner,
              "test_error": errors, "n_test": int(len(y)), "comparators": comparators,
              "figures": [str(folder / n) for n in names]}
    write_json(out, result)
    log(f"wrote {out}")
    return result
