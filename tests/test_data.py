"""The MNIST IDX loader on made-up files (good, gzip, truncated, wrong magic) and real data."""

import gzip
import os
import struct

import numpy as np
import pytest

from stdpsim import data


def write_idx(path, array, magic=None, truncate=0, gz=False):
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    raw = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.tobytes()
    raw = raw[: len(raw) - truncate]
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(raw)


@pytest.fixture
def mnist_dir(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5, 9], dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, gz=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs[:3])  # plain, not gzip
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels[:3])
    return tmp_path, imgs, labels


def test_good_files_gzip_and_plain(mnist_dir):
    folder, imgs, labels = mnist_dir
    x, y = data.load_mnist("train", folder)
    assert x.shape == (7, 784) and x.dtype == np.float32
    np.testing.assert_allclose(x, imgs.reshape(7, -1) / 255.0, rtol=1e-6)
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_array_equal(y, labels)
    x, y = data.load_mnist("test", folder)
    assert x.shape == (3, 784) and y.tolist() == [0, 1, 2]


def test_directory_from_environment(mnist_dir, monkeypatch):
    folder, _, _ = mnist_dir
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    assert data.load_mnist("test")[0].shape == (3, 784)


def test_truncated_file_names_file_and_sizes(mnist_dir):
    folder, imgs, _ = mnist_dir
    write_idx(folder / "t10k-images-idx3-ubyte", imgs[:3], truncate=10)
    with pytest.raises(data.DataError, match=r"t10k-images-idx3-ubyte: 2358 bytes, header "
                                             r"\(3, 28, 28\) needs 2368"):
        data.load_mnist("test", folder)


def test_wrong_magic_number(mnist_dir):
    folder, imgs, _ = mnist_dir
    write_idx(folder / "t10k-images-idx3-ubyte", imgs[:3], magic=0x0801)
    with pytest.raises(data.DataError, match="magic number 0x00000801, expected 0x00000803"):
        data.load_mnist("test", folder)


def test_not_gzip_despite_name(mnist_dir):
    folder, _, _ = mnist_dir
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not a gzip file at all")
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.gz: cannot read"):
        data.load_mnist("train", folder)


def test_count_mismatch_and_bad_labels(mnist_dir):
    folder, imgs, labels = mnist_dir
    write_idx(folder / "t10k-labels-idx1-ubyte", labels[:2])
    with pytest.raises(data.DataError, match="3 images but .* 2 labels"):
        data.load_mnist("test", folder)
    write_idx(folder / "t10k-labels-idx1-ubyte", np.array([1, 2, 12]))
    with pytest.raises(data.DataError, match="label 12 outside 0..9"):
        data.load_mnist("test", folder)


def test_missing_folder_file_and_unset_env(tmp_path, monkeypatch):
    with pytest.raises(data.DataError, match=r"\(--data\) does not exist: point --data DIR "
                                             "or STDPSIM_DATA .* run 'stdpsim data fetch'"):
        data.load_mnist("train", tmp_path / "nope")
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "gone"))
    with pytest.raises(data.DataError, match=r"gone \(\$STDPSIM_DATA\) does not exist"):
        data.load_mnist("train")
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.*not found"):
        data.load_mnist("train", tmp_path)
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(data.DataError, match="run 'stdpsim data fetch'.*--data DIR or set "
                                             "STDPSIM_DATA"):
        data.load_mnist("train")
    with pytest.raises(data.DataError, match="unknown split"):
        data.load_mnist("valid", tmp_path)


def test_misleading_cases_name_the_file(mnist_dir):
    # issue 12: --data naming a file said the folder did not exist; a zero-image file and
    # images of another size did not say which file
    folder, imgs, labels = mnist_dir
    with pytest.raises(data.DataError, match="is a file; give the folder"):
        data.load_mnist("train", folder / "t10k-labels-idx1-ubyte")
    write_idx(folder / "t10k-images-idx3-ubyte", imgs[:0])
    write_idx(folder / "t10k-labels-idx1-ubyte", labels[:0])
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte: holds no images"):
        data.load_mnist("test", folder)
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((3, 14, 14)))
    write_idx(folder / "t10k-labels-idx1-ubyte", labels[:3])
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte: images of 14 × 14"):
        data.load_mnist("test", folder)


@pytest.mark.skipif(not os.environ.get(data.DATA_ENV), reason="STDPSIM_DATA not set")
def test_real_mnist_counts_from_header():
    x, y = data.load_mnist("test")
    assert x.shape == (10000, 784)
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x, y = data.load_mnist("train")
    assert x.shape[0] == y.shape[0] >= 22699
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
