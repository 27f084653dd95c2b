"""Class-based hierarchical softmax (Goodman 2001): p(w | h) = p(c(w) | h) p(w | c(w), h), with about sqrt(V)
classes of consecutive ids, i.e. frequency-binned when ids are sorted by falling frequency (the zoo's
vocabularies are). Training touches the C class logits and the ~V / C logits of the target's class, not V.
"""
import math

import numpy as np
import tensorflow as tf

from zoo.layers.softmax.base import OutputLayer


class ClassHierarchicalSoftmax(OutputLayer):
    def __init__(self, vocab_size, num_classes=None, **kwargs):
        super().__init__(vocab_size, **kwargs)
        self.num_classes = int(num_classes or round(math.sqrt(self.vocab_size)))
        if not 1 <= self.num_classes <= self.vocab_size:
            raise ValueError(f"num_classes must be in [1, vocab_size={self.vocab_size}], got {num_classes}")
        self.class_size = math.ceil(self.vocab_size / self.num_classes)
        self.num_classes = math.ceil(self.vocab_size / self.class_size)  # no empty class
        class_of = np.arange(self.vocab_size) // self.class_size
        self.class_of = tf.constant(class_of, tf.int32)  # (V,)
        members = np.full((self.num_classes, self.class_size), -1, np.int64)
        members.reshape(-1)[:self.vocab_size] = np.arange(self.vocab_size)
        self.members = tf.constant(members, tf.int32)  # (C, S) word ids, -1 past the last word

    def build(self, input_shape):
        units = int(input_shape[-1])
        self.class_kernel = self.add_weight(shape=(self.num_classes, units), initializer="glorot_uniform",
                                            name="class_kernel")
        self.class_bias = self.add_weight(shape=(self.num_classes,), initializer="zeros", name="class_bias")
        self.kernel = self.add_weight(shape=(self.vocab_size, units), initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")

    def class_log_probs(self, hidden):
        return tf.nn.log_softmax(tf.matmul(hidden, self.class_kernel, transpose_b=True) + self.class_bias)

    def log_probs(self, hidden):
        logits = tf.matmul(hidden, self.kernel, transpose_b=True) + self.bias  # (N, V)
        by_word = tf.transpose(logits)  # (V, N): classes are contiguous id ranges -> segment ops
        top = tf.math.segment_max(by_word, self.class_of)
        within = tf.math.log(tf.math.segment_sum(tf.exp(by_word - tf.gather(top, self.class_of)), self.class_of)) + top
        return (tf.gather(self.class_log_probs(hidden), self.class_of, axis=1) + logits
                - tf.transpose(tf.gather(within, self.class_of)))

    def loss(self, hidden, targets, seed=None):
        targets = self.check_targets(targets)
        classes = tf.gather(self.class_of, targets)
        members = tf.gather(self.members, classes)  # (N, S)
        valid = members >= 0
        safe = tf.where(valid, members, 0)
        logits = tf.einsum("nh,nsh->ns", hidden, tf.gather(self.kernel, safe)) + tf.gather(self.bias, safe)
        logits = tf.where(valid, logits, -1e30)
        position = targets - classes * self.class_size
        within = tf.gather(tf.nn.log_softmax(logits), position, batch_dims=1)
        return -(tf.gather(self.class_log_probs(hidden), classes, batch_dims=1) + within)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
