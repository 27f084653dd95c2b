"""Binarised MNIST loaders: both formats, the checksum-pinned download, and every bad-file case."""
import hashlib
import zipfile

import numpy as np
import pytest

from zoo.data import as_dataset, data_root, download, load_binarized_mnist
from zoo.data.binarized_mnist import load_split, read_amat, read_npz


def write_amat(path, images):
    path.write_text("".join(" ".join(str(int(v)) for v in row) + "\n" for row in images))


def test_npz_round_trip(tiny_data_dir):
    data = load_binarized_mnist()
    assert {k: v.shape for k, v in data.items()} == {"train": (120, 784), "valid": (40, 784), "test": (40, 784)}
    assert data["train"].dtype == np.float32 and set(np.unique(data["train"])) <= {0.0, 1.0}
    assert load_binarized_mnist(limit=5)["test"].shape == (5, 784)


def test_zoo_data_dir_is_respected(tiny_data_dir):
    assert data_root() == tiny_data_dir


def test_corrupt_npz_names_the_file(tmp_path):
    path = tmp_path / "binarized_mnist.npz"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(ValueError, match=f"{path}: not a .npz file"):
        read_npz(path, "train")


@pytest.mark.parametrize("arrays, message", [
    ({"valid": np.zeros((2, 784), np.uint8)}, r"no array 'train'"),
    ({"train": np.zeros((2, 28, 28), np.uint8)}, r"expected shape \(N, 784\), got \(2, 28, 28\)"),
    ({"train": np.full((2, 784), 7, np.uint8)}, r"\['train'\].*binary values.*7"),
])
def test_bad_npz_contents(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        read_npz(path, "train")


def test_unknown_split(tiny_data_dir):
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        load_split("dev")


def test_amat_text_format(tmp_path):
    images = (np.random.RandomState(0).uniform(size=(3, 784)) < 0.3).astype(np.uint8)
    path = tmp_path / "binarized_mnist_test.amat"
    write_amat(path, images)
    np.testing.assert_array_equal(read_amat(path), images)


def test_amat_errors_name_file_and_line(tmp_path):
    path = tmp_path / "x.amat"
    path.write_text(" ".join(["0"] * 784) + "\n" + " ".join(["1"] * 783) + "\n")
    with pytest.raises(ValueError, match=f"{path}:2: expected 784 values, found 783"):
        read_amat(path)
    path.write_text(" ".join(["0"] * 783 + ["2"]) + "\n")
    with pytest.raises(ValueError, match=f"{path}:1: expected 0/1 values, found '2'"):
        read_amat(path)
    path.write_bytes(b"MATLAB 5.0 MAT-file, Platform: MACI64")
    with pytest.raises(ValueError, match="MATLAB v5 binary"):
        read_amat(path)


def test_amat_folder_is_read_when_there_is_no_npz(tmp_path):
    folder = tmp_path / "binarized_mnist"
    folder.mkdir()
    images = np.eye(2, 784, dtype=np.uint8)
    for split in ("train", "valid", "test"):
        write_amat(folder / f"binarized_mnist_{split}.amat", images)
    np.testing.assert_array_equal(load_split("valid", data_dir=tmp_path, allow_download=False), images)


def test_missing_data_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no binarized MNIST"):
        load_split("train", data_dir=tmp_path, allow_download=False)


def test_download_checks_sha256(tmp_path):
    source = tmp_path / "source.amat"
    source.write_bytes(b"0 1\n")
    digest = hashlib.sha256(b"0 1\n").hexdigest()
    target = tmp_path / "cache" / "file.amat"
    assert download(source.as_uri(), target, digest).read_bytes() == b"0 1\n"
    wrong = tmp_path / "cache" / "wrong.amat"
    with pytest.raises(IOError, match="expected 0000"):
        download(source.as_uri(), wrong, "0" * 64)
    assert not wrong.exists() and len(list(wrong.parent.iterdir())) == 1


def test_pipeline_batches_and_shuffles_every_example():
    x = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 784), np.float32)
    batches = list(as_dataset(x, 4, shuffle=True, seed=1))
    assert [len(b) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b.numpy()[:, 0] for b in batches])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))


def test_shared_data_when_present():
    path = data_root() / "binarized_mnist" / "binarized_mnist.npz"
    if not path.exists():
        pytest.skip("../shared/data not present")
    with zipfile.ZipFile(path) as archive:
        assert {"train.npy", "valid.npy", "test.npy"} <= set(archive.namelist())
    assert read_npz(path, "valid").shape == (10000, 784)
