"""Dataset loaders: standard file formats -> numpy arrays and ``tf.data`` pipelines."""
import dataclasses
from typing import Callable

from zoo.data import binarized_mnist, newsgroups, text
from zoo.data.binarized_mnist import load_binarized_mnist
from zoo.data.pipeline import as_dataset, epoch_batches, steps_per_epoch
from zoo.data.files import data_root, download


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """load(**args) -> {split: array}; files(data_dir=None) -> the paths read (for checksums in cards)."""

    load: Callable
    files: Callable


DATASETS = {"binarized_mnist": DatasetSpec(load_binarized_mnist, binarized_mnist.source_files)}
DATASETS["20news"] = DatasetSpec(newsgroups.load_20news, newsgroups.source_files)
DATASETS["tinyshakespeare"] = DatasetSpec(text.load_char_text, text.char_text_files)
DATASETS["ptb"] = DatasetSpec(text.load_ptb, text.ptb_files)

__all__ = ["DATASETS", "DatasetSpec", "epoch_batches", "steps_per_epoch", "as_dataset", "data_root", "download", "load_binarized_mnist"]
from zoo.data import babi  # noqa: E402  (bAbI question answering, issue 14)
DATASETS["babi_1k"] = DatasetSpec(babi.loader("1k"), babi.source_files("1k"))
DATASETS["babi_10k"] = DatasetSpec(babi.loader("10k"), babi.source_files("10k"))
from zoo.data import sentences  # noqa: E402  (PTB as padded sentences: the sentence VAE, issue 10)
DATASETS["ptb_sentences"] = DatasetSpec(sentences.load_ptb_sentences, sentences.ptb_sentence_files)
from zoo.data import skipgram  # noqa: E402  (skip-gram pairs from PTB, issue 11)
DATASETS["ptb_skipgram"] = DatasetSpec(skipgram.load_skipgram_corpus, skipgram.skipgram_files)
