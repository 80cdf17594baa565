"""stdpsim data fetch: mirrors in order, published checksums, no partial files; against a
local HTTP server on 127.0.0.1 (no internet needed)."""

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from stdpsim import data, download
from stdpsim.cli import main

from test_data import write_idx


def _mnist_like(folder: Path) -> dict[str, str]:
    """Tiny gzipped IDX files under the four MNIST names; name -> MD5."""
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for split, (img_name, lab_name) in data.SPLITS.items():
        write_idx(folder / f"{img_name}.gz", imgs, gz=True)
        write_idx(folder / f"{lab_name}.gz", labels, gz=True)
    # in the order of the published list (t10k labels last)
    return {name: hashlib.md5((folder / name).read_bytes()).hexdigest()
            for name in download.MNIST_MD5}


class _Handler(http.server.SimpleHTTPRequestHandler):
    cut_after: int | None = None  # send only this many bytes of a file, then drop
    trickle_s: float | None = None  # send one byte every trickle_s seconds

    def log_message(self, *args):  # quiet
        pass

    def copyfile(self, source, outputfile):
        if self.trickle_s is not None:
            import time

            for byte in iter(lambda: source.read(1), b""):
                try:
                    outputfile.write(byte)
                    outputfile.flush()
                except OSError:  # the client gave up
                    return
                time.sleep(self.trickle_s)
            return
        if self.cut_after is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(self.cut_after))
        self.close_connection = True


@pytest.fixture
def server(tmp_path):
    """A server for tmp_path/www on 127.0.0.1; yields (base URL, www folder, handler)."""
    www = tmp_path / "www"
    www.mkdir()

    class Handler(_Handler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www, Handler
    httpd.shutdown()
    httpd.server_close()


def test_second_mirror_used_when_first_fails_and_files_load(server, tmp_path):
    base, www, _ = server
    checksums = _mnist_like(www / "good")
    dest = tmp_path / "dest"
    lines = []
    download.fetch_mnist(dest, mirrors=[f"{base}/missing/", f"{base}/good/"],
                         checksums=checksums, progress=False, log=lines.append)
    assert sorted(p.name for p in dest.iterdir()) == sorted(checksums)
    assert all("downloaded from" in line and "/good/" in line for line in lines)
    x, y = data.load_mnist("test", dest)
    assert x.shape == (5, 784) and y.tolist() == [0, 1, 2, 3, 4]
    # a second call downloads nothing
    lines.clear()
    download.fetch_mnist(dest, mirrors=[f"{base}/good/"], checksums=checksums,
                         progress=False, log=lines.append)
    assert all("present, checksum ok" in line for line in lines)


def test_wrong_checksum_refused_and_no_partial_file(server, tmp_path):
    base, www, _ = server
    checksums = _mnist_like(www / "bad")
    name = "t10k-labels-idx1-ubyte.gz"
    (www / "bad" / name).write_bytes(gzip.compress(b"not the published file"))
    dest = tmp_path / "dest"
    with pytest.raises(download.DownloadError, match=f"{name}: no mirror.*checksum"):
        download.fetch_mnist(dest, mirrors=[f"{base}/bad/"], checksums=checksums,
                             progress=False, log=lambda _: None)
    assert not (dest / name).exists()
    assert not list(dest.glob(".*part*"))  # no temporary file left behind
    # the files before it in the list arrived and stay
    assert (dest / "train-images-idx3-ubyte.gz").is_file()


def test_connection_dropped_mid_file_leaves_nothing(server, tmp_path):
    base, www, handler = server
    checksums = _mnist_like(www / "cut")
    handler.cut_after = 100
    dest = tmp_path / "dest"
    with pytest.raises(download.DownloadError, match="no mirror delivered.*Check the "
                       "connection.*point --data DIR or STDPSIM_DATA at it"):
        download.fetch_mnist(dest, mirrors=[f"{base}/cut/"], checksums=checksums,
                             progress=False, log=lambda _: None)
    assert list(dest.iterdir()) == []


def test_data_fetch_command_default_folder(server, tmp_path, monkeypatch, capsys):
    """``stdpsim data fetch`` fills the user cache folder, which the loader then reads
    without --data or STDPSIM_DATA; ``--mirror`` replaces the public mirrors."""
    base, www, _ = server
    checksums = _mnist_like(www / "m")
    monkeypatch.setattr(download, "MNIST_MD5", checksums)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    assert main(["data", "fetch", "--mirror", f"{base}/m/"]) == 0
    folder = tmp_path / "cache" / "stdpsim" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(checksums)
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "test: 5 images of 784 pixels" in out


def test_published_checksums_and_mirrors_listed():
    assert set(download.MNIST_MD5) == {f"{stem}.gz" for pair in data.SPLITS.values()
                                       for stem in pair}
    assert all(len(m) == 32 and int(m, 16) >= 0 for m in download.MNIST_MD5.values())
    assert len(download.MIRRORS) >= 2 and all(u.endswith("/") for u in download.MIRRORS)


@pytest.mark.quick
def test_a_trickling_mirror_fails_within_the_deadline(server, tmp_path, monkeypatch):
    """A mirror that sends a byte every 0.2 s never goes silent for the read timeout; the
    overall deadline (here 1 s) ends it, and nothing is left behind."""
    import time

    base, www, handler = server
    checksums = _mnist_like(www / "slow")
    handler.trickle_s = 0.2
    monkeypatch.setattr(download, "DEADLINE_S", 1.0)
    dest = tmp_path / "dest"
    t0 = time.monotonic()
    with pytest.raises(download.DownloadError, match="not complete after 1 s"):
        download.fetch_mnist(dest, mirrors=[f"{base}/slow/"], checksums=checksums,
                             progress=False, log=lambda _: None)
    assert time.monotonic() - t0 < 5
    assert list(dest.iterdir()) == []


@pytest.mark.quick
def test_partial_files_of_dead_fetches_are_removed(server, tmp_path):
    base, www, _ = server
    checksums = _mnist_like(www / "ok")
    dest = tmp_path / "dest"
    dest.mkdir()
    stale = dest / ".train-images-idx3-ubyte.gz.999999999.part"  # no such process
    stale.write_bytes(b"half")
    download.fetch_mnist(dest, mirrors=[f"{base}/ok/"], checksums=checksums, progress=False,
                         log=lambda _: None)
    assert not stale.exists() and len(list(dest.iterdir())) == 4
