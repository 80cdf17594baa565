"""Dependency pins: every supported Python gets a brian2/numpy pair that imports."""

import configparser
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"


def pins_for(python_version: str) -> dict[str, SpecifierSet]:
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    lines = cfg["options"]["install_requires"].strip().splitlines()
    env = {"python_version": python_version, "python_full_version": python_version + ".0"}
    out = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            assert req.name not in out, f"two pins for {req.name} on Python {python_version}"
            out[req.name] = req.specifier
    return out


@pytest.mark.parametrize("py", ["3.11", "3.12", "3.13", "3.14"])
def test_each_python_gets_exactly_one_brian2_and_numpy_pin(py):
    pins = pins_for(py)
    assert "brian2" in pins and "numpy" in pins


def test_python_311_avoids_brian2_29_with_numpy_24():
    pins = pins_for("3.11")
    # brian2 2.9.x (the newest for 3.11) calls ndarray.ptp, removed in numpy 2.4
    assert "2.9.0" in pins["brian2"] and "2.10.0" not in pins["brian2"]
    assert "2.3.5" in pins["numpy"] and "2.4.0" not in pins["numpy"]


def test_installed_brian2_imports_and_runs_with_installed_numpy():
    import brian2
    import numpy as np

    assert brian2.__version__ and np.__version__
    # importing brian2 is the check (2.9 reads ndarray.ptp when it defines Quantity, and
    # numpy 2.4 removed it); then a little unit arithmetic
    q = np.arange(3.0) * brian2.mV
    assert float(np.max(q) / brian2.mV) == pytest.approx(2.0)
    assert sys.version_info >= (3, 11)
