"""Diagnostics of posterior collapse, shared by every amortised latent-variable model.

* ``mutual_information``: I(x; z) under q(x, z) = p_data(x) q(z | x), by He et al. (2019)'s minibatch
  estimator: E_x E_q(z|x) log q(z|x) - E_z log q(z), the aggregate posterior q(z) = mean_i q(z | x_i) taken over
  the batch. 0 when q(z|x) ignores x; at most log B for a batch of B.
* ``set_mutual_information``: the same quantity with the aggregate taken over a whole evaluated set of N
  diagonal-Gaussian posteriors (the limit B = N), for test figures: minibatches of the sizes that bound an
  evaluation's memory (10 sentences) cap it at log 10 = 2.3 nats and, length-sorted, are not samples of p_data.
* ``active_units``: the units d with Cov_x(E_q[z_d]) > 0.01 (Burda et al. 2016, Sec. 5.2): a unit whose
  posterior mean does not move with x carries no information.
"""
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


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


def set_mutual_information(loc, scale, seed, block=256):
    """I(x; z) over a whole set of N diagonal-Gaussian posteriors q(z | x_n) = N(loc_n, diag(scale_n^2)), for test
    figures: one draw z_n from each, mean_n [log q(z_n | x_n) - log (1/N sum_m q(z_n | x_m))].

    He et al.'s estimator with two changes: the aggregate posterior is taken over all N (its limit B = N: batches
    of 10 cap the minibatch form at log 10), and E log q(z|x) is estimated by the same draws instead of the
    closed-form negative entropy. Both have the same expectation; the draws' version is exactly 0 when the
    posteriors are identical (a collapsed model), where the closed form scatters with sd sqrt(D / 2 / N).
    Computed in blocks of ``block`` draws: memory block x N x D. loc, scale: (N, D); seed: (2,) int32 -> nats."""
    loc = tf.convert_to_tensor(loc, tf.float32)
    scale = tf.convert_to_tensor(scale, tf.float32)
    posteriors = tfd.Independent(tfd.Normal(loc, scale), 1)  # batch (N,)
    n = int(loc.shape[0])
    z = loc + scale * tf.random.stateless_normal(tf.shape(loc), seed)
    information = []
    for start in range(0, n, block):
        log_q = posteriors.log_prob(z[start:start + block, None, :])  # (b, N): log q(z_b | x_m)
        own = tf.linalg.diag_part(log_q[:, start:start + block])  # log q(z_b | x_b)
        information.append(own - tf.reduce_logsumexp(log_q, axis=1) + tf.math.log(float(n)))
    return tf.reduce_mean(tf.concat(information, 0))
