"""The supervised training's settings, one dataclass for every learner."""

from __future__ import annotations

import dataclasses

from .. import errors
from ..rate_model import PULLS
from ..rate_config import LOSSES
from ..rate_training import PREDICT_FROM
from .dtp import DTPSettings
from .krotov_hopfield import KHSettings

LEARNERS = ("targetprop", "backprop", "dtp", "krotov_hopfield")
"""The supervised learners (:mod:`stdpsim.classifiers`)."""

UNITS = ("softplus", "sigmoid")
"""The stack's hidden units (every encoder but the label layer's, every decoder but g1's):
softplus, as the rate model's h1, or sigmoid, bounded in (0, 1)."""

PREDICTIONS = ("feed_forward", "inference")
"""How a trained stack classifies: the feed-forward pass, or INFERENCE with the label layer
free (its value after ``n_steps`` iterations); the predicted class is the largest label
unit."""


def predictions(learner: str) -> tuple[str, ...]:
    """The ways a learner classifies (only targetprop's stack also by INFERENCE)."""
    return PREDICTIONS if learner == "targetprop" else ("feed_forward",)


@dataclasses.dataclass(frozen=True)
class ClassifyConfig:
    """Settings of a supervised training.

    Attributes
    ----------
    learner
        One of :data:`LEARNERS`.
    hidden
        Hidden layer widths (one per hidden layer, at least one); the stack is
        ``(n_visible, *hidden, n_classes)``.
    epochs, batch_size, lr, seed
        Passes over the training images, examples per step, learning rate of the optimiser
        (centred RMSprop for ``targetprop``, Adam for the others), random seed (weights,
        example order, corruption).
    n_steps, delta, alpha
        ``targetprop``: INFERENCE with the label clamped (iterations, step δ, the pull α of
        each layer towards the decoder's value from above).
    noise
        ``targetprop``: s.d. of the Gaussian corruption of every layer's input in its local
        problem (Algorithm 2's corruption, one level for all).
    pull, predict_from, loss
        ``targetprop``: how INFERENCE pulls each layer towards the state above
        (:data:`stdpsim.rate_model.PULLS`; ``difference``: by how far the layer's own
        prediction of the state above falls short, so a layer that already predicts the
        label is left where it is), what each encoder predicts from
        (:data:`stdpsim.rate_training.PREDICT_FROM`; ``feed_forward``: the bottom-up value
        below, as the network classifies) and its local loss
        (:data:`stdpsim.rate_config.LOSSES`; ``delta``: the delta rule, at the sigmoid
        label units the gradient of their cross-entropy, where ``through`` stalls once a
        unit saturates).
    units
        The hidden units (:data:`UNITS`).  With softplus units targetprop's INFERENCE
        runs away at two hidden layers and more (docs/classification.md); sigmoid units
        bound every value.
    dtp
        ``dtp``: its target step and its decoders' corruption.
    kh
        ``krotov_hopfield``: its settings (its hidden layer is ``kh.hidden`` wide; ``hidden``
        is not used); ``epochs`` and ``lr`` are its supervised stage's.
    """

    learner: str = "targetprop"
    hidden: tuple[int, ...] = (1000,)
    epochs: int = 20
    batch_size: int = 100
    lr: float = 1e-3
    seed: int = 0
    n_steps: int = 15
    delta: float = 0.1
    alpha: float = 0.1
    noise: float = 0.1
    pull: str = "difference"
    predict_from: str = "feed_forward"
    loss: str = "delta"
    units: str = "softplus"
    dtp: DTPSettings = DTPSettings()
    kh: KHSettings = KHSettings()

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        for name, kind in (("dtp", DTPSettings), ("kh", KHSettings)):
            if isinstance(getattr(self, name), dict):  # read back from a file's settings
                object.__setattr__(self, name, kind(**getattr(self, name)))
        checks = [
            (self.learner in LEARNERS,
             f"learner must be one of {LEARNERS}, got {self.learner!r}"),
            (len(self.hidden) >= 1 and min(self.hidden) >= 1,
             f"hidden needs at least one layer of at least one unit, got {self.hidden}"),
            (self.epochs >= 1 and self.batch_size >= 1, "epochs and batch_size must be >= 1"),
            (self.lr > 0, f"lr must be positive, got {self.lr}"),
            (self.n_steps >= 0 and self.delta > 0 and self.alpha >= 0,
             "n_steps and alpha must be >= 0, delta > 0"),
            (self.noise >= 0, f"noise must be non-negative, got {self.noise}"),
            (self.pull in PULLS, f"pull must be one of {PULLS}, got {self.pull!r}"),
            (self.predict_from in PREDICT_FROM,
             f"predict_from must be one of {PREDICT_FROM}, got {self.predict_from!r}"),
            (self.loss in LOSSES, f"loss must be one of {LOSSES}, got {self.loss!r}"),
            (self.units in UNITS, f"units must be one of {UNITS}, got {self.units!r}"),
        ]
        errors.require(checks)

    @classmethod
    def from_settings(cls, settings: dict) -> "ClassifyConfig":
        """The config that :func:`dataclasses.asdict` wrote."""
        return cls(**{**settings, "hidden": tuple(settings["hidden"])})

    def sizes(self, n_visible: int, n_classes: int) -> tuple[int, ...]:
        """The stack's widths, visible first, labels last."""
        return (n_visible, *self.hidden, n_classes)
