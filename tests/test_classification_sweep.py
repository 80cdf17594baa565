"""The classification sweep's reuse of an earlier results file (experiments/classification.py)."""

import importlib.util
from pathlib import Path

import pytest

from stdpsim import sweeps
from stdpsim.runs import read_json, write_json

pytestmark = pytest.mark.quick


def _script():
    path = Path(__file__).resolve().parents[1] / "experiments" / "classification.py"
    spec = importlib.util.spec_from_file_location("classification_sweep", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reuse_takes_the_points_an_earlier_file_holds_and_nothing_else(tmp_path):
    """A stored backprop point matches though the older file recorded Krotov-Hopfield
    settings for it; a Krotov-Hopfield point must match in those settings too, and a point
    the file does not hold is left to run.  The seeded file is what the sweep's cache
    reads back for that point."""
    c = _script()
    bp = {"learner": "backprop", "depth": 1, "hidden": [1000], "epochs": 30, "lr": 1e-3}
    kh = {"learner": "krotov_hopfield", "depth": 1, "hidden": [1000], "epochs": 30,
          "kh_hidden": 2000, "kh_unsupervised_epochs": 50, "kh_eps0": 0.1, "lr": 1e-3,
          "beta": 1.0}
    new = dict(bp, lr=3e-4)
    published = tmp_path / "classification.json"
    write_json(published, {"points": [
        {"point": dict(bp, kh_hidden=2000, kh_epochs=100), "valid_error": 0.03},
        {"point": dict(kh, kh_eps0=0.02), "valid_error": 0.5}]})
    cache = tmp_path / "cache"
    assert c.seed_cache([bp, kh, new], str(published), str(cache)) == 1
    saved = read_json(cache / f"{sweeps.point_name(bp)}.json")
    assert saved == {"point": bp, "result": {"valid_error": 0.03}}
    assert sorted(p.name for p in cache.iterdir()) == [f"{sweeps.point_name(bp)}.json"]
