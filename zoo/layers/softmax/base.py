"""The contract every output layer of the zoo keeps (issue 11): a training loss that may be approximate or
sampled, and exact normalised log-probabilities for evaluation, so every perplexity is reported under the exact
normaliser whatever the layer was trained with.

    layer.loss(hidden (N, H), targets (N,), seed (2,) int32) -> (N,) training loss per position (nats or a bound)
    layer.log_probs(hidden (N, H)) -> (N, V) exact log p(w | h), logsumexp over w = 0
    layer.log_prob(hidden (N, H), targets (N,)) -> (N,) exact log p(target | h)

Targets outside [0, V) fail with InvalidArgument naming the layer.
"""
import keras
import tensorflow as tf


class OutputLayer(keras.layers.Layer):
    """Base class: ``vocab_size`` V and the input width H (``build``); subclasses implement ``log_probs`` and
    may override ``loss`` (default: the exact negative log-likelihood) and ``log_prob``."""

    def __init__(self, vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        if self.vocab_size < 2:
            raise ValueError(f"{type(self).__name__}: vocab_size must be >= 2, got {vocab_size}")

    def check_targets(self, targets):
        targets = tf.cast(targets, tf.int32)
        ok = tf.reduce_all(tf.logical_and(targets >= 0, targets < self.vocab_size))
        with tf.control_dependencies([tf.debugging.Assert(ok, [f"{type(self).__name__}: target ids must lie in "
                                                               f"[0, {self.vocab_size}); got", targets])]):
            return tf.identity(targets)

    def log_probs(self, hidden):
        raise NotImplementedError

    def log_prob(self, hidden, targets):
        targets = self.check_targets(targets)
        return tf.gather(self.log_probs(hidden), targets, batch_dims=1)

    def loss(self, hidden, targets, seed=None):
        return -self.log_prob(hidden, targets)

    def call(self, hidden):
        return self.log_probs(hidden)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size}
