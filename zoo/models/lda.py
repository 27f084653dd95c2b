"""Latent Dirichlet allocation (Blei, Ng & Jordan, JMLR 2003) by variational inference, the NVDM paper's
LDA-50 / LDA-200 baseline (perplexity 1091 / 1058 on 20News).

Generative story: beta_k ~ Dirichlet(eta) for K topics; per document theta ~ Dirichlet(alpha); each
word: z ~ Categorical(theta), w ~ Categorical(beta_z).

Variational family (Blei et al. Sec. 5; Hoffman, Blei & Bach 2010): q(beta_k) = Dirichlet(lambda_k),
q(theta_d) = Dirichlet(gamma_d), q(z_dn) = Categorical(phi_dn), all ``tfd.Dirichlet`` where they
are distributions. Training is online variational Bayes (Hoffman et al. 2010, Alg. 2) through
``model.fit``: per mini-batch, the E-step iterates

    phi_dwk ∝ exp(E[log theta_dk] + E[log beta_kw]),   gamma_dk = alpha + sum_w n_dw phi_dwk

to convergence, then lambda <- (1 - rho_t) lambda + rho_t (eta + D / B * sum_d n_dw phi_dwk) with
rho_t = (tau0 + t)^-kappa. The E-step runs on the non-zero counts only (about 100 of 2,000 words
per document), with phi never stored.

Per-document bound for perplexity (the same protocol as NVDM: ``zoo.objectives.perplexity``), with
the topics at their posterior mean beta-bar = E_q[beta] and gamma fitted to the document by the E-step:

    log p(d | beta-bar) >= sum_w n_dw log sum_k exp(E[log theta_k]) beta-bar_kw - KL(Dir(gamma) || Dir(alpha))

(phi maximised out in closed form). A lower bound, so the perplexity is an upper bound, as NVDM's.
"""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.registry import register_model
from zoo.models.documents import DocumentModel

tfd = tfp.distributions


def expected_log_dirichlet(concentration):
    """E[log x] under Dirichlet(concentration), along the last axis: digamma(c) - digamma(sum c)."""
    return tf.math.digamma(concentration) - tf.math.digamma(tf.reduce_sum(concentration, -1, keepdims=True))


@register_model
class LDA(DocumentModel, keras.Model):
    """LDA with K topics over V words.

    Args:
      vocab_size: V. num_topics: K (50 or 200 in the NVDM table).
      alpha: symmetric Dirichlet prior on theta (default 1 / K). eta: prior on the topics (0.01).
      num_documents: D, the training-set size (scales the mini-batch statistics; set from the data).
      tau0, kappa: the step size rho_t = (tau0 + t)^-kappa (Hoffman et al. 2010).
      max_iterations, tolerance: of the E-step (stops when the mean |change| of gamma < tolerance).
      vocabulary: the V words; seed: of lambda's random start (Gamma(100, 1/100), as Hoffman et al.).
    """

    distribution_unsupported = (
        "its train_step is an online variational-Bayes update that assigns the topic parameters from this "
        "replica's sufficient statistics, which are not summed across replicas")

    def __init__(self, vocab_size=2000, num_topics=50, alpha=None, eta=0.01, num_documents=10000, tau0=64.0,
                 kappa=0.7, max_iterations=100, tolerance=1e-3, vocabulary=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_vocabulary(vocab_size, vocabulary)
        if num_topics < 1:
            raise ValueError(f"num_topics must be >= 1, got {num_topics}")
        self.num_topics = int(num_topics)
        self.alpha = float(alpha) if alpha is not None else 1.0 / self.num_topics
        if self.alpha <= 0 or eta <= 0:
            raise ValueError(f"alpha and eta must be positive, got {self.alpha}, {eta}")
        self.eta = float(eta)
        self.num_documents = int(num_documents)
        self.tau0, self.kappa = float(tau0), float(kappa)
        self.max_iterations, self.tolerance = int(max_iterations), float(tolerance)
        self.seed = seed
        self.bound_tracker = keras.metrics.Mean(name="bound")
        self.log_perplexity_tracker = keras.metrics.Mean(name="log_perplexity")
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def build(self, input_shape=None):
        init = np.random.RandomState(self.seed).gamma(100.0, 0.01, size=(self.num_topics, self.vocab_size))
        self.topic_concentration = self.add_weight(shape=(self.num_topics, self.vocab_size), trainable=False,
                                                   name="lambda", initializer=keras.initializers.Constant(init))
        self.update_count = self.add_weight(shape=(), trainable=False, name="update_count", initializer="zeros")

    def prepare_for_data(self, splits):
        super().prepare_for_data(splits)
        self.num_documents = int(len(splits["train"]))

    # === Distributions ===
    def prior(self):
        """p(theta) = Dirichlet(alpha 1_K)."""
        return tfd.Dirichlet(tf.fill([self.num_topics], self.alpha))

    def topic_posterior(self):
        """q(beta) = Dirichlet(lambda_k) for each topic: batch (K,), event (V,)."""
        return tfd.Dirichlet(self.topic_concentration)

    def topic_word_probs(self):
        """beta-bar = E_q[beta]: (K, V)."""
        return self.topic_posterior().mean()

    def topic_word_scores(self):
        return tf.math.log(self.topic_word_probs())

    # === E-step on the non-zero counts ===
    @staticmethod
    def _nonzeros(x):
        where = tf.where(x > 0)
        return where[:, 0], where[:, 1], tf.gather_nd(x, where)

    def e_step(self, x, topic_word):
        """Fits q(theta_d) = Dirichlet(gamma_d) for counts x (B, V) given exp(E log beta) or beta-bar
        ``topic_word`` (K, V). Returns gamma (B, K) and the nonzero view (docs, words, values, phinorm,
        exp_elog_theta) for the M-step and the bound."""
        x = tf.convert_to_tensor(x, tf.float32)
        batch = tf.shape(x)[0]
        docs, words, values = self._nonzeros(x)
        beta_cols = tf.gather(tf.transpose(topic_word), words)                     # (nnz, K)
        lengths = tf.reduce_sum(x, axis=1, keepdims=True)
        gamma0 = self.alpha + tf.tile(lengths, [1, self.num_topics]) / self.num_topics

        def update(gamma):
            exp_elog_theta = tf.exp(expected_log_dirichlet(gamma))
            theta_rows = tf.gather(exp_elog_theta, docs)                              # (nnz, K)
            phinorm = tf.reduce_sum(theta_rows * beta_cols, axis=1) + 1e-30
            weighted = beta_cols * (values / phinorm)[:, None]
            return self.alpha + exp_elog_theta * tf.math.unsorted_segment_sum(weighted, docs, batch)

        def body(i, gamma, change):
            new = update(gamma)
            return i + 1, new, tf.reduce_mean(tf.abs(new - gamma))

        _, gamma, _ = tf.while_loop(lambda i, g, c: tf.logical_and(i < self.max_iterations, c >= self.tolerance),
                                    body, (tf.constant(0), gamma0, tf.constant(np.inf, tf.float32)))
        gamma = tf.stop_gradient(gamma)
        exp_elog_theta = tf.exp(expected_log_dirichlet(gamma))
        theta_rows = tf.gather(exp_elog_theta, docs)
        phinorm = tf.reduce_sum(theta_rows * beta_cols, axis=1) + 1e-30
        return gamma, (docs, words, values, phinorm, theta_rows)

    def document_bound(self, x, gamma=None):
        """Per-document lower bound on log p(d | beta-bar) (B,), and gamma (B, K)."""
        x = tf.convert_to_tensor(x, tf.float32)
        gamma, (docs, _, values, phinorm, _) = self.e_step(x, self.topic_word_probs())
        fit = tf.math.unsorted_segment_sum(values * tf.math.log(phinorm), docs, tf.shape(x)[0])
        kl = tfd.kl_divergence(tfd.Dirichlet(gamma), self.prior())
        return fit - kl, gamma

    def call(self, x, training=False):
        """Counts (B, V) -> gamma (B, K), the Dirichlet parameters of q(theta | d) (beta at its mean)."""
        return self.document_bound(x)[1]

    # === Online variational Bayes through model.fit ===
    def _track(self, x, bound):
        self.bound_tracker.update_state(bound)
        self.log_perplexity_tracker.update_state(-bound / tf.maximum(tf.reduce_sum(x, axis=-1), 1.0))
        self.loss_tracker.update_state(-bound)

    def train_step(self, data):
        x = tf.convert_to_tensor(data[0] if isinstance(data, (tuple, list)) else data, tf.float32)
        exp_elog_beta = tf.exp(expected_log_dirichlet(self.topic_concentration))
        gamma, (docs, words, values, phinorm, theta_rows) = self.e_step(x, exp_elog_beta)
        # Monitoring: the per-document bound with exp(E log beta) in place of beta-bar (cheap, on the way).
        fit = tf.math.unsorted_segment_sum(values * tf.math.log(phinorm), docs, tf.shape(x)[0])
        self._track(x, fit - tfd.kl_divergence(tfd.Dirichlet(gamma), self.prior()))
        # M-step: sufficient statistics sum_d n_dw phi_dwk = exp(E log beta_kw) sum_d n_dw exp(E log theta_dk) / phinorm
        stats = tf.math.unsorted_segment_sum(theta_rows * (values / phinorm)[:, None], words, self.vocab_size)
        stats = exp_elog_beta * tf.transpose(stats)                                   # (K, V)
        batch = tf.cast(tf.shape(x)[0], tf.float32)
        rho = tf.pow(self.tau0 + self.update_count, -self.kappa)
        target = self.eta + self.num_documents / batch * stats
        self.topic_concentration.assign((1.0 - rho) * self.topic_concentration + rho * target)
        self.update_count.assign_add(1.0)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = tf.convert_to_tensor(data[0] if isinstance(data, (tuple, list)) else data, tf.float32)
        self._track(x, self.document_bound(x)[0])
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        return [self.loss_tracker, self.bound_tracker, self.log_perplexity_tracker]

    # === Inference (numpy or tensors in) ===
    def encode(self, x):
        """Counts (B, V) -> (mean, stddev) of q(theta | d), the topic proportions: each (B, K)."""
        q = tfd.Dirichlet(self(self._counts(x)))
        return q.mean(), q.stddev()

    def measure(self, x, labels=None, batch_size=500, coherence_words=10, tolerance=None, max_iterations=None,
                num_samples=None):
        """Test metrics on counts x (N, V): perplexity / corpus_perplexity from the per-document bound
        (the NVDM paper's protocol, an upper bound on the true perplexity), bound (mean nats per
        document), npmi of the topics' top words on x; ``labels`` accepted and unused; ``num_samples``
        accepted (``zoo evaluate`` passes it) and unused: no sampling here.
        tolerance, max_iterations: of the E-step for this evaluation (default: the model's); a tighter
        E-step gives a tighter bound."""
        x, lengths = self._test_documents(x)
        saved = self.tolerance, self.max_iterations
        self.tolerance = saved[0] if tolerance is None else float(tolerance)
        self.max_iterations = saved[1] if max_iterations is None else int(max_iterations)
        try:
            return self._measure(x, lengths, batch_size, coherence_words)
        finally:
            self.tolerance, self.max_iterations = saved

    def _measure(self, x, lengths, batch_size, coherence_words):
        bound = np.concatenate([self.document_bound(x[s:s + batch_size])[0].numpy()
                                for s in range(0, len(x), batch_size)]).astype(np.float64)
        return {**self.perplexity_metrics(bound, lengths), "bound": float(bound.mean()), "documents": int(len(x)),
                "e_step_tolerance": self.tolerance, "e_step_max_iterations": self.max_iterations,
                "tokens": int(lengths.sum()), "npmi": self.coherence(x, coherence_words)["npmi"]}

    # === Serving signatures ===
    def _serve_encode(self, counts):
        q = tfd.Dirichlet(self(counts))
        return {"loc": q.mean(), "scale": q.stddev(), "concentration": q.concentration}

    def _serve_score(self, counts):
        bound, _ = self.document_bound(counts)
        length = tf.reduce_sum(counts, axis=1)
        return {"bound": bound, "length": length, "perplexity": tf.exp(-bound / length)}

    def export_endpoints(self):
        return self.document_endpoints(
            "bag of words (B, V) -> mean (loc) and stddev (scale) of the topic proportions q(theta|d) = "
            "Dirichlet(concentration)",
            "bag of words -> per-document bound on log p(d) (nats), length, perplexity")

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "num_topics": self.num_topics,
                "alpha": self.alpha, "eta": self.eta, "num_documents": self.num_documents, "tau0": self.tau0,
                "kappa": self.kappa, "max_iterations": self.max_iterations, "tolerance": self.tolerance,
                "vocabulary": list(self.vocabulary) if self.vocabulary else None, "seed": self.seed}
