"""The evidence lower bound and the importance-weighted bound, shared by every latent-variable model.

Notation (Kingma & Welling 2014; Burda, Grosse & Salakhutdinov 2016):

    ELBO(x)   = E_q[log p(x|z)] - KL(q(z|x) || p(z))
    L_k(x)    = E_{z_1..z_k ~ q}[ log (1/k) sum_i p(x, z_i) / q(z_i|x) ]

L_1 = ELBO <= L_k <= L_{k+1} <= log p(x). All functions take ``tfd`` distributions and
tensors, never networks, so the VAE, NVDM and the sentence VAE share them.
"""

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

def kl_term(posterior, prior, z=None, analytic=True):
    """KL(q || p) per example, shape = q.batch_shape (e.g. (B,)).

    ``analytic=True`` uses the closed form registered in TFP (Gaussian to Gaussian); where none
    is registered, or with ``analytic=False``, the one-sample Monte Carlo estimate
    ``log q(z) - log p(z)`` at the given sample ``z`` (shape (B, D)) is returned.
    """
    if analytic:
        try:
            return tfd.kl_divergence(posterior, prior)
        except NotImplementedError:
            if z is None:
                raise
    if z is None:
        raise ValueError("kl_term(analytic=False) needs the posterior sample z")
    return posterior.log_prob(z) - prior.log_prob(z)

def elbo(log_likelihood, kl, beta=1.0):
    """ELBO per example: ``log p(x|z) - beta * KL``; beta = 1 is the true bound, beta < 1 during
    KL annealing (Bowman et al. 2016). Shapes broadcast: (B,) and (B,) -> (B,)."""
    return log_likelihood - beta * kl

def log_importance_weights(log_likelihood, prior, posterior, z, beta=1.0):
    """log w_i = log p(x|z_i) + beta * (log p(z_i) - log q(z_i|x)).

    Args:
      log_likelihood: log p(x|z_i), shape (k, B).
      prior, posterior: distributions over z with event shape (D,).
      z: samples from the posterior, shape (k, B, D).
    Returns: (k, B).
    """
    return log_likelihood + beta * (prior.log_prob(z) - posterior.log_prob(z))

def iwae_bound(log_weights, axis=0):
    """L_k = logsumexp_i(log w_i) - log k along ``axis`` (Burda et al. 2016, eq. 8).

    With k = 1 this is the single-sample ELBO estimate; log_weights (k, B) -> (B,).
    """
    k = tf.cast(tf.shape(log_weights)[axis], log_weights.dtype)
    return tf.reduce_logsumexp(log_weights, axis=axis) - tf.math.log(k)

def log_mean_exp(values, axis=0):
    """Stable log(mean(exp(values))) along ``axis``; the same quantity as ``iwae_bound``."""
    return iwae_bound(values, axis=axis)

