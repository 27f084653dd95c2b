"""Distribution heads: Keras layers that map features to distribution *parameters*.

Keras 3 layers must return tensors, so a head returns the parameters (``loc``/``scale``,
``logits``) and the model builds the ``tfd`` distribution from them in a plain method
(``posterior(x)``, ``likelihood(z)``). Every head states ``params_size(event_size)``: the
width of the dense projection it owns, as in TFP's former ``tfp.layers`` heads.
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class DiagonalGaussianHead(keras.layers.Layer):
    """features (..., H) -> (loc (..., D), scale (..., D)) of a diagonal Gaussian.

    The scale is ``softplus(raw) + min_scale``, which keeps it positive and its gradient
    bounded (Kingma & Welling 2014 use ``exp(log_var / 2)``; softplus is the steadier choice
    for long training).
    """

    def __init__(self, event_size, min_scale=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.event_size = int(event_size)
        self.min_scale = float(min_scale)
        self.projection = keras.layers.Dense(self.params_size(self.event_size), name="projection")

    @staticmethod
    def params_size(event_size):
        return 2 * int(event_size)

    def build(self, input_shape):
        self.projection.build(input_shape)

    def call(self, features):
        params = self.projection(features)
        loc, raw_scale = ops.split(params, 2, axis=-1)
        return loc, ops.softplus(raw_scale) + self.min_scale

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[:-1]) + (self.event_size,)
        return shape, shape

    def get_config(self):
        return {**super().get_config(), "event_size": self.event_size, "min_scale": self.min_scale}


@keras.saving.register_keras_serializable(package="zoo")
class LogitsHead(keras.layers.Layer):
    """features (..., H) -> logits (..., D).

    The parameters of a Bernoulli over D binary units (binarised pixels, RBM visibles) or of
    a categorical over D classes (a vocabulary softmax): the same projection, read by
    ``tfd.Bernoulli(logits=...)`` or ``tfd.Categorical(logits=...)`` in the model.
    """

    def __init__(self, event_size, **kwargs):
        super().__init__(**kwargs)
        self.event_size = int(event_size)
        self.projection = keras.layers.Dense(self.params_size(self.event_size), name="projection")

    @staticmethod
    def params_size(event_size):
        return int(event_size)

    def build(self, input_shape):
        self.projection.build(input_shape)

    def call(self, features):
        return self.projection(features)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.event_size,)

    def get_config(self):
        return {**super().get_config(), "event_size": self.event_size}
