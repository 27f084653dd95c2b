"""Sigmoid belief network document model trained by NVIL (Mnih & Gregor 2014; the SBN row of Miao et al. 2016's
Table 1, 20News perplexity 909 for 50 units), an ``NVDM`` whose latent code is binary.

Generative story: h in {0, 1}^D with a factorised Bernoulli prior (learned logits); each word of document d ~
softmax(R h + b), as NVDM's decoder (``BagOfWordsLikelihood``). Inference: q(h | d) = prod_j Bernoulli(h_j;
sigma(MLP(d))). h is discrete, so the encoder learns by the score-function estimator with NVIL's variance
reductions (``zoo.objectives.score_function.NVILBaseline``: an input-dependent baseline over log(1 + counts),
here predicting the signal per word of the document, centring and scaling); the decoder and the prior by the
gradient of log p(d, h).

Evaluation is NVDM's (``measure``): per-document perplexity from the ELBO (analytic KL between Bernoulli products)
and from the shared importance-sampled estimator. Measured (recipes/sbn_20news_50.py, fdarn_20news_50.py): SBN-50
879.5 and fDARN-50 909.4 per-document test perplexity, against the NVDM table's 909 and 917 (docs/documents.md).
"""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.models.nvdm import NVDM
from zoo.models.seeding import step_seed
from zoo.objectives import kl_term
from zoo.objectives.score_function import NVILBaseline
from zoo.registry import register_model
from zoo.objectives.replicas import per_replica_loss

tfd = tfp.distributions


@register_model
class SBN(NVDM):
    """Word counts (B, V) -> logits (B, D) of q(h | d).

    Args (beyond ``NVDM``'s encoder and vocabulary ones): latent_dim D (50 in the paper's table);
    baseline_units: widths of NVIL's baseline MLP; nvil_decay: of its running mean and variance;
    baseline_per_word: the baseline and running mean predict the learning signal per word of the document
    (``NVILBaseline.surrogate``'s scale), True by default; False: per document, as Mnih & Gregor's.
    """

    encode_doc = "bag of words (B, V) counts -> probs and logits of the Bernoulli q(h|d)"

    def __init__(self, vocab_size=2000, latent_dim=50, baseline_units=(100,), nvil_decay=0.9, baseline_per_word=True,
                 **kwargs):
        kwargs.pop("analytic_kl", None)
        super().__init__(vocab_size=vocab_size, latent_dim=latent_dim, analytic_kl=True, **kwargs)
        self.baseline_units, self.nvil_decay = tuple(int(u) for u in baseline_units), float(nvil_decay)
        self.baseline_per_word = bool(baseline_per_word)
        self.posterior_head = keras.layers.Dense(self.latent_dim, name="posterior_logits")
        self.baseline = NVILBaseline(self.baseline_units, self.nvil_decay, name="nvil_baseline")

    def build(self, input_shape):
        super().build(input_shape)
        self.prior_logits = self.add_weight(shape=(self.latent_dim,), initializer="zeros", name="prior_logits")
        self.baseline.build((None, self.vocab_size))

    # === Distributions ===
    def prior(self):
        """p(h) = prod_j Bernoulli(sigma(prior_logits_j)), event shape (D,)."""
        return tfd.Independent(tfd.Bernoulli(logits=self.prior_logits, dtype=tf.float32), 1)

    def posterior_from_params(self, logits):
        return tfd.Independent(tfd.Bernoulli(logits=logits, dtype=tf.float32), 1)

    # === Objective: NVIL ===
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-mean log p(d, h) (decoder and prior) + NVIL's encoder surrogate + its baseline's loss, h ~ q(h | d);
        the trackers report the ELBO with the analytic KL."""
        posterior, prior = self.posterior_from_params(y_pred), self.prior()
        h = tf.stop_gradient(posterior.sample(seed=step_seed(self)))
        log_px_h = self.likelihood(h).log_prob(x)
        log_prior, log_q = prior.log_prob(h), posterior.log_prob(h)
        counts = tf.convert_to_tensor(x, tf.float32)
        words = tf.maximum(tf.reduce_sum(counts, axis=-1), 1.0) if self.baseline_per_word else None
        encoder_loss, baseline_loss = self.baseline.surrogate(log_px_h + log_prior - log_q, log_q,
                                                              tf.math.log1p(counts), training=training, scale=words)
        loss = per_replica_loss(-tf.reduce_mean(log_px_h + log_prior) + encoder_loss + baseline_loss)
        kl = kl_term(posterior, prior, h)  # analytic for SBN; at the sample for fDARN
        terms = {"reconstruction": log_px_h, "kl": kl, "elbo": log_px_h - kl}
        self.reconstruction_tracker.update_state(terms["reconstruction"])
        self.kl_tracker.update_state(terms["kl"])
        self.elbo_tracker.update_state(terms["elbo"])
        self.track_terms(x, terms)
        return loss

    def refined_elbo(self, *args, **kwargs):
        raise NotImplementedError("per-document refinement of q is Gaussian-only (NVDM); SBN's q is Bernoulli")

    # === Serving ===
    def _serve_encode(self, counts):
        logits = self(counts)
        return {"probs": tf.sigmoid(logits), "logits": logits}

    def get_config(self):
        config = {**super().get_config(), "baseline_units": self.baseline_units, "nvil_decay": self.nvil_decay,
                  "baseline_per_word": self.baseline_per_word}
        config.pop("analytic_kl", None)
        return config


def _autoregressive_bernoulli(base_logits, weights, mask, latent_dim):
    """prod_j Bernoulli(h_j; sigma(base_j + sum_{k<j} W_jk h_k)): ``base_logits`` (..., D), W (D, D) masked strictly
    lower-triangular. A ``tfd.Autoregressive``: log_prob in one pass, sampling in D passes."""
    masked = weights * mask

    def conditional(h):
        return tfd.Independent(tfd.Bernoulli(logits=base_logits + tf.linalg.matvec(masked, h), dtype=tf.float32), 1)

    return tfd.Autoregressive(conditional, sample0=tf.zeros_like(base_logits), num_steps=latent_dim)


@register_model
class FDARN(SBN):
    """fDARN (Gregor, Danihelka, Mnih, Blundell & Wierstra 2014, "Deep autoregressive networks"; the fDARN row
    of Miao et al.'s table, 917): an SBN whose prior and posterior are autoregressive over the binary units,
    p(h) = prod_j p(h_j | h_<j) and q(h | d) = prod_j q(h_j | d, h_<j), each a logistic regression on the earlier
    units (strictly lower-triangular weights). Trained by NVIL like the SBN; KL terms are estimated at the samples
    (no closed form). Shipped ``fdarn-20news-50``: perplexity 909.4 against the table's 917
    (``recipes/fdarn_20news_50.py``)."""

    encode_doc = "bag of words (B, V) counts -> the logits of q(h_j | d) before the autoregressive terms"

    def build(self, input_shape):
        super().build(input_shape)
        d = self.latent_dim
        self.mask = tf.constant(np.tril(np.ones((d, d), np.float32), k=-1))
        self.prior_weights = self.add_weight(shape=(d, d), initializer="zeros", name="prior_weights")
        self.posterior_weights = self.add_weight(shape=(d, d), initializer="zeros", name="posterior_weights")

    def inference_variables(self):
        """The SBN's encoder and posterior head, and the posterior's autoregressive weights."""
        return super().inference_variables() + [self.posterior_weights]

    def prior(self):
        return _autoregressive_bernoulli(self.prior_logits, self.prior_weights, self.mask, self.latent_dim)

    def posterior_from_params(self, logits):
        return _autoregressive_bernoulli(logits, self.posterior_weights, self.mask, self.latent_dim)

    def posterior_mean(self, x, samples=20):
        """E_q[h | d] estimated from ``samples`` draws (no closed form)."""
        return tf.reduce_mean(self.posterior(x).sample(samples, seed=tf.constant([0, 5])), axis=0)

    def diagnostics(self, x):
        """KL (at samples) and the active units by the sampled posterior means (no closed-form entropy for I(x; z))."""
        posterior, prior = self.posterior(x), self.prior()
        h = posterior.sample(seed=tf.constant([0, 6]))
        means = self.posterior_mean(x)
        return {"scalars": {"kl": tf.reduce_mean(posterior.log_prob(h) - prior.log_prob(h)),
                            "active_units_variance": tf.reduce_sum(tf.cast(tf.math.reduce_variance(means, 0) > 0.01,
                                                                           tf.int32))}}
