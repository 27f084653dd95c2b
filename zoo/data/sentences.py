"""Penn Treebank as sentences, for the sentence VAE (Bowman et al. 2016): one sentence a line of Mikolov's
``ptb.{train,valid,test}.txt`` (10k words, ``<unk>`` already in the text), ``<eos>`` appended to each.

A split is an (N, L) array of token ids padded with ``PAD`` (-1) after each sentence's ``<eos>``, L the
longest sentence of the split (at most ``max_length`` tokens, ``<eos>`` included). Float32, like every array
of the zoo's "rows" layout (``zoo.data.pipeline``: ids below 2^24 are exact); models read ``ids >= 0`` as the
mask. Documented behaviour, tested in ``tests/test_sentence_vae.py``:

* empty lines (blank or spaces only) are skipped, and counted in ``skipped["empty"]``;
* sentences of more than ``max_length`` tokens (``<eos>`` included) are skipped, and counted in
  ``skipped["too_long"]``; the default 100 keeps every PTB sentence (the longest has 82 words);
* words outside the vocabulary become ``<unk>`` (id 0), as in the language models; the vocabulary is the
  training split's (``zoo.data.text.Vocabulary``, word level).
"""
import numpy as np

from zoo.data.files import data_root
from zoo.data.reading import text_lines
from zoo.data.text import END_OF_SENTENCE, Vocabulary, ptb_path

PAD = -1
MAX_LENGTH = 100


def sentences_to_ids(lines, vocabulary, max_length=MAX_LENGTH):
    """Sentences (strings) -> (padded float32 (N, L) ids with ``<eos>``, lengths int32 (N,), skipped counts)."""
    rows, skipped = [], {"empty": 0, "too_long": 0}
    eos = vocabulary.ids[END_OF_SENTENCE]
    for line in lines:
        words = line.split()
        if not words:
            skipped["empty"] += 1
            continue
        if len(words) + 1 > max_length:
            skipped["too_long"] += 1
            continue
        rows.append([vocabulary.ids.get(w, 0) for w in words] + [eos])
    width = max((len(r) for r in rows), default=1)
    ids = np.full((len(rows), width), PAD, np.float32)
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
    return ids, np.array([len(r) for r in rows], np.int32), skipped


def load_ptb_sentences(data_dir=None, limit=None, max_length=MAX_LENGTH, allow_download=True, vocabulary=None):
    """{"train", "valid", "test": (N, L) padded ids, "vocabulary", "skipped": {split: counts}}.

    ``limit`` keeps the first lines of each file (toy runs); ``vocabulary``: a model's own instead of the
    training file's.
    """
    lines = {}
    for split in ("train", "valid", "test"):
        lines[split] = [line for _, line in text_lines(ptb_path(split, data_dir, allow_download), "PTB text file")]
        lines[split] = lines[split][:limit]
    if vocabulary is None:
        vocabulary = Vocabulary.from_text("".join(lines["train"]), "word")
    out, skipped = {"vocabulary": vocabulary}, {}
    for split, split_lines in lines.items():
        out[split], _, skipped[split] = sentences_to_ids(split_lines, vocabulary, max_length)
        if not len(out[split]):
            raise ValueError(f"{data_root(data_dir) / 'ptb' / f'ptb.{split}.txt'}: no sentence of at most "
                             f"{max_length} tokens")
    out["skipped"] = skipped
    return out


def ptb_sentence_files(data_dir=None):
    return [data_root(data_dir) / "ptb" / f"ptb.{split}.txt" for split in ("train", "valid", "test")]
