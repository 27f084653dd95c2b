"""Encoder and decoder trunks shared by the image models (VAE, IWAE, later RBM baselines).

Each builder returns a ``keras.Sequential`` of stock layers: the trunk carries no
distribution logic; heads (``zoo.layers.heads``) turn its features into parameters.
"""
import keras


@keras.saving.register_keras_serializable(package="zoo")
class GatedDense(keras.layers.Layer):
    """h = act(W x + b) * sigmoid(V x + c): a dense layer with a learned multiplicative gate.

    The gated linear unit of Dauphin et al. (2017), used as the MLP block of the VAEs of Tomczak &
    Welling (2018), which reach 88.56 nats on statically binarised MNIST with a standard prior.
    x (..., D_in) -> (..., units).
    """

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activation
        self.value = keras.layers.Dense(self.units, activation=activation, name="value")
        self.gate = keras.layers.Dense(self.units, activation="sigmoid", name="gate")

    def build(self, input_shape):
        self.value.build(input_shape)
        self.gate.build(input_shape)

    def call(self, x):
        return self.value(x) * self.gate(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation}


def mlp(hidden_units, activation, name, gated=False):
    """x (B, D_in) -> features (B, hidden_units[-1]): Dense (or ``GatedDense``) layers with ``activation``."""
    block = GatedDense if gated else keras.layers.Dense
    return keras.Sequential(
        [block(u, activation=activation, name=f"{'gated' if gated else 'dense'}_{i}") for i, u in enumerate(hidden_units)],
        name=name,
    )


def conv_encoder(image_shape, filters, hidden, activation, name):
    """x (B, H*W*C) flat -> features (B, hidden).

    Strided 3x3 convolutions halve the resolution per entry of ``filters`` (28 -> 14 -> 7 for
    MNIST), then a dense layer; the flat input keeps one data format for MLP and conv models.
    """
    layers = [keras.layers.Reshape(tuple(image_shape), name="to_image")]
    for i, f in enumerate(filters):
        layers.append(keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=activation, name=f"conv_{i}"))
    layers += [keras.layers.Flatten(name="flatten"), keras.layers.Dense(hidden, activation=activation, name="dense")]
    return keras.Sequential(layers, name=name)


def conv_decoder(image_shape, filters, activation, name):
    """z (B, D_z) -> logits (B, H*W*C) flat, mirroring ``conv_encoder``.

    A dense layer to the smallest feature map, transposed convolutions doubling the
    resolution per entry of ``filters`` (reversed), and a final 3x3 convolution to C channels
    of logits, flattened to match the data.
    """
    height, width, channels = image_shape
    scale = 2 ** len(filters)
    if height % scale or width % scale:
        raise ValueError(f"image_shape {tuple(image_shape)} must be divisible by 2**len(filters) = {scale}")
    h0, w0 = height // scale, width // scale
    layers = [
        keras.layers.Dense(h0 * w0 * filters[-1], activation=activation, name="dense"),
        keras.layers.Reshape((h0, w0, filters[-1]), name="to_map"),
    ]
    for i, f in enumerate(reversed(filters)):
        layers.append(
            keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=activation, name=f"deconv_{i}")
        )
    layers += [
        keras.layers.Conv2D(channels, 3, padding="same", name="logits"),
        keras.layers.Flatten(name="flatten"),
    ]
    return keras.Sequential(layers, name=name)
