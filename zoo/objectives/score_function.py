"""The score-function (REINFORCE) gradient estimator with NVIL's variance reductions (Mnih & Gregor, "Neural
variational inference and learning in belief networks", ICML 2014), for models with discrete latents.

For q(h | x) with h discrete, grad_phi E_q[l(x, h)] = E_q[l(x, h) grad_phi log q(h | x)], with the learning
signal l = log p(x, h) - log q(h | x). NVIL centres it with an input-dependent baseline b(x) (an MLP trained to
minimise E[(l - b(x) - c)^2]) and a running mean c, and divides by a running standard deviation (at least 1):

    A = (l - b(x) - c) / max(1, sqrt(v))        encoder surrogate: -mean(stop_gradient(A) * log q(h | x))

``NVILBaseline`` holds b, c and v; ``surrogate`` returns the encoder's and the baseline's losses, whose gradients
are the estimator's. With a per-example ``scale`` s (a document's length in words), b and c are per unit of it:
A = s (l / s - b(x) - c) / max(1, sqrt(v)). A document's signal is about its length times its nats per word, so
a baseline that must learn the length itself (hundreds to thousands of nats) lags far behind; per word, c alone
removes most of the spread at once. Used by ``zoo.models.sbn`` (SBN and fDARN document models).
"""
import keras
import tensorflow as tf

from zoo.layers.networks import mlp


class NVILBaseline(keras.layers.Layer):
    """b(x) = MLP(features) -> scalar, and the running statistics c, v (exponential averages, ``decay``)."""

    def __init__(self, hidden_units=(100,), decay=0.9, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units, self.decay = tuple(int(u) for u in hidden_units), float(decay)
        self.net = mlp(self.hidden_units, "tanh", name="baseline_net") if self.hidden_units else None
        self.out = keras.layers.Dense(1, name="baseline_out")

    def build(self, input_shape):
        width = input_shape[-1]
        if self.net is not None:
            self.net.build(input_shape)
            width = self.hidden_units[-1]
        self.out.build((None, width))
        self.signal_mean = self.add_weight(shape=(), initializer="zeros", trainable=False, name="signal_mean")
        self.signal_var = self.add_weight(shape=(), initializer="ones", trainable=False, name="signal_var")

    def call(self, features):
        h = self.net(features) if self.net is not None else features
        return tf.squeeze(self.out(h), axis=-1)

    def surrogate(self, signal, log_q, features, training=True, scale=None):
        """signal l (B,), log q(h | x) (B,), baseline features (B, F), optional scale s (B,) > 0 -> (encoder loss,
        baseline loss), scalars; with ``training`` the running statistics move. Without ``scale``, s = 1."""
        signal = tf.stop_gradient(signal)
        scale = tf.ones_like(signal) if scale is None else tf.stop_gradient(tf.cast(scale, signal.dtype))
        residual = signal / scale - self(features)  # per unit: l / s - b(x)
        if training:
            d = self.decay
            self.signal_mean.assign(d * self.signal_mean + (1 - d) * tf.reduce_mean(tf.stop_gradient(residual)))
            centred_now = scale * (tf.stop_gradient(residual) - self.signal_mean)
            self.signal_var.assign(d * self.signal_var + (1 - d) * tf.reduce_mean(tf.square(centred_now)))
        centred = scale * (residual - self.signal_mean)  # l - s (b(x) + c)
        advantage = tf.stop_gradient(centred / tf.maximum(1.0, tf.sqrt(self.signal_var)))
        return -tf.reduce_mean(advantage * log_q), tf.reduce_mean(tf.square(centred))

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units, "decay": self.decay}
