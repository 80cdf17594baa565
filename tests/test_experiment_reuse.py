"""The experiments' reuse of an earlier results file: runs/ does not travel with the project,
so a published file stands in for the sweep points (experiments/classification.py), and for
the rate curves and the spiking runs (experiments/spiking_learning_curve.py), that it holds."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from stdpsim import rate_config, sweeps
from stdpsim.runs import read_json, write_json

pytestmark = pytest.mark.quick


def _script(name: str):
    """An experiments/ script as a module."""
    path = Path(__file__).resolve().parents[1] / "experiments" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reuse_takes_the_points_an_earlier_file_holds_and_nothing_else(tmp_path):
    """A stored backprop point matches though the older file recorded Krotov-Hopfield
    settings for it; a Krotov-Hopfield point must match in those settings too, and a point
    the file does not hold is left to run.  The seeded file is what the sweep's cache
    reads back for that point."""
    c = _script("classification.py")
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


def test_reuse_takes_a_rate_curve_only_at_the_same_settings(tmp_path):
    c = _script("spiking_learning_curve.py")
    twin = rate_config.TrainConfig(rule="sdvdt", lr_encoders=2.5e-5, lr_decoders=2.5e-5,
                                   epochs=3, valid_every=1, valid_samples=1000)
    bounded = dataclasses.replace(twin, propagate=True, h_cap=5.0)
    points = [{"examples": 20000, "valid_parzen": 1.5}]
    published = tmp_path / "curves.json"
    write_json(published, {"settings": {}, "curves": [
        {"label": "twin", "points": points, "config": twin.settings()},
        {"label": "an old curve without its settings", "points": []}]})
    reused = c.reused_rate_curves(read_json(published))
    assert list(reused) == [json.dumps(twin.settings(), sort_keys=True)]
    # the stored curve comes back without training; another setting is not in the file
    assert c.rate_curve(twin, None, None, reused) == points
    assert json.dumps(bounded.settings(), sort_keys=True) not in reused


def test_a_run_whose_checkpoint_is_gone_comes_from_the_reused_file(tmp_path):
    c = _script("spiking_learning_curve.py")
    first, gone = tmp_path / "a" / "m.npz", tmp_path / "b" / "m.npz"
    old = {"settings": {"train": {"seed": 0}}, "curves": [
        {"label": "first", "run": c.shown_path(first), "points": [{"examples": 2000}]},
        {"label": "second", "run": c.shown_path(gone), "points": [{"examples": 4000}]}]}
    assert c.run_history(str(first), old) == ({"train": {"seed": 0}}, [{"examples": 2000}])
    assert c.run_history(str(gone), old) == (None, [{"examples": 4000}])
    with pytest.raises(Exception, match="checkpoint"):
        c.run_history(str(tmp_path / "never" / "m.npz"), old)
