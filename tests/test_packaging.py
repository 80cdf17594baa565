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


def test_every_subpackage_on_disk_is_listed_in_setup_cfg():
    """A folder of stdpsim/ with an __init__.py that setup.cfg does not list is left out of
    the wheel, and the installed CLI fails to import it."""
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    listed = {line.strip() for line in cfg["options"]["packages"].splitlines() if line.strip()}
    root = SETUP_CFG.parent
    on_disk = {".".join(init.parent.relative_to(root).parts)
               for init in (root / "stdpsim").rglob("__init__.py")}
    assert on_disk - listed == set()


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


WHEEL_SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "stdpsim", "models")
"""What a wheel is built from (copied, so the build leaves nothing in the checkout)."""


def test_wheel_carries_the_shipped_model_into_a_fresh_venv(tmp_path):
    """pip install of the wheel (not editable) into a new venv; stdpsim generate then finds
    the shipped model inside the installed package, run from a folder outside the
    checkout."""
    import shutil
    import subprocess
    import sysconfig

    pytest.importorskip("wheel")
    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"
    src.mkdir()
    for name in WHEEL_SOURCES:
        (shutil.copytree if (root / name).is_dir() else shutil.copy)(
            root / name, src / name, **({"ignore": shutil.ignore_patterns(
                "__pycache__", "*.ckpt.npz")} if (root / name).is_dir() else {}))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(src)], check=True, cwd=src,
                   capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("stdpsim-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"], check=True,
                             capture_output=True, text=True).stdout.strip()
    # the dependencies come from this environment (no network); its .pth files, among
    # them an editable stdpsim, are not read from there
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run([str(venv / "bin" / "stdpsim"), "generate", "rate", "--n", "2",
                          "--out",
                          "x.npy"], cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    import numpy as np

    assert np.load(work / "x.npy").shape == (2, 784)
    where = subprocess.run([str(python), "-c", "import stdpsim, stdpsim.shipped as s; "
                            "print(stdpsim.__file__); print(s.model_path())"], cwd=work,
                           check=True, capture_output=True, text=True).stdout.split()
    assert all(p.startswith(purelib) for p in where), where
