"""A new user's first session, in a folder of their own: every command writes below ./runs/
(or the user cache for the data) and no tracked file of the checkout changes."""

import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from stdpsim import download
from stdpsim.cli import main

from test_download import _mnist_like

ROOT = Path(__file__).resolve().parents[1]


def _snapshot() -> dict:
    """Size and modification time of every file in the checkout's release folders, and
    ``git status`` where the checkout is a git clone."""
    files = {str(p): (p.stat().st_size, p.stat().st_mtime_ns)
             for folder in ("figures", "models", "stdpsim", "experiments")
             for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    git = shutil.which("git")
    status = subprocess.run([git, "-C", str(ROOT), "status", "--porcelain"],
                            capture_output=True, text=True).stdout if git else ""
    return {"files": files, "git": status}


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server with MNIST-like files (5 test images); yields its URL."""
    www = tmp_path / "www"
    checksums = _mnist_like(www)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", checksums
    httpd.shutdown()
    httpd.server_close()


def test_first_session_touches_no_tracked_file(tmp_path, monkeypatch, capsys, mirror):
    url, checksums = mirror
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.chdir(home)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("STDPSIM_DATA", raising=False)
    monkeypatch.setattr(download, "MNIST_MD5", checksums)
    before = _snapshot()

    assert main(["data", "fetch", "--mirror", url]) == 0
    # small settings, as in tests/test_cli.py, so that the compiled builds are shared
    assert main(["stdp-curve", "--trials", "20"]) == 0
    assert main(["infer", "spiking", "--n-images", "3", "--n-steps", "4"]) == 0
    (infer_run,) = (home / "runs").glob("infer-*")
    assert main(["raster", str(infer_run)]) == 0
    assert main(["generate", "rate", "--n", "100", "--figure"]) == 0
    capsys.readouterr()

    assert _snapshot() == before
    runs = sorted(p.name.rsplit("-", 2)[0] for p in (home / "runs").iterdir())
    assert runs == ["generate", "infer", "raster", "stdp-curve"]
    made = {p.relative_to(home / "runs").as_posix().split("/", 1)[1]
            for p in (home / "runs").rglob("*") if p.is_file()}
    assert made == {"fig1_stdp_curve.json", "fig1_stdp_curve.png", "spikes.npz",
                    "spiking_inference.json", "spiking_inference.png",
                    "spiking_inference_spikes.npz", "raster.png", "samples.npy",
                    "samples.png"}
    assert np.load(next((home / "runs").glob("generate-*/samples.npy"))).shape == (100, 784)
    assert sorted(p.name for p in (home / ".cache" / "stdpsim" / "mnist").iterdir()) \
        == sorted(checksums)
