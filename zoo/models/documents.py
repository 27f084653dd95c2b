"""What every document model of the zoo shares (NVDM, EM mixture of multinomials, LDA, DocNADE).

* ``BagOfWordsLikelihood``: log p(d | logits) = sum_w n_dw log softmax(logits)_w, the probability of
  the document's token *sequence* (no multinomial coefficient N_d! / prod n_dw!). This is NVDM's
  reconstruction term (Miao et al. 2016, eq. 5; ``recons_loss`` of the authors' code) and what the
  perplexities of the NVDM paper's table use for every row, so every model here uses it too.
* ``DocumentModel``: a mixin with the vocabulary, input checks for count matrices (numpy and
  graph-side), the data hook of the training path (``prepare_for_data``), ``topics(k)`` and its
  printed table, NPMI coherence, the perplexity metrics, and the export signatures every document
  model has in common: ``topics`` and ``text`` (raw strings -> bag of words inside the graph with core
  TF ops: lower-casing, regex split, ``StaticHashTable`` lookup, ``bincount``).
"""
import numpy as np
import tensorflow as tf

from zoo.data.newsgroups import text_to_counts, vocabulary_table
from zoo.data.validation import Counts, Range
from zoo.export.endpoint import Endpoint
from zoo.objectives import npmi_coherence, perplexities


class BagOfWordsLikelihood:
    """A distribution-like object over count vectors: ``log_prob(x) = sum_w x_w log softmax(logits)_w``.

    logits (..., V); x (..., V) broadcasts against them (e.g. logits (k, B, V), x (B, V) -> (k, B)).
    Unlike ``tfd.Multinomial(total_count=N_d, logits)`` it leaves out log(N_d! / prod_w x_w!): the
    sequence probability that perplexity is defined on (see the module doc).
    """

    def __init__(self, logits):
        self.logits = tf.convert_to_tensor(logits)
        self.log_probs = tf.nn.log_softmax(self.logits, axis=-1)

    def log_prob(self, x):
        return tf.reduce_sum(tf.cast(x, self.log_probs.dtype) * self.log_probs, axis=-1)

    def probs_parameter(self):
        return tf.exp(self.log_probs)


def check_counts(x, vocab_size, what="x"):
    """numpy (N, V) word counts: finite, non-negative integers; ValueError naming ``what`` otherwise."""
    x = np.asarray(x, dtype=np.float32) if not isinstance(x, np.ndarray) or x.dtype != np.float32 else x
    if x.ndim != 2 or x.shape[1] != vocab_size:
        raise ValueError(f"{what}: expected word counts of shape (N, {vocab_size}), got {x.shape}")
    bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{what}: word counts must be finite non-negative integers; found {int(bad.sum())} "
                         f"other value(s), first {x[index]!r} at index {index}")
    return x


def assert_counts(x, name):
    """Graph-side twin of ``check_counts`` (core-op ``Assert``); exported signatures declare ``Counts`` in
    their ``Endpoint.checks`` instead."""
    with tf.control_dependencies([Counts().graph_check(name, x)]):
        return tf.identity(x)


class DocumentModel:
    """Mixin of the document models. The class using it sets ``self.vocab_size`` and ``self.vocabulary``
    (a list of V words or None) and implements ``topic_word_scores()`` -> (T, V) tensor (larger = more
    typical of the topic / latent direction), ``_serve_encode(counts)`` and ``_serve_score(counts, ...)``."""

    topic_label = "topic"

    def _init_vocabulary(self, vocab_size, vocabulary):
        self.vocab_size = int(vocab_size)
        self.vocabulary = None if vocabulary is None else [str(w) for w in vocabulary]
        if self.vocabulary is not None and len(self.vocabulary) != self.vocab_size:
            raise ValueError(f"vocabulary has {len(self.vocabulary)} words, expected vocab_size={self.vocab_size}")
        self._table = None

    def prepare_for_data(self, splits):
        """The training path's hook (``zoo.training.run``): takes the vocabulary from the loader's output."""
        vocabulary = splits.get("vocabulary")
        if vocabulary is not None:
            if len(vocabulary) != self.vocab_size:
                raise ValueError(f"the data has {len(vocabulary)} words, the model vocab_size={self.vocab_size}")
            self.vocabulary = [str(w) for w in vocabulary]

    def words(self):
        return self.vocabulary or [f"w{i}" for i in range(self.vocab_size)]

    def _counts(self, x, what="x"):
        return check_counts(x, self.vocab_size, what)

    def _test_documents(self, x):
        """Checked counts (N, V) and their lengths N_d (N,), every one > 0: perplexity divides by them."""
        x = self._counts(x)
        lengths = x.sum(1)
        if np.any(lengths <= 0):
            raise ValueError(f"x: {int(np.sum(lengths <= 0))} empty document(s); perplexity needs N_d > 0")
        return x, lengths

    # === Topics ===
    def topic_word_scores(self):
        raise NotImplementedError

    def top_word_ids(self, k=10):
        """(T, k) word ids, best first, of every topic (or latent dimension / hidden unit)."""
        return tf.math.top_k(self.topic_word_scores(), k=k).indices.numpy()

    def topics(self, k=10):
        """The top ``k`` words of every topic: a list of T lists of words."""
        words = self.words()
        return [[words[i] for i in row] for row in self.top_word_ids(k)]

    def topic_table(self, k=10, which=None, columns=5, counts=None):
        """The paper's table (Miao et al. 2016, Table 3): one column per topic, its top ``k`` words below.

        which: the topics to show (default: the ``columns`` most coherent if ``counts`` is given, else
        the first ``columns``); counts: reference documents (N, V) for the NPMI shown under each column.
        """
        ids = self.top_word_ids(k)
        npmi = npmi_coherence(ids, counts) if counts is not None else None
        if which is None:
            which = list(np.argsort(-npmi)[:columns]) if npmi is not None else list(range(min(columns, len(ids))))
        words = self.words()
        header = [f"{self.topic_label} {t}" for t in which]
        rows = [[words[ids[t][r]] for t in which] for r in range(k)]
        if npmi is not None:
            rows.append(["-" * 6 for _ in which])
            rows.append([f"NPMI {npmi[t]:.3f}" for t in which])
        width = max(len(c) for c in header + [w for row in rows for w in row]) + 2
        lines = ["".join(h.ljust(width) for h in header)] + ["".join(w.ljust(width) for w in row) for row in rows]
        return "\n".join(line.rstrip() for line in lines)

    def coherence(self, counts, k=10):
        """NPMI coherence (``zoo.objectives.npmi_coherence``) of every topic's top ``k`` words on ``counts``:
        {"npmi": mean over topics, "npmi_per_topic": list}."""
        values = npmi_coherence(self.top_word_ids(k), self._counts(counts, "counts"))
        return {"npmi": float(values.mean()), "npmi_per_topic": [float(v) for v in values]}

    # === Metrics ===
    @staticmethod
    def perplexity_metrics(log_probs, lengths, prefix=""):
        """``zoo.objectives.perplexities`` of per-document log-probabilities (or bounds)."""
        return perplexities(log_probs, lengths, prefix)

    @staticmethod
    def purity(assignments, labels):
        """Cluster purity: the fraction of documents whose cluster's majority label is their own."""
        assignments, labels = np.asarray(assignments), np.asarray(labels)
        total = 0
        for c in np.unique(assignments):
            total += np.bincount(labels[assignments == c]).max()
        return float(total / len(labels))

    # === Export ===
    def export_resources(self):
        """Trackable resources the exported graphs use (the vocabulary table), for ``export_saved_model``."""
        return [self.vocabulary_table()]

    def vocabulary_table(self):
        if self._table is None:
            self._table = vocabulary_table(self.words())
        return self._table

    def _serve_topics(self, k):
        scores, ids = tf.math.top_k(self.topic_word_scores(), k=k)
        return {"words": tf.gather(tf.constant(self.words()), ids), "word_ids": ids, "scores": scores}

    def _serve_text(self, text):
        counts = text_to_counts(text, self.vocabulary_table(), self.vocab_size)
        return {"counts": counts, **self._serve_text_outputs(counts)}

    def _serve_text_outputs(self, counts):
        """What the ``text`` signature returns beside the counts: the model's encoding."""
        return self._serve_encode(counts)

    def document_endpoints(self, encode_doc, score_doc, score_inputs=(), score_checks=None):
        """Every document model's signatures: ``serving_default`` / ``encode`` (``_serve_encode``) and
        ``score`` (``_serve_score``) over bags of words (B, V), ``topics`` and ``text``.

        score_inputs: (tf.TensorSpec, example value) pairs for the score signature's inputs after the counts;
        score_checks: their checks ({name: check}, see ``Endpoint.checks``).

        Empty documents, one policy for every document model: ``encode`` and ``text`` accept them (a document
        with no known word is encoded from nothing but the prior); ``score`` refuses them with
        INVALID_ARGUMENT naming the rows, since a per-word perplexity of no words is undefined (``measure``
        refuses them too, ``_test_documents``).
        """
        score_checks = score_checks or {}
        example = self.example_counts()
        counts = tf.TensorSpec([None, self.vocab_size], tf.float32, name="counts")
        encode = Endpoint(self._serve_encode, [counts], {"counts": example}, encode_doc,
                          checks={"counts": Counts()})
        score = Endpoint(self._serve_score, [counts] + [spec for spec, _ in score_inputs],
                         {"counts": example, **{spec.name: value for spec, value in score_inputs}}, score_doc,
                         checks={"counts": Counts(nonempty=True), **score_checks})
        words = self.words()
        texts = np.array([" ".join(words[:12]) + " UNKNOWN-token, " + words[-1].upper(), " ".join(words[5:9])],
                         dtype=object)
        return {
            "serving_default": encode,
            "encode": encode,
            "score": score,
            "topics": Endpoint(self._serve_topics, [tf.TensorSpec([], tf.int32, name="k")], {"k": np.int32(5)},
                               f"k -> the top k words (and ids, scores) of every {self.topic_label}",
                               checks={"k": Range(int, 1, self.vocab_size)}),
            "text": Endpoint(self._serve_text, [tf.TensorSpec([None], tf.string, name="text")], {"text": texts},
                             "raw strings -> bag of words built in the graph (lower-case, split on non-letters, "
                             "vocabulary lookup) -> the counts and the model's encoding and score"),
        }

    def example_counts(self, n=2, seed=0):
        rng = np.random.RandomState(seed)
        return rng.poisson(0.05, size=(n, self.vocab_size)).astype(np.float32) + np.eye(n, self.vocab_size,
                                                                                          dtype=np.float32)
