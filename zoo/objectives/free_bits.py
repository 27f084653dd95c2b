"""Free bits (Kingma et al. 2016, "Improved variational inference with inverse autoregressive flow", App. C):
the KL term of the training objective is not pushed below lambda nats, so the encoder keeps that much
information for free and the decoder cannot make q(z|x) collapse onto the prior to save KL.

    kl_train = sum_j max(lambda, E_batch[KL_j])      per dimension (their grouping, one group per unit)
    kl_train = max(lambda, E_batch[KL])              in total
    kl_train = E_batch[sum_j max(lambda, KL_j)]      per dimension of each example ("example_dimension": Li,
                                                     He, Neubig, Berg-Kirkpatrick & Yang 2019's code, --fb 2)

The ELBO reported is never changed: only the quantity trained on.
"""
import tensorflow as tf

MODES = ("dimension", "total", "example_dimension")


def free_bits_kl(kl_per_dimension, free_bits, mode="dimension"):
    """kl_per_dimension (B, D) -> the scalar KL of the training objective with ``free_bits`` nats free (per
    dimension, in total, or per dimension of each example: ``mode``); 0 free bits gives the batch mean of the
    summed KL."""
    if mode not in MODES:
        raise ValueError(f"free-bits mode must be one of {MODES}, got {mode!r}")
    if mode == "example_dimension":
        return tf.reduce_mean(tf.reduce_sum(tf.maximum(kl_per_dimension, free_bits), axis=1))
    mean_kl = tf.reduce_mean(kl_per_dimension, axis=0)  # (D,)
    if mode == "dimension":
        return tf.reduce_sum(tf.maximum(mean_kl, free_bits))
    return tf.maximum(tf.reduce_sum(mean_kl), free_bits)
