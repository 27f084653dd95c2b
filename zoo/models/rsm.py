"""Replicated Softmax (Salakhutdinov & Hinton, "Replicated Softmax: an Undirected Topic Model", NIPS 2009):
the RSM-50 row of the NVDM paper's 20News table (perplexity 953).

A document of N tokens is N softmax units over the V words that share one weight matrix W (V, H), and
H binary hidden units whose biases are scaled by N. With v the (V,) word counts:

    E(v, h) = -a.v - N c.h - v^T W h,
    p(h_j = 1 | v) = sigmoid(N c_j + W_j.v),     p(w | h) = softmax(a + W h)  (each of the N tokens),
    F(v) = -a.v - sum_j softplus(N c_j + W_j.v),  log p(d) = -F(v) - log Z_N,
    Z_N = sum_h exp(N c.h) (sum_k exp(a_k + W_k.h))^N.

p(d) is the probability of the token sequence (no multinomial coefficient), the zoo's convention for every
document model (``zoo.models.documents``). Z depends on the document only through N: one AIS estimate per
distinct length serves every document of that length (``measure``); the run for each length anneals from the
base-rate unigram model (``zoo.objectives.partition.ReplicatedSoftmaxFamily``). The per-document perplexity
is exp(mean_d -log p(d) / N_d), the NVDM table's protocol; S&H evaluated it on 50 held-out documents, this
runs on the whole test set. Training: CD-k (``RBMBase``; the paper's k grows from 1 to 5; PCD is not
offered: a persistent chain has no document length of its own).
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.export.endpoint import Endpoint
from zoo.models.documents import DocumentModel, assert_counts
from zoo.models.rbm import (MAX_GIBBS_STEPS, MAX_SAMPLES, RBMBase, _bernoulli, _child, assert_in_range,
                            times_kernel_transposed)
from zoo.objectives.partition import (ReplicatedSoftmaxFamily, ais, base_rate_log_probs, sample_counts,
                                      schedule_of)
from zoo.registry import register_model


def assert_documents(counts, name="counts"):
    """Graph-side check of a batch of bags of words: non-negative integer counts, no empty document."""
    counts = assert_counts(counts, name)
    ok = tf.reduce_all(tf.reduce_sum(counts, axis=1) > 0.0)
    with tf.control_dependencies([tf.debugging.Assert(ok, [f"input '{name}' holds an empty document (no counted "
                                                           "word): the Replicated Softmax needs N_d > 0"])]):
        return tf.identity(counts)


@register_model
class ReplicatedSoftmax(DocumentModel, RBMBase):
    """Replicated Softmax over (B, vocab_size) word counts; see the module doc.

    Args:
      vocab_size: V. hidden_units: H (50 for RSM-50). vocabulary: the V words (set from the data).
      max_length: the longest document ``log_prob`` serves (the frozen log Z table has max_length + 1 rows).
      the rest: ``RBMBase`` (``persistent`` must stay False).
    """

    topic_label = "hidden unit"

    def __init__(self, vocab_size=2000, hidden_units=50, vocabulary=None, max_length=5000, **kwargs):
        kwargs.pop("visible_size", None)
        if kwargs.get("persistent"):
            raise ValueError("ReplicatedSoftmax trains by CD-k only: a persistent chain has no document length "
                             "of its own (persistent must be False)")
        self.max_length = int(max_length)
        self._init_vocabulary(vocab_size, vocabulary)
        super().__init__(visible_size=vocab_size, hidden_units=hidden_units, **kwargs)

    def build_log_partition(self):
        """Row N: [log Z_N, lower, upper] (``measure`` fills every N <= max_length, see ``freeze_log_partition``),
        and whether row N is an AIS estimate (1) or interpolated between estimates (0)."""
        self.log_partition_table = self.add_weight(shape=(self.max_length + 1, 3), name="log_partition_table",
                                                   trainable=False, initializer=keras.initializers.Constant(np.nan))
        self.log_partition_estimated = self.add_weight(shape=(self.max_length + 1,), name="log_partition_estimated",
                                                       trainable=False, initializer="zeros")

    # === Family ===
    @staticmethod
    def lengths(v):
        return tf.reduce_sum(v, axis=-1)

    def hidden_input(self, v):
        """W^T v + N c: the hidden biases scaled by the document length (B, H)."""
        return tf.matmul(v, self.kernel) + self.lengths(v)[:, None] * self.hidden_bias

    def word_logits(self, h):
        """a + W h: logits of p(w | h) (B, V)."""
        return times_kernel_transposed(h, self.kernel) + self.visible_bias

    def sample_visible(self, h, v_like, seed):
        return sample_counts(self.word_logits(h), self.lengths(v_like), seed)

    def reconstruction_error(self, v, seed, x=None):
        """Cross-entropy of the document's words under p(w | h), h ~ p(h | v), nats per word: (B,)."""
        x = self.hidden_input(v) if x is None else x
        h = _bernoulli(tf.sigmoid(x), seed)
        log_probs = tf.nn.log_softmax(self.word_logits(h), axis=-1)
        return -tf.reduce_sum(v * log_probs, axis=1) / tf.maximum(self.lengths(v), 1.0)

    def monitored_loss(self, v, seed, x=None):
        return self.reconstruction_error(v, seed, x)

    def initial_visible(self, n, seed, length=100):
        """n documents of ``length`` tokens from the base-rate unigram model: (n, V)."""
        logits = tf.tile(self.base_visible[None, :], [n, 1])
        return sample_counts(logits, tf.fill([n], tf.cast(length, tf.float32)), seed)

    def checked_batch(self, v):
        return assert_documents(tf.convert_to_tensor(v, tf.float32), "x")

    def set_base_rates(self, x):
        self.base_visible.assign(base_rate_log_probs(x).astype(np.float32))

    def prepare_for_data(self, splits):
        """Vocabulary; checks the training counts (integers, no empty document); the word biases start at
        the log unigram frequencies of train, which are also the AIS base-rate model."""
        DocumentModel.prepare_for_data(self, splits)
        x, _ = self._test_documents(splits["train"])
        self.set_base_rates(x)
        self.visible_bias.assign(self.base_visible)

    def topic_word_scores(self):
        """W^T (H, V): each hidden unit's weights on the words."""
        return tf.transpose(tf.convert_to_tensor(self.kernel))

    # === Partition function per document length ===
    def estimate_log_partitions(self, lengths, runs=None, temperatures=None, seed=None, bucket=32, progress=None):
        """AIS log Z_N for every N in ``lengths`` (M = ``runs`` runs each): {N: (log Z, lower, upper)}, and
        the seconds spent. Lengths are annealed ``bucket`` at a time (sorted), so the token draws of one
        step are padded to similar lengths. progress: ``progress(done, total)`` in distinct lengths, after
        each bucket (S&M's schedule takes most of an hour on 2 cores for the 20News test set)."""
        runs, temperatures, seed = self._ais_settings(runs, temperatures, seed)
        lengths = np.unique(np.asarray(lengths, np.int64))
        out, seconds = {}, 0.0
        for start in range(0, len(lengths), bucket):
            group = lengths[start:start + bucket]
            family = ReplicatedSoftmaxFamily(self.kernel, self.visible_bias, self.hidden_bias, self.base_visible,
                                             group, runs)
            estimate = ais(family, temperatures, seed + start, groups=len(group))
            seconds += estimate.seconds
            for n, z, lo, hi in zip(group, estimate.log_z, estimate.lower, estimate.upper):
                out[int(n)] = (float(z), float(lo), float(hi))
            if progress is not None:
                progress(len(out), len(lengths))
        return out, seconds

    def freeze_log_partition(self, estimates):
        """Writes the estimates {N: (log Z, lower, upper)} into the table ``log_prob`` reads; rows without an
        estimate are interpolated linearly in N between estimates (with the exact log Z_0 = H log 2 at N = 0)
        and extrapolated from the last two past the longest; ``log_partition_estimated`` marks the estimates."""
        known = sorted(estimates)
        if max(known) > self.max_length:
            raise ValueError(f"a length {max(known)} > max_length={self.max_length} cannot be stored")
        grid = np.arange(self.max_length + 1, dtype=np.float64)
        table = np.zeros((self.max_length + 1, 3))
        xs = np.array([0.0] + [float(n) for n in known if n > 0])
        for col in range(3):
            ys = np.array([self.hidden_units * np.log(2.0)] + [estimates[n][col] for n in known if n > 0])
            values = np.interp(grid, xs, ys)
            if len(xs) >= 2 and np.all(np.isfinite(ys[-2:])):
                slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
                beyond = grid > xs[-1]
                values[beyond] = ys[-1] + slope * (grid[beyond] - xs[-1])
            table[:, col] = values
        flags = np.zeros(self.max_length + 1)
        flags[known] = 1.0
        self.log_partition_table.assign(table.astype(np.float32))
        self.log_partition_estimated.assign(flags.astype(np.float32))

    def log_partition_of(self, lengths):
        """The frozen [log Z, lower, upper] rows for documents of the given lengths: (B, 3)."""
        return tf.gather(self.log_partition_table, tf.cast(tf.round(lengths), tf.int32))

    # === Inference (numpy or tensors in) ===
    def features(self, x):
        """p(h = 1 | d) for counts x (B, V): (B, H)."""
        return self.hidden_probabilities(self._counts(x))

    def sample(self, num_samples=4, length=100, steps=1000, seed=0, start=None):
        """Gibbs samples (counts (n, V)) after ``steps`` sweeps from the base-rate model with documents of
        ``length`` tokens, or from the documents ``start`` (their lengths are kept)."""
        v0 = (self.initial_visible(num_samples, tf.constant([seed, 0]), length) if start is None
              else tf.constant(self._test_documents(start)[0]))
        return self.gibbs(v0, steps, tf.constant([seed, 1])).numpy()

    def measure(self, x, labels=None, ais_runs=None, ais_temperatures=None, seed=None, batch_size=1000,
                coherence_words=10, bucket=32, num_samples=None, progress=None):
        """Test metrics on counts x (N, V), by AIS (one log Z per distinct length, M = ``ais_runs`` runs,
        default: the model's): perplexity (per document, the NVDM table's) and corpus_perplexity, with the
        perplexities at the ends of the +-3 std intervals of the log Z's; log_likelihood (mean nats per
        document); npmi of every hidden unit's top words. Freezes the log Z table into the model.
        ``labels`` and ``num_samples`` (``zoo evaluate``'s importance-sample count) are accepted and unused;
        ``progress(done, total)`` is called in distinct lengths as their AIS estimates finish."""
        x, lengths = self._test_documents(x)
        if lengths.max() > self.max_length:
            raise ValueError(f"x: a document of {int(lengths.max())} tokens > max_length={self.max_length}")
        estimates, seconds = self.estimate_log_partitions(lengths, ais_runs, ais_temperatures, seed, bucket,
                                                          progress)
        self.freeze_log_partition(estimates)
        free = np.concatenate([self.free_energy(x[i:i + batch_size]).numpy()
                               for i in range(0, len(x), batch_size)]).astype(np.float64)
        table = np.array([estimates[int(n)] for n in lengths])            # (N, 3)
        log_p = -free - table[:, 0]
        runs, temperatures, _ = self._ais_settings(ais_runs, ais_temperatures, seed)
        return {**self.perplexity_metrics(log_p, lengths),
                "perplexity_lower": self.perplexity_metrics(-free - table[:, 1], lengths)["perplexity"],
                "perplexity_upper": self.perplexity_metrics(-free - table[:, 2], lengths)["perplexity"],
                "log_likelihood": float(log_p.mean()), "documents": int(len(x)), "tokens": int(lengths.sum()),
                "distinct_lengths": len(estimates), "ais_runs": runs,
                "ais_temperatures": len(schedule_of(temperatures)) - 1,
                "ais_seconds": round(seconds, 1),
                "npmi": self.coherence(x, coherence_words)["npmi"]}

    # === Serving signatures (core TF ops only) ===
    def _serve_encode(self, counts):
        """p(h | d); defined for an empty document too (the text signature may find no known word)."""
        return {"probs": self.hidden_probabilities(assert_counts(counts, "counts"))}

    def _serve_free_energy(self, counts):
        return {"free_energy": self.free_energy(assert_documents(counts, "counts"))}

    def _serve_log_prob(self, counts):
        counts = assert_documents(counts, "counts")
        length = self.lengths(counts)
        ok = tf.reduce_all(length <= float(self.max_length))
        with tf.control_dependencies([tf.debugging.Assert(ok, [f"input 'counts': documents longer than "
                                                               f"{self.max_length} tokens have no log Z"])]):
            rows = self.log_partition_of(length)
        neg_free = -self.free_energy(counts)
        log_p = neg_free - rows[:, 0]
        return {"log_prob": log_p, "log_prob_lower": neg_free - rows[:, 2], "log_prob_upper": neg_free - rows[:, 1],
                "length": length, "perplexity": tf.exp(-log_p / length), "log_partition": rows[:, 0],
                "log_partition_estimated": tf.gather(self.log_partition_estimated, tf.cast(length, tf.int32))}

    def _serve_score(self, counts):
        return self._serve_log_prob(counts)

    def _serve_sample(self, num_samples, length, steps, seed):
        num_samples = assert_in_range(num_samples, 1, MAX_SAMPLES, "num_samples")
        length = assert_in_range(length, 1, self.max_length, "length")
        steps = assert_in_range(steps, 0, MAX_GIBBS_STEPS, "steps")
        v = self.gibbs(self.initial_visible(num_samples, tf.stack([seed, 0]), length), steps, tf.stack([seed, 1]))
        h = _bernoulli(self.hidden_probabilities(v), _child(tf.stack([seed, 2]), 0))
        return {"counts": v, "word_probs": tf.nn.softmax(self.word_logits(h), axis=-1)}

    def export_endpoints(self):
        endpoints = self.document_endpoints(
            "bag of words (B, V) counts -> p(h = 1 | d) of the hidden units (features)",
            "bag of words -> log p(d) = -F(d) - log Z_N (nats) with the frozen AIS log Z of its length N and its "
            "+-3 std interval, length, per-document perplexity")
        example = self.example_counts()
        counts = tf.TensorSpec([None, self.vocab_size], tf.float32, name="counts")
        scalar = {name: tf.TensorSpec([], tf.int32, name=name) for name in ("num_samples", "length", "steps", "seed")}
        endpoints.update({
            "hidden_probabilities": endpoints["encode"],
            "free_energy": Endpoint(self._serve_free_energy, [counts], {"counts": example},
                                    "bag of words -> free energy F(d) (nats)"),
            "log_prob": Endpoint(self._serve_log_prob, [counts], {"counts": example},
                                 "bag of words -> log p(d) with the AIS log Z_N frozen at export (interpolated "
                                 "in N between estimated lengths: log_partition_estimated is 1.0 for an AIS estimate)"),
            "sample": Endpoint(self._serve_sample, [scalar[k] for k in ("num_samples", "length", "steps", "seed")],
                               {"num_samples": np.int32(2), "length": np.int32(20), "steps": np.int32(3),
                                "seed": np.int32(5)},
                               f"num_samples in [1, {MAX_SAMPLES}], length in [1, max_length], steps in "
                               f"[0, {MAX_GIBBS_STEPS}], seed -> Gibbs samples (word counts) from the base-rate "
                               "model, and p(w | h) of the last sweep"),
        })
        return endpoints

    def get_config(self):
        config = super().get_config()
        config.pop("visible_size")
        return {**config, "vocab_size": self.vocab_size, "max_length": self.max_length,
                "vocabulary": list(self.vocabulary) if self.vocabulary else None}
