"""Where the shipped (embedded default) model files are.

The repository's top-level ``models/`` folder is the source of truth.  A wheel carries its
``.npz`` files and model cards as the package data of ``stdpsim.shipped_models`` (setup.cfg
maps that package to ``models/``); a source checkout or an editable install reads
``models/`` directly.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

RATE_MODEL = "rate_mnist.npz"
"""The shipped rate model: the default of ``generate``, ``evaluate``, ``infer``, ``inpaint``."""
SPIKING_MODEL = "spiking_mnist.npz"
"""The model trained by the spiking S·dV/dt learner."""
PACKAGE = "stdpsim.shipped_models"
"""The package that holds the model files in an installed wheel."""
SOURCE_FOLDER = Path(__file__).resolve().parents[1] / "models"
"""``models/`` of a source checkout."""


def model_path(name: str = RATE_MODEL) -> Path:
    """The path of shipped model file ``name`` (e.g. ``"rate_mnist.npz"``): in the
    installed package when it is there, else in the checkout's ``models/`` folder."""
    try:
        candidate = resources.files(PACKAGE) / name
        if candidate.is_file():
            return Path(str(candidate))
    except (ModuleNotFoundError, TypeError):  # not installed as package data
        pass
    return SOURCE_FOLDER / name
