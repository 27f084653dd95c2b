"""Skip-gram with negative sampling (Mikolov, Sutskever, Chen, Corrado & Dean, "Distributed representations of
words and phrases and their compositionality", NeurIPS 2013), a Keras model trained by ``model.fit``.

Each (centre, context) pair of ``zoo.data.skipgram`` costs -log sigma(u_context . v_centre) - sum_k
log sigma(-u_k . v_centre) over k negatives from unigram^0.75: the ``NegativeSampling`` output layer of
``zoo.layers.softmax``, with k negatives drawn for each pair as word2vec does (``per_row_negatives``; False
shares one draw of k by the whole batch, as TensorFlow's sampled losses do, which is cheaper), and an
output bias word2vec lacks, started at zero. Input vectors v start uniform in +-0.5 / dim, output vectors u at
zero, as word2vec. The loss is the mean over a batch's pairs: word2vec's per-pair SGD rate alpha is a rate of
alpha x B here (``recipes/skipgram_ptb.py``).

Evaluation: Spearman correlation of cosine similarities with human judgements (WordSim-353), with the share of
pairs out of the vocabulary stated (``similarity_correlation``), and the accuracy on Mikolov et al.'s analogy
questions restricted to the vocabulary (``analogy_accuracy``).
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.data.validation import Range
from zoo.export.endpoint import Endpoint
from zoo.layers.softmax import NegativeSampling
from zoo.models.seeding import step_seed
from zoo.models.token_model import TokenModel
from zoo.registry import register_model


@register_model
class SkipGram(TokenModel, keras.Model):
    """Centre word ids (B,) -> their input vectors (B, dim).

    Args: vocab_size V; dim; negatives k; counts: the training frequency of each id (the negatives' unigram
    distribution; set from the data when None); power of the unigram (0.75); per_row_negatives: k negatives of
    each pair's own (True) or shared by the batch; vocabulary; seed.
    """

    def __init__(self, vocab_size, dim=100, negatives=5, counts=None, power=0.75, per_row_negatives=True,
                 vocabulary=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.per_row_negatives = bool(per_row_negatives)
        self.vocab_size, self.dim, self.negatives, self.power, self.seed = (int(vocab_size), int(dim), int(negatives),
                                                                            float(power), seed)
        self.counts = None if counts is None else [float(c) for c in counts]
        self._init_vocabulary(vocabulary)
        scale = 0.5 / self.dim
        self.embedding = keras.layers.Embedding(self.vocab_size, self.dim, name="input_vectors",
                                                embeddings_initializer=keras.initializers.RandomUniform(-scale, scale))
        self.seed_generator = keras.random.SeedGenerator(seed, name="negatives")
        counts = self.counts if self.counts is not None else [1.0] * self.vocab_size
        self.output_vectors = NegativeSampling(self.vocab_size, num_sampled=self.negatives, sampler="unigram",
                                               counts=counts, power=self.power, per_row=self.per_row_negatives,
                                               kernel_initializer="zeros",
                                               name="output_vectors")
        self.embedding.build((None,))
        self.output_vectors.build((None, self.dim))

    def prepare_for_data(self, splits):
        """The training path's hook: the vocabulary and the counts of the negatives' distribution."""
        super().prepare_for_data(splits)
        if "counts" in splits:
            self.counts = [float(c) for c in splits["counts"]]
            self.output_vectors.set_counts(self.counts)

    def call(self, centres):
        return self.embedding(tf.cast(centres, tf.int32))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return tf.reduce_mean(self.output_vectors.loss(y_pred, tf.cast(y, tf.int32), step_seed(self)))

    def measure(self, corpus, window=5, subsample=0.0, batch_size=4096, seed=0):
        """The negative-sampling loss per pair on a held-out corpus (``zoo.data.skipgram`` layout): every pair of
        one fixed epoch, the same negatives for a given seed. {"pair_loss", "pairs"}."""
        from zoo.data.skipgram import epoch_pairs, keep_probabilities
        keep = tf.constant(keep_probabilities(self.counts or np.ones(self.vocab_size), subsample))
        centres, contexts = epoch_pairs(tf.constant(corpus["train"]), tf.constant(corpus["sentence"]), keep, window,
                                        seed, 0)
        total, n = 0.0, int(centres.shape[0])
        for start in range(0, n, batch_size):
            c, x = centres[start:start + batch_size], contexts[start:start + batch_size]
            total += float(tf.reduce_sum(self.output_vectors.loss(self(c), x, tf.constant([seed, start]))))
        return {"pair_loss": total / max(n, 1), "pairs": n}

    # === Vectors ===
    def vectors(self):
        """(V, dim) input vectors, each scaled to unit length (zero rows stay zero)."""
        v = tf.convert_to_tensor(self.embedding.embeddings)
        return v / tf.maximum(tf.norm(v, axis=1, keepdims=True), 1e-12)

    def word_ids(self, words):
        """Words (B,) strings -> ids (B,) int32, -1 where a word is outside the vocabulary (graph-side)."""
        ids = tf.cast(self.lookup_table().lookup(words), tf.int32)
        return tf.where(tf.equal(words, self.vocabulary.tokens[0]), 0, tf.where(ids > 0, ids, -1))

    def neighbours(self, words, k=10):
        """The k nearest words by cosine of each of ``words`` (itself and words unseen in training excluded):
        {"words" (B, k), "cosine" (B, k), "known" (B,) bool}; unknown words get empty strings and cosine 0."""
        ids = self.word_ids(words)
        known = ids >= 0
        vectors = self.vectors()
        cosine = tf.matmul(tf.gather(vectors, tf.maximum(ids, 0)), vectors, transpose_b=True)
        cosine = tf.where(tf.one_hot(tf.maximum(ids, 0), self.vocab_size) > 0, -2.0, cosine)
        if self.counts is not None:  # words never seen in training (<unk>, <eos>) keep their random start: skip them
            cosine = tf.where(tf.constant(np.asarray(self.counts) > 0)[None, :], cosine, -2.0)
        best, nearest = tf.math.top_k(cosine, k=k)
        found = tf.gather(tf.constant(self.vocabulary.tokens), nearest)
        return {"words": tf.where(known[:, None], found, ""), "cosine": tf.where(known[:, None], best, 0.0),
                "known": known}

    def similarity(self, first, second):
        """Cosine similarity of word pairs (B,), (B,) -> {"cosine" (B,), "known" (B,) bool: both in the vocabulary}."""
        a, b = self.word_ids(first), self.word_ids(second)
        known = tf.logical_and(a >= 0, b >= 0)
        vectors = self.vectors()
        cosine = tf.reduce_sum(tf.gather(vectors, tf.maximum(a, 0)) * tf.gather(vectors, tf.maximum(b, 0)), axis=1)
        return {"cosine": tf.where(known, cosine, 0.0), "known": known}

    def similarity_correlation(self, pairs):
        """Spearman correlation between human scores and cosines over ``pairs`` [(word, word, score), ...]
        with both words in the vocabulary: {"spearman", "pairs_used", "out_of_vocabulary_share"}."""
        first, second, scores = zip(*pairs)
        out = self.similarity(tf.constant([w.lower() for w in first]), tf.constant([w.lower() for w in second]))
        known = out["known"].numpy()
        if known.sum() < 2:
            raise ValueError(f"only {int(known.sum())} of {len(pairs)} pairs have both words in the vocabulary")
        return {"spearman": spearman(np.asarray(scores, np.float64)[known], out["cosine"].numpy()[known]),
                "pairs_used": int(known.sum()), "out_of_vocabulary_share": float(1.0 - known.mean())}

    def analogy_accuracy(self, questions, batch_size=512):
        """Mikolov et al.'s analogies "a is to b as c is to d" [(a, b, c, d), ...] by 3CosAdd: the answer is the
        word nearest by cosine to unit(b) - unit(a) + unit(c), the three question words excluded (as word2vec's
        compute-accuracy and gensim). Only questions whose four words are in the vocabulary count:
        {"accuracy", "questions_used", "out_of_vocabulary_share"}."""
        words = [[w.lower() for w in q] for q in questions]
        ids = self.word_ids(tf.constant([w for q in words for w in q])).numpy().reshape(-1, 4)
        known = (ids >= 0).all(axis=1)
        if self.counts is not None:  # words never seen in training keep their random start: not answers
            known &= (np.asarray(self.counts)[np.maximum(ids, 0)] > 0).all(axis=1)
        if not known.any():
            raise ValueError(f"none of the {len(questions)} analogy questions has all four words in the vocabulary")
        vectors, used, correct = self.vectors(), ids[known], 0
        unseen = np.asarray(self.counts) <= 0 if self.counts is not None else np.zeros(self.vocab_size, bool)
        for start in range(0, len(used), batch_size):
            a, b, c, d = (used[start:start + batch_size, i] for i in range(4))
            query = tf.gather(vectors, b) - tf.gather(vectors, a) + tf.gather(vectors, c)
            cosine = tf.matmul(query, vectors, transpose_b=True).numpy()
            rows = np.arange(len(a))
            cosine[rows, a] = cosine[rows, b] = cosine[rows, c] = -np.inf
            cosine[:, unseen] = -np.inf
            correct += int(np.sum(np.argmax(cosine, axis=1) == d))
        return {"accuracy": correct / len(used), "questions_used": int(len(used)),
                "out_of_vocabulary_share": float(1.0 - known.mean())}

    def save_word2vec(self, path):
        """The input vectors as a word2vec text file: "V dim" then "word v1 ... v_dim" a line."""
        vectors = self.embedding.embeddings.numpy()
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{self.vocab_size} {self.dim}\n")
            for word, row in zip(self.vocabulary.tokens, vectors):
                f.write(word + " " + " ".join(f"{v:.6f}" for v in row) + "\n")
        return path

    # === Export ===
    def export_resources(self):
        return [self.lookup_table()]

    def export_endpoints(self):
        words = tf.TensorSpec([None], tf.string, name="words")
        k = tf.TensorSpec([], tf.int32, name="k")
        example = np.array(self.vocabulary.tokens[2:4], dtype=object)
        neighbours = Endpoint(self.neighbours, [words, k], {"words": example, "k": np.int32(3)},
                              "words, k -> the k nearest words by cosine and their cosines (unknown words: known "
                              "false, empty words)", checks={"k": Range(int, 1, self.vocab_size - 1)})
        return {"serving_default": neighbours, "neighbours": neighbours,
                "similarity": Endpoint(self.similarity, [tf.TensorSpec([None], tf.string, name="first"),
                                                         tf.TensorSpec([None], tf.string, name="second")],
                                       {"first": example, "second": example[::-1].copy()},
                                       "word pairs -> cosine similarity of their vectors (0 and known false when "
                                       "a word is outside the vocabulary)")}

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim, "negatives": self.negatives,
                "counts": self.counts, "power": self.power, "per_row_negatives": self.per_row_negatives,
                "vocabulary": self.vocabulary_config(), "seed": self.seed}


def spearman(a, b):
    """Spearman's rank correlation of two 1-D arrays (average ranks for ties)."""
    def ranks(x):
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x), np.float64)
        r[order] = np.arange(len(x), dtype=np.float64)
        for value in np.unique(x):  # ties share their mean rank
            tied = x == value
            r[tied] = r[tied].mean()
        return r
    ra, rb = ranks(np.asarray(a)), ranks(np.asarray(b))
    return float(np.corrcoef(ra, rb)[0, 1])
