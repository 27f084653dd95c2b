"""20 Newsgroups bag of words in the NVDM format (Miao, Yu & Blunsom, ICML 2016).

Files in ``<data root>/20news-nvdm/`` (the original NVDM files, see SOURCE.md there):

* ``train.feat`` (11,268 documents) and ``test.feat`` (7,505 documents): one document a line,
  ``label idx:count idx:count ...``; ``label`` is the newsgroup 1..20, ``idx`` a 1-based index into
  the vocabulary, ``count`` how often the word occurs (NVDM's utils.py stores ``doc[idx - 1] = count``);
* ``vocab.new``: 2,000 lines ``word count``; line i is index i.

When absent they are downloaded from github.com/ysmiao/nvdm with pinned sha256.

Malformed lines (a pair that is not ``int:int``, an index outside 1..V, a repeated index, a negative
count, a non-integer label, a document with no words) raise ``ValueError`` naming the file and the
line; with ``skip_malformed=True`` they are skipped instead and counted in ``Corpus.skipped``.

The test set is never used for model selection: ``load_20news`` holds out ``valid_size`` documents
of train (a fixed random subset) as the validation split.
"""
import dataclasses
import re
from typing import Optional

import numpy as np
import tensorflow as tf

from zoo.data.files import data_root, download
from zoo.data.reading import DataFileError, excerpt, line_error, text_lines

FOLDER = "20news-nvdm"
FILES = {"train": "train.feat", "test": "test.feat"}
VOCAB_FILE = "vocab.new"
URL = "https://raw.githubusercontent.com/ysmiao/nvdm/19bc3d630bc0bace13555e2515de082771827a76/data/20news/{name}"
SHA256 = {  # ../shared/data/20news-nvdm/SOURCE.md
    "train.feat": "55dfc0cc4e8aac22484ed93a4d785bb171959a00e8ffbca6f13c1c80d8cc4ce5",
    "test.feat": "344eff7e61116d72abd6ebc3d3c1e286c0474b41bf85ab09c8b898e0a5ff80c1",
    "vocab.new": "afbe73140a0d39578e6ae33914e049e6587768c088a0501392afda20ca3c85a8",
}
NEWSGROUPS = 20
VOCAB_SIZE = 2000


@dataclasses.dataclass
class Corpus:
    """Documents as a compressed sparse row matrix of word counts.

    indptr (N + 1,), indices (nnz,) 0-based word ids, counts (nnz,): document d's words are
    ``indices[indptr[d]:indptr[d + 1]]``. labels (N,) int32 (1..20 for 20News), vocab_size V,
    skipped: malformed lines skipped (only with ``skip_malformed=True``), source: the file read.
    """

    indptr: np.ndarray
    indices: np.ndarray
    counts: np.ndarray
    labels: np.ndarray
    vocab_size: int
    skipped: int = 0
    source: Optional[str] = None

    def __len__(self):
        return len(self.labels)

    @property
    def lengths(self):
        """N_d, the number of tokens of each document: (N,) float32."""
        return np.add.reduceat(self.counts, self.indptr[:-1]).astype(np.float32) if len(self) else np.zeros(0)

    def dense(self):
        """(N, V) float32 counts."""
        out = np.zeros((len(self), self.vocab_size), np.float32)
        rows = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        out[rows, self.indices] = self.counts
        return out

    def subset(self, rows):
        rows = np.asarray(rows)
        starts, stops = self.indptr[rows], self.indptr[rows + 1]
        take = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)]) if len(rows) else np.zeros(0, int)
        indptr = np.concatenate([[0], np.cumsum(stops - starts)])
        return Corpus(indptr, self.indices[take], self.counts[take], self.labels[rows], self.vocab_size, 0, self.source)

    def to_sparse(self):
        """A ``tf.sparse.SparseTensor`` (N, V) of float32 counts."""
        rows = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        return tf.sparse.reorder(tf.sparse.SparseTensor(np.stack([rows, self.indices], 1).astype(np.int64),
                                                        self.counts.astype(np.float32), [len(self), self.vocab_size]))


def read_vocab(path):
    """The words of ``vocab.new`` (``word count`` a line), in index order; errors name the file and line."""
    words, first_seen = [], {}
    for line_number, line in text_lines(path, "vocabulary file"):
        fields = line.split()
        if not fields:
            raise line_error(path, line_number, "empty vocabulary line (expected 'word count')")
        word = fields[0]
        if word in first_seen:
            raise line_error(path, line_number, f"word {excerpt(word)} repeats line {first_seen[word]}")
        first_seen[word] = line_number
        words.append(word)
    if not words:
        raise DataFileError(f"{path}: no words (an empty vocabulary file)")
    return words


def read_feat(path, vocab_size=VOCAB_SIZE, skip_malformed=False, num_labels=NEWSGROUPS):
    """A ``Corpus`` from an NVDM ``.feat`` file; see the module doc for the checks. Labels must lie in
    1..``num_labels`` (the 20 newsgroups)."""
    indptr, indices, counts, labels = [0], [], [], []
    skipped = 0
    for line_number, line in text_lines(path, "document file"):
        try:
            label, words, numbers = _parse_line(line, vocab_size, num_labels)
        except ValueError as err:
            if skip_malformed:
                skipped += 1
                continue
            raise line_error(path, line_number, str(err)) from None
        labels.append(label)
        indices.extend(words)
        counts.extend(numbers)
        indptr.append(len(indices))
    if not labels:
        raise DataFileError(f"{path}: no documents" + (f" ({skipped} malformed lines skipped)" if skipped else ""))
    return Corpus(np.asarray(indptr, np.int64), np.asarray(indices, np.int32), np.asarray(counts, np.float32),
                  np.asarray(labels, np.int32), int(vocab_size), skipped, str(path))


def _parse_line(line, vocab_size, num_labels=NEWSGROUPS):
    fields = line.split()
    if not fields:
        raise ValueError("empty line (no label, no words)")
    try:
        label = int(fields[0])
    except ValueError:
        raise ValueError(f"label {excerpt(fields[0])} is not an integer") from None
    if not 1 <= label <= num_labels:
        raise ValueError(f"label {label} out of range 1..{num_labels}")
    words, numbers, seen = [], [], set()
    for pair in fields[1:]:
        idx, sep, count = pair.partition(":")
        try:
            if not sep:
                raise ValueError
            idx, count = int(idx), int(count)
        except ValueError:
            raise ValueError(f"bad pair {excerpt(pair)}, expected idx:count with integers") from None
        if not 1 <= idx <= vocab_size:
            raise ValueError(f"word index {idx} out of range 1..{vocab_size} (1-based) in {excerpt(pair)}")
        if count < 0:
            raise ValueError(f"negative count in {excerpt(pair)}")
        if idx in seen:
            raise ValueError(f"word index {idx} repeated")
        seen.add(idx)
        if count:
            words.append(idx - 1)
            numbers.append(count)
    if not words:
        raise ValueError("empty document (no word with a positive count)")
    return label, words, numbers


def write_feat(path, corpus):
    """Writes ``corpus`` in the NVDM format (the inverse of ``read_feat``)."""
    with open(path, "w", encoding="utf-8") as f:
        for d in range(len(corpus)):
            a, b = corpus.indptr[d], corpus.indptr[d + 1]
            pairs = " ".join(f"{i + 1}:{int(c)}" for i, c in zip(corpus.indices[a:b], corpus.counts[a:b]))
            f.write(f"{int(corpus.labels[d])} {pairs}\n")


def folder_path(data_dir=None, allow_download=True):
    folder = data_root(data_dir) / FOLDER
    for name in (*FILES.values(), VOCAB_FILE):
        if not (folder / name).exists():
            if not allow_download:
                raise FileNotFoundError(f"no {name} in {folder}")
            download(URL.format(name=name), folder / name, SHA256[name])
    return folder


def load_corpora(data_dir=None, skip_malformed=False, allow_download=True):
    """{"train": Corpus, "test": Corpus, "vocabulary": [V words]} from the files as they are."""
    folder = folder_path(data_dir, allow_download)
    vocabulary = read_vocab(folder / VOCAB_FILE)
    out = {split: read_feat(folder / name, len(vocabulary), skip_malformed) for split, name in FILES.items()}
    out["vocabulary"] = vocabulary
    return out


def split_train(corpus, valid_size, seed=0):
    """(train, valid): ``valid_size`` documents of ``corpus`` held out at random (seeded); never the test set."""
    if not 0 <= valid_size < len(corpus):
        raise ValueError(f"valid_size must be in [0, {len(corpus)}), got {valid_size}")
    order = np.random.RandomState(seed).permutation(len(corpus))
    return corpus.subset(np.sort(order[valid_size:])), corpus.subset(np.sort(order[:valid_size]))


def load_20news(data_dir=None, valid_size=1268, seed=0, limit=None, skip_malformed=False, allow_download=True):
    """The training path's view: {"train", "valid", "test"}: float32 (N, V) dense counts; "<split>_labels"
    int32 (N,) newsgroups 1..20; "vocabulary": the V words; "skipped": malformed lines skipped.

    valid: ``valid_size`` documents held out of train.feat (default 1,268, leaving 10,000 to train);
    ``limit`` keeps the first documents of each split (toy runs).
    """
    corpora = load_corpora(data_dir, skip_malformed, allow_download)
    train, valid = split_train(corpora["train"], valid_size, seed)
    out = {"vocabulary": corpora["vocabulary"],
           "skipped": corpora["train"].skipped + corpora["test"].skipped}
    for split, corpus in (("train", train), ("valid", valid), ("test", corpora["test"])):
        if limit is not None:
            corpus = corpus.subset(np.arange(min(limit, len(corpus))))
        out[split] = corpus.dense()
        out[f"{split}_labels"] = corpus.labels
    return out


def source_files(data_dir=None):
    folder = data_root(data_dir) / FOLDER
    return [folder / name for name in (*FILES.values(), VOCAB_FILE)]


def as_document_dataset(corpus, batch_size, shuffle=False, seed=0, sparse=False):
    """A ``tf.data`` pipeline of dicts {"counts": (B, V) float32 dense or ``SparseTensor``,
    "length": (B,) float32 tokens per document, "label": (B,) int32}."""
    counts = corpus.to_sparse() if sparse else tf.constant(corpus.dense())
    lengths = tf.constant(corpus.lengths, tf.float32)
    labels = tf.constant(corpus.labels, tf.int32)
    indices = tf.data.Dataset.range(len(corpus))
    if shuffle:
        indices = indices.shuffle(len(corpus), seed=seed, reshuffle_each_iteration=True)

    def gather(i):
        rows = tf.sparse.reorder(_sparse_gather(counts, i)) if sparse else tf.gather(counts, i)
        return {"counts": rows, "length": tf.gather(lengths, i), "label": tf.gather(labels, i)}

    return indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE,
                                         deterministic=True).prefetch(tf.data.AUTOTUNE)


def _sparse_gather(sparse, rows):
    """Rows ``rows`` of a 2-D SparseTensor, renumbered 0..len(rows)-1 in that order."""
    rows = tf.cast(rows, tf.int64)
    position = tf.scatter_nd(rows[:, None], tf.range(1, tf.size(rows, tf.int64) + 1),
                             tf.cast(sparse.dense_shape[:1], tf.int64)) - 1
    new_row = tf.gather(position, sparse.indices[:, 0])
    keep = new_row >= 0
    indices = tf.stack([tf.boolean_mask(new_row, keep), tf.boolean_mask(sparse.indices[:, 1], keep)], 1)
    return tf.SparseTensor(indices, tf.boolean_mask(sparse.values, keep),
                           tf.stack([tf.size(rows, tf.int64), sparse.dense_shape[1]]))


# === Raw text -> bag of words (the Python reference of the exported text signature) ===
TOKEN_PATTERN = "[^a-z]+"  # the vocabulary holds lower-case letters only


def tokenize(text):
    """Lower-cases, splits on every run of non-letters: the same rule as ``text_to_counts``."""
    return [t for t in re.split(TOKEN_PATTERN, text.lower()) if t]


def bag_of_words(texts, vocabulary):
    """Raw strings -> (B, V) float32 counts over ``vocabulary``; unknown words are dropped."""
    index = {w: i for i, w in enumerate(vocabulary)}
    out = np.zeros((len(texts), len(vocabulary)), np.float32)
    for row, text in enumerate(texts):
        for token in tokenize(text):
            if token in index:
                out[row, index[token]] += 1
    return out


def vocabulary_table(vocabulary):
    """A core-op ``StaticHashTable`` word -> index (int64), -1 for unknown words."""
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(list(vocabulary)), tf.range(len(vocabulary), dtype=tf.int64)),
        default_value=-1)


def text_to_counts(texts, table, vocab_size):
    """Graph twin of ``bag_of_words`` with core TF ops only: (B,) strings -> (B, V) float32 counts."""
    lowered = tf.strings.lower(texts)
    spaced = tf.strings.strip(tf.strings.regex_replace(lowered, TOKEN_PATTERN, " "))
    tokens = tf.strings.split(spaced, sep=" ")  # ragged (B, None)
    ids = table.lookup(tokens.flat_values)
    rows = tokens.value_rowids()
    known = ids >= 0
    flat = tf.boolean_mask(rows, known) * vocab_size + tf.boolean_mask(ids, known)
    batch = tf.shape(texts, out_type=tf.int64)[0]
    counts = tf.math.bincount(flat, minlength=batch * vocab_size, maxlength=batch * vocab_size, dtype=tf.float32)
    return tf.reshape(counts, tf.stack([batch, tf.cast(vocab_size, tf.int64)]))
