"""Adaptive softmax (Grave, Joulin, Cisse, Grangier & Jegou 2017): a head over the ``cutoffs[0]`` most frequent
words plus one token per tail cluster; tail cluster i holds ids [cutoffs[i], cutoffs[i + 1]) (the last ends at
V) and reads the hidden state through a projection of width H / div^(i + 1), so rare words cost little.
log p(w) = log p_head(w) for the shortlist, log p_head(cluster i) + log p_i(w) in cluster i.
"""
import tensorflow as tf

from zoo.layers.softmax.base import OutputLayer


class AdaptiveSoftmax(OutputLayer):
    def __init__(self, vocab_size, cutoffs=(2000,), div_value=4.0, **kwargs):
        super().__init__(vocab_size, **kwargs)
        self.cutoffs, self.div_value = [int(c) for c in cutoffs], float(div_value)
        bounds = self.cutoffs + [self.vocab_size]
        if not self.cutoffs or any(a >= b for a, b in zip([0] + self.cutoffs, bounds)):
            raise ValueError(f"cutoffs must increase strictly within (0, vocab_size={self.vocab_size}), "
                             f"got {list(cutoffs)}")
        self.ranges = list(zip(self.cutoffs, bounds[1:]))

    def build(self, input_shape):
        units = int(input_shape[-1])
        head_size = self.cutoffs[0] + len(self.ranges)
        self.head_kernel = self.add_weight(shape=(units, head_size), initializer="glorot_uniform", name="head_kernel")
        self.head_bias = self.add_weight(shape=(head_size,), initializer="zeros", name="head_bias")
        self.projections, self.tails = [], []
        for i, (start, end) in enumerate(self.ranges):
            width = max(1, int(units // self.div_value ** (i + 1)))
            self.projections.append(self.add_weight(shape=(units, width), initializer="glorot_uniform",
                                                    name=f"tail_{i}_projection"))
            self.tails.append(self.add_weight(shape=(width, end - start), initializer="glorot_uniform",
                                              name=f"tail_{i}_kernel"))

    def head_log_probs(self, hidden):
        return tf.nn.log_softmax(tf.matmul(hidden, self.head_kernel) + self.head_bias)

    def tail_log_probs(self, hidden, i):
        return tf.nn.log_softmax(tf.matmul(tf.matmul(hidden, self.projections[i]), self.tails[i]))

    def log_probs(self, hidden):
        head = self.head_log_probs(hidden)
        parts = [head[:, :self.cutoffs[0]]]
        for i in range(len(self.ranges)):
            parts.append(head[:, self.cutoffs[0] + i:self.cutoffs[0] + i + 1] + self.tail_log_probs(hidden, i))
        return tf.concat(parts, axis=1)

    def loss(self, hidden, targets, seed=None):
        """The exact negative log-likelihood, computed with each tail only on the rows whose target is in it."""
        targets = self.check_targets(targets)
        head = self.head_log_probs(hidden)
        head_target = targets
        nll = tf.zeros(tf.shape(targets), tf.float32)
        for i, (start, end) in enumerate(self.ranges):
            inside = tf.logical_and(targets >= start, targets < end)
            head_target = tf.where(inside, self.cutoffs[0] + i, head_target)
            rows = tf.cast(tf.where(inside)[:, 0], tf.int32)
            tail = self.tail_log_probs(tf.gather(hidden, rows), i)
            picked = tf.gather(tail, tf.gather(targets, rows) - start, batch_dims=1)
            nll = tf.tensor_scatter_nd_add(nll, rows[:, None], -picked)
        return nll - tf.gather(head, head_target, batch_dims=1)

    def get_config(self):
        return {**super().get_config(), "cutoffs": self.cutoffs, "div_value": self.div_value}
