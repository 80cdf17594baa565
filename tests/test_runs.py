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
