"""Statically binarised MNIST (Larochelle & Murray 2011 split: 50,000 train / 10,000 valid / 10,000 test).

Two file formats are read from ``<data root>/binarized_mnist/``:

* ``binarized_mnist.npz`` with arrays ``train``, ``valid``, ``test``: uint8 (N, 784) in {0, 1};
* Larochelle's text files ``binarized_mnist_{train,valid,test}.amat``: one image a line, 784
  space-separated 0/1 values. When neither is present they are downloaded from
  Larochelle's site with the sha256 pinned by TensorFlow Datasets.

The test split of the shared copy is sorted by class: the pipelines shuffle.
"""
import zipfile
import zlib
from pathlib import Path

import numpy as np

from zoo.data.files import data_root, download
from zoo.data.reading import DataFileError, excerpt, line_error, text_lines
from zoo.data.validation import check_binary

SPLITS = {"train": 50000, "valid": 10000, "test": 10000}
PIXELS = 784
AMAT_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/binarized_mnist_{split}.amat"
AMAT_SHA256 = {  # tensorflow_datasets/datasets/binarized_mnist/checksums.tsv
    "train": "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
    "valid": "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2",
    "test": "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
}


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")


def _validated(array, what):
    array = np.asarray(array)
    if array.ndim != 2 or array.shape[1] != PIXELS:
        raise ValueError(f"{what}: expected shape (N, {PIXELS}), got {array.shape}")
    check_binary(array, what)
    return array.astype(np.uint8)


def read_npz(path, split):
    """uint8 (N, 784) array ``split`` of an ``.npz``; errors name the file and the key."""
    _check_split(split)
    if not zipfile.is_zipfile(path):
        raise DataFileError(f"{path}: not a .npz file, or a truncated one (an .npz is a zip archive of .npy "
                            "arrays, with its directory at the end)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if split not in archive.files:
                raise DataFileError(f"{path}: no array {split!r} (has {archive.files})")
            array = archive[split]
    except DataFileError:
        raise
    except ValueError as err:  # an object (pickled) array: never unpickled, it could run code
        raise DataFileError(f"{path}[{split!r}]: not a plain numeric array ({str(err)[:120]})") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, KeyError) as err:  # not a zip, a truncated member
        raise DataFileError(f"{path}: not a readable .npz file ({type(err).__name__}: {str(err)[:120]})") from None
    return _validated(array, f"{path}[{split!r}]")


def read_amat(path):
    """uint8 (N, 784) from Larochelle's text ``.amat``; errors name the file and line."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(20)
    if head.startswith(b"MATLAB"):
        raise ValueError(f"{path}: this .amat is a MATLAB v5 binary file, not Larochelle's text format; "
                         "use binarized_mnist.npz or the original text files")
    rows = []
    for line_number, line in text_lines(path, "image file", encoding="ascii"):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != PIXELS:
            raise line_error(path, line_number, f"expected {PIXELS} values, found {len(fields)}")
        if any(v not in ("0", "1") for v in fields):
            bad = next(v for v in fields if v not in ("0", "1"))
            raise line_error(path, line_number, f"expected 0/1 values, found {excerpt(bad)}")
        rows.append(np.frombuffer(" ".join(fields).encode()[::2], dtype=np.uint8) - ord("0"))
    if not rows:
        raise DataFileError(f"{path}: no images")
    return np.stack(rows)


def load_split(split, data_dir=None, allow_download=True):
    """uint8 (N, 784) images of one split, from the first format found (see module doc)."""
    _check_split(split)
    folder = data_root(data_dir) / "binarized_mnist"
    npz = folder / "binarized_mnist.npz"
    if npz.exists():
        return read_npz(npz, split)
    amat = folder / f"binarized_mnist_{split}.amat"
    if not amat.exists():
        if not allow_download:
            raise FileNotFoundError(f"no binarized MNIST in {folder} (looked for {npz.name} and {amat.name})")
        amat = download(AMAT_URL.format(split=split), amat, AMAT_SHA256[split])
    return read_amat(amat)


def load_binarized_mnist(data_dir=None, limit=None, allow_download=True):
    """{"train", "valid", "test"} -> float32 (N, 784) arrays; ``limit`` keeps the first rows of each."""
    return {split: load_split(split, data_dir, allow_download)[:limit].astype(np.float32) for split in SPLITS}


def source_files(data_dir=None):
    """The files ``load_split`` reads, for the model card's data checksums."""
    folder = data_root(data_dir) / "binarized_mnist"
    npz = folder / "binarized_mnist.npz"
    return [npz] if npz.exists() else [folder / f"binarized_mnist_{s}.amat" for s in SPLITS]
