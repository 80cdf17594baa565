"""The documentation site builds with warnings as errors, and its API pages list the public
API."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.quick
def test_docs_build_without_warnings_and_list_the_public_api(tmp_path):
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
                           "-b", "html", "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"),
                           str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (out / "api.html").read_text()
    import stdpsim
    from stdpsim import spiking

    public = [getattr(stdpsim, name) for name in stdpsim.__all__ if name != "__version__"]
    public += [getattr(spiking, name) for name in spiking.__all__]
    for obj in public:  # documented where it is defined
        if hasattr(obj, "__qualname__"):
            anchor = f'id="{obj.__module__}.{obj.__qualname__}"'
            assert anchor in api, f"{anchor}: not in the API pages"
    for name in ("NEURONS", "PRESETS", "KINDS"):  # constants, by their modules' names
        assert f'.{name}"' in api, f"stdpsim.spiking.{name}: not in the API pages"
