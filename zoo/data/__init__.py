"""Dataset loaders: standard file formats -> numpy arrays and ``tf.data`` pipelines."""
import dataclasses
from typing import Callable

from zoo.data import binarized_mnist
from zoo.data.binarized_mnist import as_dataset, load_binarized_mnist
from zoo.data.files import data_root, download



@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """load(**args) -> {split: array}; files(data_dir=None) -> the paths read (for checksums in cards)."""

    load: Callable
    files: Callable


DATASETS = {"binarized_mnist": DatasetSpec(load_binarized_mnist, binarized_mnist.source_files)}

__all__ = ["DATASETS", "DatasetSpec", "as_dataset", "data_root", "download", "load_binarized_mnist"]
