"""Saved-run helpers: file digests that name cached partial results."""

import hashlib

from stdpsim.runs import file_digest


def test_file_digest_is_the_sha256_of_the_bytes_and_sees_one_changed_byte(tmp_path):
    path = tmp_path / "model.npz"
    data = bytes(range(256)) * 5000  # > 1 MiB: read in more than one block
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()[:16]
    assert len(file_digest(path, 40)) == 40
    path.write_bytes(data[:-1] + b"\x00")
    assert file_digest(path) != hashlib.sha256(data).hexdigest()[:16]
