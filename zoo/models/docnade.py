"""DocNADE: the document neural autoregressive distribution estimator (Larochelle & Lauly, "A Neural
Autoregressive Topic Model", NIPS 2012), the NVDM paper's DocNADE-50 row (perplexity 896 on 20News).

A document d = (v_1, ..., v_N) in some order has the exact likelihood

    p(d) = prod_i p(v_i | v_<i),   p(v_i = w | v_<i) = softmax(b + U h_i)_w,
    h_i  = sigmoid(c + sum_{j<i} W[v_j])

(the paper's eq. 3-4, with a full softmax over the 2,000 words in place of its binary tree: the
likelihood stays exact and a 2,000-way softmax is cheap). h_i depends on the multiset of the previous
words only, so a bag of words is expanded into tokens and put in a random order: a fresh one at
every training step (as the paper trains), a fixed seeded one for evaluation, so the test
perplexity is that of an exact likelihood of one ordering of each document. Every step runs on the
flat token list of the batch (no padding): an exclusive cumulative sum of the embeddings, restarted
at each document, gives all h_i at once.

Perplexity as NVDM's (``zoo.objectives.perplexity``): exp(mean_d -log p(d) / N_d), with the exact
log p(d) (sequence probability, no multinomial coefficient).
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.registry import register_model
from zoo.models.documents import DocumentModel
from zoo.models.seeding import step_seed
from zoo.objectives.replicas import per_replica_loss


@register_model
class DocNADE(DocumentModel, keras.Model):
    """DocNADE over (B, vocab_size) word counts.

    Args:
      vocab_size: V. hidden_units: H (50 in the NVDM table). activation: of h ("sigmoid", the paper's).
      train_fraction: in training, each token's conditional enters the loss with this probability, weighted
        by its inverse: an unbiased estimate of the exact log-likelihood's gradient at a fraction of the
        softmax cost (evaluation always uses every conditional).
      vocabulary: the V words; seed: of the training orderings.
    """

    topic_label = "unit"

    def __init__(self, vocab_size=2000, hidden_units=50, activation="sigmoid", train_fraction=1.0, vocabulary=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_vocabulary(vocab_size, vocabulary)
        if not 0.0 < train_fraction <= 1.0:
            raise ValueError(f"train_fraction must be in (0, 1], got {train_fraction}")
        self.train_fraction = float(train_fraction)
        self.hidden_units = int(hidden_units)
        self.activation = activation
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="orderings")
        self.output_layer = keras.layers.Dense(self.vocab_size, name="output")  # U (H, V) and b (V,)
        self.log_perplexity_tracker = keras.metrics.Mean(name="log_perplexity")

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(shape=(self.vocab_size, self.hidden_units), name="W",
                                          initializer=keras.initializers.RandomUniform(-0.01, 0.01))
        self.hidden_bias = self.add_weight(shape=(self.hidden_units,), name="c", initializer="zeros")
        self.output_layer.build((None, self.hidden_units))

    def prepare_for_data(self, splits):
        """Vocabulary from the data; the output bias at the log unigram frequencies of train."""
        super().prepare_for_data(splits)
        if not self.built:
            self.build()
        frequencies = np.asarray(splits["train"], np.float64).sum(0) + 1.0
        self.output_layer.bias.assign(np.log(frequencies / frequencies.sum()).astype(np.float32))

    # === The autoregressive likelihood ===
    def tokens(self, x, seed):
        """Counts (B, V) -> (words (T,), document of each token (T,), ordered within each document by a
        stateless random permutation drawn with ``seed`` (2,) int32)."""
        x = tf.convert_to_tensor(x, tf.float32)
        where = tf.where(x > 0)
        repeats = tf.cast(tf.gather_nd(x, where), tf.int64)
        docs = tf.repeat(where[:, 0], repeats)
        words = tf.repeat(where[:, 1], repeats)
        keys = tf.cast(docs, tf.float64) + tf.cast(tf.random.stateless_uniform(tf.shape(docs), seed, maxval=0.999),
                                                   tf.float64)
        order = tf.argsort(keys, stable=True)
        return tf.gather(words, order), tf.gather(docs, order)

    def hidden(self, words, docs):
        """h_i = act(c + sum of the embeddings of the earlier tokens of the same document): (T, H)."""
        embedded = tf.gather(self.embeddings, words)
        before = tf.cumsum(embedded, axis=0, exclusive=True)
        first = tf.math.unsorted_segment_min(tf.range(tf.shape(docs, out_type=tf.int64)[0]), docs,
                                             tf.reduce_max(docs) + 1)
        start = tf.gather(before, tf.gather(first, docs))
        return keras.activations.get(self.activation)(self.hidden_bias + before - start)

    def document_log_probs(self, x, seed, fraction=1.0):
        """Exact log p(d) of each document in the ordering drawn with ``seed``: (B,). With ``fraction`` < 1,
        an unbiased estimate from a random subset of the conditionals (training only)."""
        x = tf.convert_to_tensor(x, tf.float32)
        words, docs = self.tokens(x, seed)
        hidden = self.hidden(words, docs)
        weights = None
        if fraction < 1.0:
            keep = tf.random.stateless_uniform(tf.shape(words), seed + 1) < fraction
            words, docs, hidden = tf.boolean_mask(words, keep), tf.boolean_mask(docs, keep), tf.boolean_mask(hidden, keep)
            weights = 1.0 / fraction
        logits = self.output_layer(hidden)
        token_log_probs = -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=words, logits=logits)
        if weights is not None:
            token_log_probs = token_log_probs * weights
        return tf.math.unsorted_segment_sum(token_log_probs, docs, tf.shape(x, out_type=tf.int64)[0])

    def call(self, x, training=False):
        """Counts (B, V) -> the document representation act(c + sum_w n_w W_w) (B, H) (Larochelle & Lauly
        Sec. 5: the hidden layer after the whole document, used for retrieval)."""
        x = tf.convert_to_tensor(x, tf.float32)
        return keras.activations.get(self.activation)(self.hidden_bias + tf.matmul(x, self.embeddings))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        log_px = self.document_log_probs(x, step_seed(self), self.train_fraction if training else 1.0)
        self.log_perplexity_tracker.update_state(-log_px / tf.maximum(tf.reduce_sum(x, axis=-1), 1.0))
        return per_replica_loss(-tf.reduce_mean(log_px))

    def topic_word_scores(self):
        """W^T (H, V): the words that switch each hidden unit on the most."""
        return tf.transpose(self.embeddings)

    # === Inference (numpy or tensors in) ===
    def encode(self, x):
        return self(self._counts(x))

    def measure(self, x, labels=None, batch_size=200, seed=0, coherence_words=10, num_samples=None):
        """Test metrics on counts x (N, V): perplexity / corpus_perplexity from the exact log p(d) of one
        seeded random ordering per document; log_likelihood (mean nats per document); npmi of the
        hidden units' top words on x; ``labels`` accepted and unused; ``num_samples``
        accepted (``zoo evaluate`` passes it) and unused: no sampling here."""
        x, lengths = self._test_documents(x)
        fn = tf.function(self.document_log_probs, reduce_retracing=True)
        log_px = np.concatenate([fn(tf.constant(x[s:s + batch_size]), tf.constant([seed, s], tf.int32)).numpy()
                                 for s in range(0, len(x), batch_size)]).astype(np.float64)
        return {**self.perplexity_metrics(log_px, lengths), "log_likelihood": float(log_px.mean()),
                "documents": int(len(x)), "tokens": int(lengths.sum()),
                "npmi": self.coherence(x, coherence_words)["npmi"]}

    # === Serving signatures ===
    def _serve_encode(self, counts):
        return {"hidden": self(counts)}

    def _serve_score(self, counts, seed):
        log_px = self.document_log_probs(counts, tf.stack([seed, 0]))
        length = tf.reduce_sum(counts, axis=1)
        return {"log_likelihood": log_px, "length": length, "perplexity": tf.exp(-log_px / length)}

    def export_endpoints(self):
        return self.document_endpoints(
            "bag of words (B, V) -> the document's hidden representation (B, H) (no latent distribution: "
            "DocNADE is autoregressive)",
            "bag of words, seed of the word ordering -> exact log p(d) of that ordering (nats), length, "
            "per-document perplexity",
            score_inputs=((tf.TensorSpec([], tf.int32, name="seed"), np.int32(0)),))

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "hidden_units": self.hidden_units,
                "activation": self.activation, "train_fraction": self.train_fraction,
                "vocabulary": list(self.vocabulary) if self.vocabulary else None, "seed": self.seed}
