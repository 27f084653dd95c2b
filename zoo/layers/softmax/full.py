"""The full softmax (the reference): logits = h W^T + b over all V words."""
import tensorflow as tf

from zoo.layers.softmax.base import OutputLayer


class FullSoftmax(OutputLayer):
    """Output matrix ``kernel`` (V, H) (one row per word, so sampled objectives gather rows) and ``bias`` (V,);
    ``kernel_initializer`` (a Keras initializer name; word2vec starts its output vectors at "zeros")."""

    def __init__(self, vocab_size, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(vocab_size, **kwargs)
        self.kernel_initializer = kernel_initializer

    def build(self, input_shape):
        units = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(self.vocab_size, units), initializer=self.kernel_initializer,
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")

    def logits(self, hidden):
        return tf.matmul(hidden, self.kernel, transpose_b=True) + self.bias

    def log_probs(self, hidden):
        return tf.nn.log_softmax(self.logits(hidden))

    def log_prob(self, hidden, targets):
        targets = self.check_targets(targets)
        return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=self.logits(hidden))

    def candidate_logits(self, hidden, ids):
        """Logits of the words ``ids`` (S,) for every row: (N, S)."""
        return tf.matmul(hidden, tf.gather(self.kernel, ids), transpose_b=True) + tf.gather(self.bias, ids)

    def target_logits(self, hidden, targets):
        """Each row's logit of its own target: targets (N,) -> (N,); or of its own several, hidden (N, 1, H) and
        targets (N, S) -> (N, S)."""
        return tf.reduce_sum(hidden * tf.gather(self.kernel, targets), axis=-1) + tf.gather(self.bias, targets)

    def get_config(self):
        return {**super().get_config(), "kernel_initializer": self.kernel_initializer}
