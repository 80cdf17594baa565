"""Saved-run helpers: file digests that name cached partial results, output checks, atomic
writes."""

import hashlib
import os

import numpy as np
import pytest

from stdpsim.runs import RunFileError, check_output, file_digest, save_npy


def test_file_digest_is_the_sha256_of_the_bytes_and_sees_one_changed_byte(tmp_path):
    path = tmp_path / "model.npz"
    data = bytes(range(256)) * 5000  # > 1 MiB: read in more than one block
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()[:16]
    assert len(file_digest(path, 40)) == 40
    path.write_bytes(data[:-1] + b"\x00")
    assert file_digest(path) != hashlib.sha256(data).hexdigest()[:16]


def test_check_output_refuses_devices_and_leaves_nothing(tmp_path):
    with pytest.raises(RunFileError, match="--out /dev/null: exists and is not a regular file"):
        check_output("/dev/null", "--out")
    target = tmp_path / "deep" / "er" / "a.npy"
    assert check_output(target, "--out", ".npy") == target
    assert list(tmp_path.iterdir()) == []  # no folder made, the probe removed
    (tmp_path / "deep").write_text("a file")
    with pytest.raises(RunFileError, match="deep is not a folder"):
        check_output(target, "--out", ".npy")
    (tmp_path / "deep").unlink()
    save_npy(target, np.arange(3))
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.npy"]  # no temporary left


@pytest.mark.parametrize("damage, message", [
    (lambda d: b"", "it is empty"),
    (lambda d: b"hello\n", "does not start like a zip archive"),
    (lambda d: d[:len(d) - 60], "not a readable .npz spike file"),
    (lambda d: d[:200] + bytes([d[200] ^ 255]) + d[201:], "not a readable .npz spike file"),
])
def test_damaged_npz_files_get_one_error_naming_the_file(tmp_path, damage, message):
    # issue 12: a zero-byte file read as "interrupted" (EOFError became click's Abort), a
    # truncated zip gave a traceback, a text file talked about pickles
    from stdpsim.runs import load_npz

    good = tmp_path / "good.npz"
    np.savez(good, a=np.arange(1000))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(RunFileError, match=f"{bad}: .*{message}"):
        load_npz(bad, "spike")


def test_temporaries_of_killed_writes_are_removed_by_the_next_write(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    target = tmp_path / "samples[1].npy"
    left = tmp_path / f".samples[1].npy.{dead}.tmp.npy"
    left.write_bytes(b"half a file")
    other = tmp_path / f".other.npy.{dead}.tmp.npy"  # another file's: not ours to judge
    other.write_bytes(b"x")
    live = tmp_path / f".samples[1].npy.{os.getppid()}.tmp.npy"  # a live writer's
    live.write_bytes(b"y")
    save_npy(target, np.arange(4))
    assert not left.exists() and other.exists() and live.exists()
    np.testing.assert_array_equal(np.load(target), np.arange(4))


def _full_disk(monkeypatch, free_bytes, fail_after_bytes=None):
    """A file system with ``free_bytes`` free; with ``fail_after_bytes``, numpy's savers
    write that much of a file and then fail as a full disk does (ENOSPC)."""
    import errno
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**12, 0, free_bytes))
    if fail_after_bytes is not None:
        def full(file, *a, **kw):
            with open(file, "wb") as fh:
                fh.write(b"\0" * fail_after_bytes)
            raise OSError(errno.ENOSPC, "No space left on device")
        for name in ("save", "savez", "savez_compressed"):
            monkeypatch.setattr(np, name, full)


def test_a_full_disk_is_refused_up_front_with_the_estimate(tmp_path, monkeypatch, capsys):
    """train rate to a file system with 10 MB free: refused before any work (the default
    network needs about 170 MB for its model, checkpoints and card), nothing written."""
    from stdpsim.cli import main

    _full_disk(monkeypatch, 10 * 10**6)
    code = main(["train", "rate", "--out", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert "needs about 170 MB, only 10 MB free there" in err[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writer", ["model", "checkpoint", "json", "npy", "figure"])
def test_a_write_that_fills_the_disk_leaves_no_temporary(tmp_path, monkeypatch, writer):
    """Every writer: the disk fills half-way through; one RunFileError names the file and
    the cause, the temporary is gone, and an earlier version of the file is kept."""
    import matplotlib

    matplotlib.use("Agg")
    from stdpsim import model_files, plotting, rate_config, rate_model, runs, training

    model = rate_model.init_model(np.random.default_rng(0),
                                  rate_config.TrainConfig(sizes=(6, 4, 2)).layers)
    path = tmp_path / {"model": "m.npz", "checkpoint": "c.npz", "json": "r.json",
                       "npy": "s.npy", "figure": "f.png"}[writer]
    path.write_bytes(b"the earlier version")

    def write():
        if writer == "model":
            model_files.save_model(model, path)
        elif writer == "checkpoint":
            training.write_checkpoint(path, model, {"epoch": 1})
        elif writer == "json":
            runs.write_json(path, {"a": 1})
        elif writer == "npy":
            runs.save_npy(path, np.zeros(3))
        else:
            import matplotlib.figure

            fig = matplotlib.figure.Figure()
            fig.savefig = lambda file, **kw: np.save(file, np.zeros(1))  # fails as numpy's
            plotting.common.save(fig, path)
    _full_disk(monkeypatch, 10**12, fail_after_bytes=1000)
    if writer == "json":  # text: the disk fills in write_text
        import errno
        from pathlib import Path

        def full(self, *a, **kw):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(RunFileError, match=r"could not be written \(No space left on "
                                           r"device\); nothing was left behind"):
        write()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert path.read_bytes() == b"the earlier version"


@pytest.mark.quick
def test_an_experiment_goes_on_only_with_results_of_its_own_settings(tmp_path):
    from stdpsim.runs import results_to_continue, write_json

    out = tmp_path / "r.json"
    assert results_to_continue(out, {"epochs": 2}, "variants") == {"settings": {"epochs": 2},
                                                                   "variants": {}}
    write_json(out, {"settings": {"epochs": 2}, "variants": {"all": [1.0]}})
    assert results_to_continue(out, {"epochs": 2}, "variants")["variants"] == {"all": [1.0]}
    assert results_to_continue(out, {"epochs": 3}, "variants")["variants"] == {}


@pytest.mark.quick
def test_variant_experiments_resume_with_the_missing_variants(tmp_path, monkeypatch):
    """The twin experiments' loop trains only what the results file lacks at the same
    settings, writes after each variant, and starts afresh when a setting changes."""
    import argparse

    from stdpsim.tasks import twin_variants

    loads, trained = [], []
    monkeypatch.setattr(twin_variants, "training_split",
                        lambda data: loads.append(data) or (np.zeros((3, 2)), np.ones((1, 2))))

    def run_one(name, x_train, x_valid, args):
        trained.append(name)
        if name == "b" and len(trained) == 2:
            raise KeyboardInterrupt  # stopped during the second variant
        return [[1, float(x_train.shape[0] + x_valid.sum())]]

    args = argparse.Namespace(data="D", variant=[], epochs=1, lr=1e-3, valid_samples=10,
                              out=str(tmp_path / "r.json"))
    with pytest.raises(KeyboardInterrupt):
        twin_variants.run_variants(args, ["a", "b"], run_one, str, log=lambda s: None)
    lines = []
    results = twin_variants.run_variants(args, ["a", "b"], run_one, str, log=lines.append)
    assert trained == ["a", "b", "b"]  # "a" was kept
    assert results["variants"] == {"a": [[1, 5.0]], "b": [[1, 5.0]]}
    assert lines[0] == "a: [[1, 5.0]]" and lines[-1].startswith("wrote ")
    twin_variants.run_variants(args, ["a", "b"], run_one, str, log=lambda s: None)
    assert trained == ["a", "b", "b"] and loads == ["D", "D"]  # nothing left: no data read
    args.epochs = 2
    twin_variants.run_variants(args, ["a", "b"], run_one, str, log=lambda s: None)
    assert trained == ["a", "b", "b", "a", "b"]
    args.valid_samples = 1
    with pytest.raises(ValueError, match="--valid-samples must be at least 2, got 1"):
        twin_variants.run_variants(args, ["a"], run_one, str)
