"""Mixture of multinomials over bags of words, fitted by EM (Dempster, Laird & Rubin 1977; for text:
Nigam, McCallum, Thrun & Mitchell 2000): the lecture deck's EM for a generative model.

Generative story: z ~ Categorical(pi); each word of the document ~ Categorical(beta_z), so
log p(d) = log sum_z pi_z prod_w beta_zw^{n_dw} (token-sequence probability, no multinomial
coefficient, as every document model of the zoo: ``zoo.models.documents``). The marginal is exact,
so the perplexity is exact, not a bound.

EM, with one ``model.fit`` epoch = one EM pass over the training documents (``train_step`` on one
batch holding all of them: the recipe sets ``batch_size`` >= the number of training documents):

    E-step   q(z | d) = pi_z prod_w beta_zw^{n_dw} / sum_z' (...)       (exact, in log space)
    M-step   pi_z   = (sum_d q(z|d) + a) / (D + K a)
             beta_zw = (sum_d q(z|d) n_dw + b) / (sum_d q(z|d) N_d + V b)

a = ``mixing_smoothing``, b = ``smoothing``: Dirichlet smoothing, i.e. the MAP estimate under
Dirichlet(1 + a) and Dirichlet(1 + b) priors. Each pass never decreases the objective EM maximises,
log p(data) + log p(pi, beta) (``log_posterior``, per document); with a = b = 0 that is the
log-likelihood itself. The logged ``log_likelihood`` of an epoch is that of the parameters the
epoch started from (the E-step computes it exactly on the way).

Expected on 20News (K = 20): no number in the NVDM paper; the card records the test perplexity and
the cluster purity against the 20 newsgroup labels.
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.registry import register_model
from zoo.models.documents import DocumentModel

TINY = 1e-30


@register_model
class MixtureOfMultinomials(DocumentModel, keras.Model):
    """K multinomials over the vocabulary and their mixing weights, as non-trainable variables.

    Args:
      vocab_size: V. num_components: K. smoothing: b, the pseudo-count of every word in every
      component's M-step. mixing_smoothing: a, the pseudo-count of every component.
      vocabulary: the V words (topics, text signature); seed: of the initialisation.
    """

    distribution_unsupported = (
        "its train_step is a full-batch EM pass whose M-step assigns the parameters from this replica's "
        "sufficient statistics, which are not summed across replicas")

    topic_label = "cluster"

    def __init__(self, vocab_size=2000, num_components=20, smoothing=0.1, mixing_smoothing=1.0, vocabulary=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_vocabulary(vocab_size, vocabulary)
        if num_components < 1:
            raise ValueError(f"num_components must be >= 1, got {num_components}")
        if smoothing < 0 or mixing_smoothing < 0:
            raise ValueError(f"smoothing pseudo-counts must be >= 0, got {smoothing}, {mixing_smoothing}")
        self.num_components = int(num_components)
        self.smoothing = float(smoothing)
        self.mixing_smoothing = float(mixing_smoothing)
        self.seed = seed
        self.log_likelihood_tracker = keras.metrics.Mean(name="log_likelihood")
        self.log_posterior_tracker = keras.metrics.Mean(name="log_posterior")
        self.log_perplexity_tracker = keras.metrics.Mean(name="log_perplexity")
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def build(self, input_shape=None):
        rng = np.random.RandomState(self.seed)
        beta = rng.gamma(1.0, size=(self.num_components, self.vocab_size)) + 1.0
        beta /= beta.sum(1, keepdims=True)
        self.log_weights = self.add_weight(shape=(self.num_components,), name="log_weights", trainable=False,
                                           initializer=keras.initializers.Constant(-np.log(self.num_components)))
        self.log_word_probs = self.add_weight(shape=(self.num_components, self.vocab_size), name="log_word_probs",
                                              trainable=False, initializer=keras.initializers.Constant(np.log(beta)))

    def prepare_for_data(self, splits):
        """Vocabulary from the data; each component started at one random training document's counts
        plus the corpus unigram distribution (seeded): distinct starting points for EM."""
        super().prepare_for_data(splits)
        if not self.built:
            self.build()
        x = np.asarray(splits["train"], np.float64)
        rng = np.random.RandomState(self.seed)
        unigram = x.sum(0) + 1.0
        unigram /= unigram.sum()
        seeds = x[rng.choice(len(x), self.num_components, replace=len(x) < self.num_components)]
        beta = seeds / seeds.sum(1, keepdims=True) + unigram
        self.log_word_probs.assign(np.log(beta / beta.sum(1, keepdims=True)).astype(np.float32))

    # === Exact inference ===
    def joint_log_probs(self, x):
        """log pi_z + sum_w n_dw log beta_zw: (B, K)."""
        x = tf.convert_to_tensor(x, tf.float32)
        return self.log_weights[None, :] + tf.matmul(x, self.log_word_probs, transpose_b=True)

    def call(self, x, training=False):
        """Counts (B, V) -> q(z | d), the posterior over components (B, K)."""
        return tf.nn.softmax(self.joint_log_probs(x), axis=-1)

    def log_marginal(self, x):
        """Exact log p(d) (B,): logsumexp_z of the joint."""
        return tf.reduce_logsumexp(self.joint_log_probs(x), axis=-1)

    def log_prior(self):
        """log p(pi, beta) up to a constant: a sum log pi + b sum log beta."""
        return (self.mixing_smoothing * tf.reduce_sum(self.log_weights)
                + self.smoothing * tf.reduce_sum(self.log_word_probs))

    def topic_word_scores(self):
        return tf.convert_to_tensor(self.log_word_probs)

    # === EM through model.fit ===
    def _track(self, x, log_px):
        lengths = tf.maximum(tf.reduce_sum(x, axis=-1), 1.0)
        self.log_likelihood_tracker.update_state(log_px)
        self.log_perplexity_tracker.update_state(-log_px / lengths)
        self.loss_tracker.update_state(-log_px)

    def train_step(self, data):
        """One EM pass over the batch (all training documents): E-step, then M-step in place."""
        x = tf.convert_to_tensor(data[0] if isinstance(data, (tuple, list)) else data, tf.float32)
        joint = self.joint_log_probs(x)
        log_px = tf.reduce_logsumexp(joint, axis=-1)
        n = tf.cast(tf.shape(x)[0], tf.float32)
        self.log_posterior_tracker.update_state((tf.reduce_sum(log_px) + self.log_prior()) / n)
        self._track(x, log_px)
        responsibilities = tf.exp(joint - log_px[:, None])                       # E-step, (B, K)
        component_docs = tf.reduce_sum(responsibilities, axis=0)                  # M-step
        word_counts = tf.matmul(responsibilities, x, transpose_a=True) + self.smoothing   # (K, V)
        self.log_word_probs.assign(tf.math.log(tf.maximum(word_counts, TINY))
                                   - tf.math.log(tf.reduce_sum(word_counts, axis=1, keepdims=True)))
        weights = component_docs + self.mixing_smoothing
        self.log_weights.assign(tf.math.log(tf.maximum(weights, TINY)) - tf.math.log(tf.reduce_sum(weights)))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = tf.convert_to_tensor(data[0] if isinstance(data, (tuple, list)) else data, tf.float32)
        log_px = self.log_marginal(x)
        self._track(x, log_px)
        return {m.name: m.result() for m in (self.loss_tracker, self.log_likelihood_tracker,
                                             self.log_perplexity_tracker)}

    @property
    def metrics(self):
        return [self.loss_tracker, self.log_likelihood_tracker, self.log_posterior_tracker,
                self.log_perplexity_tracker]

    # === Inference (numpy or tensors in) ===
    def encode(self, x):
        """Counts (B, V) -> q(z | d) (B, K)."""
        return self(self._counts(x))

    def measure(self, x, labels=None, batch_size=1000, coherence_words=10, num_samples=None):
        """Exact test metrics on counts x (N, V): perplexity (per document) and corpus_perplexity from
        the exact log p(d); log_likelihood (mean nats per document); purity against ``labels`` (the
        newsgroups) when given; npmi of every component's top words on x. ``num_samples`` is accepted
        (``zoo evaluate`` passes it) and unused: the likelihood is exact."""
        x, lengths = self._test_documents(x)
        log_px, assignments = [], []
        for start in range(0, len(x), batch_size):
            joint = self.joint_log_probs(x[start:start + batch_size])
            log_px.append(tf.reduce_logsumexp(joint, axis=-1).numpy())
            assignments.append(tf.argmax(joint, axis=-1).numpy())
        log_px = np.concatenate(log_px).astype(np.float64)
        metrics = {**self.perplexity_metrics(log_px, lengths), "log_likelihood": float(log_px.mean()),
                   "documents": int(len(x)), "tokens": int(lengths.sum()),
                   "npmi": self.coherence(x, coherence_words)["npmi"]}
        if labels is not None:
            metrics["purity"] = self.purity(np.concatenate(assignments), labels)
        return metrics

    # === Serving signatures ===
    def _serve_encode(self, counts):
        joint = self.joint_log_probs(counts)
        return {"cluster_probs": tf.nn.softmax(joint, axis=-1), "cluster": tf.argmax(joint, axis=-1, output_type=tf.int32)}

    def _serve_score(self, counts):
        log_px = self.log_marginal(counts)
        length = tf.reduce_sum(counts, axis=1)
        return {"log_likelihood": log_px, "length": length, "perplexity": tf.exp(-log_px / length)}

    def export_endpoints(self):
        return self.document_endpoints(
            "bag of words (B, V) counts -> q(z|d) over the K components and the most probable one",
            "bag of words -> exact log p(d) (nats), length, per-document perplexity")

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "num_components": self.num_components,
                "smoothing": self.smoothing, "mixing_smoothing": self.mixing_smoothing,
                "vocabulary": list(self.vocabulary) if self.vocabulary else None, "seed": self.seed}
