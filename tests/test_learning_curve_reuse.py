"""The learning-curve script's reuse of an earlier results file
(experiments/spiking_learning_curve.py): runs/ does not travel with the project, so a
published file stands in for the rate curves and the spiking runs it holds."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from stdpsim import rate_config
from stdpsim.runs import write_json

pytestmark = pytest.mark.quick


def _script():
    path = Path(__file__).resolve().parents[1] / "experiments" / "spiking_learning_curve.py"
    spec = importlib.util.spec_from_file_location("spiking_learning_curve", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reuse_takes_a_rate_curve_only_at_the_same_settings(tmp_path):
    c = _script()
    twin = rate_config.TrainConfig(rule="sdvdt", lr_encoders=2.5e-5, lr_decoders=2.5e-5,
                                   epochs=3, valid_every=1, valid_samples=1000)
    bounded = dataclasses.replace(twin, propagate=True, h_cap=5.0)
    points = [{"examples": 20000, "valid_parzen": 1.5}]
    published = tmp_path / "curves.json"
    write_json(published, {"settings": {}, "curves": [
        {"label": "twin", "points": points, "config": twin.settings()},
        {"label": "an old curve without its settings", "points": []}]})
    reused = c.reused_rate_curves(str(published))
    assert list(reused) == [json.dumps(twin.settings(), sort_keys=True)]
    # the stored curve comes back without training; another setting is not in the file
    assert c.rate_curve(twin, None, None, reused) == points
    assert json.dumps(bounded.settings(), sort_keys=True) not in reused


def test_a_run_whose_checkpoint_is_gone_comes_from_the_reused_file(tmp_path):
    c = _script()
    first, gone = tmp_path / "a" / "m.npz", tmp_path / "b" / "m.npz"
    old = {"settings": {"train": {"seed": 0}}, "curves": [
        {"label": "first", "run": c.shown_path(first), "points": [{"examples": 2000}]},
        {"label": "second", "run": c.shown_path(gone), "points": [{"examples": 4000}]}]}
    assert c.run_history(str(first), old) == ({"train": {"seed": 0}}, [{"examples": 2000}])
    assert c.run_history(str(gone), old) == (None, [{"examples": 4000}])
    with pytest.raises(Exception, match="checkpoint"):
        c.run_history(str(tmp_path / "never" / "m.npz"), old)
