"""Diagnostics of posterior collapse, shared by every amortised latent-variable model.

* ``mutual_information``: I(x; z) under q(x, z) = p_data(x) q(z | x), by He et al. (2019)'s minibatch
  estimator: E_x E_q(z|x) log q(z|x) - E_z log q(z), the aggregate posterior q(z) = mean_i q(z | x_i) taken over
  the batch. 0 when q(z|x) ignores x; at most log B for a batch of B.
* ``active_units``: the units d with Cov_x(E_q[z_d]) > 0.01 (Burda et al. 2016, Sec. 5.2): a unit whose
  posterior mean does not move with x carries no information.
"""
import tensorflow as tf


def mutual_information(posterior, seed):
    """posterior: a batch (B,) of distributions over z (event (D,)) with ``entropy``, ``sample`` and
    ``log_prob`` that broadcasts; seed: (2,) int32 -> scalar estimate of I(x; z) in nats."""
    z = posterior.sample(seed=seed)  # (B, D): one draw from each q(z | x_b)
    batch = tf.shape(z)[0]
    log_q_each = posterior.log_prob(z[:, None, :])  # (B, B): log q(z_b | x_i)
    log_aggregate = tf.reduce_logsumexp(log_q_each, axis=1) - tf.math.log(tf.cast(batch, tf.float32))
    return -tf.reduce_mean(posterior.entropy()) - tf.reduce_mean(log_aggregate)


def active_units(loc, threshold=0.01):
    """loc (N, D) posterior means -> (number of active units, variance of each unit's mean over x)."""
    variance = tf.math.reduce_variance(tf.convert_to_tensor(loc, tf.float32), axis=0)
    return tf.reduce_sum(tf.cast(variance > threshold, tf.int32)), variance
