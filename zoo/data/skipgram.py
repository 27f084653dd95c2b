"""Skip-gram training pairs (Mikolov et al. 2013), generated in ``tf.data`` each epoch:

* subsampling of frequent words: a token of a word with frequency f (share of all tokens) is kept with
  probability min(1, (sqrt(f / t) + 1) t / f), t = ``subsample`` (word2vec's formula; 0 keeps every token);
* a dynamic window: each kept centre draws b uniformly from 1..``window`` and pairs with the kept tokens at most
  b positions away in the same sentence (so nearer words are paired more often, as in word2vec);
* both directions of every pair; the epoch's pairs shuffled. Randomness is a function of (seed, epoch).

The corpus is PTB's training text, one sentence a line (``load_skipgram_corpus``). Negatives are drawn by the
model (``zoo.models.skipgram``), from unigram^0.75.
"""
import numpy as np
import tensorflow as tf

from zoo.data.files import data_root
from zoo.data.reading import DataFileError, text_lines
from zoo.data.text import UNKNOWN, Vocabulary, ptb_path


def corpus_from_lines(lines, vocabulary=None):
    """Sentences -> {"train": ids int32 (N,), "sentence": sentence index int32 (N,), "counts": float64 (V,),
    "vocabulary": Vocabulary (words by falling frequency, ``<unk>`` first)}. Words outside a given vocabulary
    become ``<unk>``."""
    sentences = [line.split() for line in lines if line.split()]
    if not sentences:
        raise ValueError("the corpus has no words (every line is empty)")
    if vocabulary is None:
        counts = {}
        for words in sentences:
            for w in words:
                counts[w] = counts.get(w, 0) + 1
        counts.pop(UNKNOWN, None)
        vocabulary = Vocabulary([UNKNOWN, "<eos>"] + sorted(counts, key=lambda w: (-counts[w], w)), "word")
    ids = np.array([vocabulary.ids.get(w, 0) for words in sentences for w in words], np.int32)
    sentence = np.repeat(np.arange(len(sentences), dtype=np.int32), [len(words) for words in sentences])
    return {"train": ids, "sentence": sentence, "counts": np.bincount(ids, minlength=len(vocabulary)).astype(np.float64),
            "vocabulary": vocabulary}


def load_skipgram_corpus(data_dir=None, limit=None, allow_download=True):
    """PTB's training text as a skip-gram corpus (see ``corpus_from_lines``), plus "test": the validation text
    read with the training vocabulary (a held-out pair loss); ``limit`` keeps the first lines of each."""
    corpora = {}
    for split in ("train", "valid"):
        path = ptb_path(split, data_dir, allow_download)
        lines = [line for _, line in text_lines(path, "PTB text file")][:limit]
        try:
            corpora[split] = corpus_from_lines(lines, corpora.get("train", {}).get("vocabulary"))
        except ValueError as err:
            raise DataFileError(f"{path}: {err}") from None
    return {**corpora["train"], "test": corpora["valid"]}


def skipgram_files(data_dir=None):
    return [data_root(data_dir) / "ptb" / f"ptb.{split}.txt" for split in ("train", "valid")]


def keep_probabilities(counts, subsample):
    """word2vec's subsampling: P(keep a token of word w) = min(1, (sqrt(f / t) + 1) t / f), f = count / total."""
    counts = np.asarray(counts, np.float64)
    if not subsample:
        return np.ones_like(counts, np.float32)
    f = counts / counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(f / subsample) + 1.0) * subsample / f
    return np.where(counts > 0, np.minimum(keep, 1.0), 0.0).astype(np.float32)


def epoch_pairs(ids, sentence, keep, window, seed, epoch):
    """(centres int32 (M,), contexts int32 (M,)) of one epoch, shuffled: graph ops, a function of (seed, epoch)."""
    s = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    kept = tf.random.stateless_uniform(tf.shape(ids), s) < tf.gather(keep, ids)
    ids, sentence = tf.boolean_mask(ids, kept), tf.boolean_mask(sentence, kept)
    reach = tf.random.stateless_uniform(tf.shape(ids), s + 1, minval=1, maxval=window + 1, dtype=tf.int32)
    centres, contexts = [], []
    for d in range(1, window + 1):
        same = tf.equal(sentence[:-d], sentence[d:])
        forward = tf.logical_and(same, reach[:-d] >= d)  # centre i, context i + d
        backward = tf.logical_and(same, reach[d:] >= d)  # centre i + d, context i
        centres += [tf.boolean_mask(ids[:-d], forward), tf.boolean_mask(ids[d:], backward)]
        contexts += [tf.boolean_mask(ids[d:], forward), tf.boolean_mask(ids[:-d], backward)]
    centres, contexts = tf.concat(centres, 0), tf.concat(contexts, 0)
    order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(centres)[0]), s + 2)
    return tf.gather(centres, order), tf.gather(contexts, order)


def expected_pairs(corpus, window, subsample):
    """About how many pairs an epoch yields (kept tokens x mean reach x 2 directions), for steps per epoch."""
    keep = keep_probabilities(corpus["counts"], subsample)
    kept = float(keep[corpus["train"]].sum())
    return int(kept * (window + 1) / 2 * 2 * 0.97)  # sentence ends cut a few windows short


def skipgram_dataset(corpus, batch_size, window=5, subsample=1e-3, seed=0, first_epoch=0, epochs=1):
    """Batches of (centres (B,), contexts (B,)) over ``epochs`` epochs from ``first_epoch``, repeated without end
    (``steps_per_epoch`` from ``expected_pairs`` says where an epoch stops). Each epoch's pairs are cut into
    whole batches in one reshape (the last, partial batch of an epoch is dropped): batching millions of single
    pairs in tf.data cost more than the training step itself."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    ids, sentence = tf.constant(corpus["train"]), tf.constant(corpus["sentence"])
    keep = tf.constant(keep_probabilities(corpus["counts"], subsample))

    def one_epoch(epoch):
        pairs = epoch_pairs(ids, sentence, keep, window, seed, epoch)
        whole = tf.shape(pairs[0])[0] // batch_size * batch_size
        return tf.data.Dataset.from_tensor_slices(tuple(tf.reshape(p[:whole], [-1, batch_size]) for p in pairs))

    epochs_data = tf.data.Dataset.range(first_epoch, max(epochs, first_epoch + 1)).repeat()
    return epochs_data.flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
