"""Input checks shared by loaders, model methods and exported signatures."""
import numpy as np
import tensorflow as tf


def check_binary(x, what):
    """Raises ValueError naming ``what`` if array ``x`` holds anything but 0 and 1 (NaN included)."""
    x = np.asarray(x)
    bad = ~((x == 0) | (x == 1))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{what}: expected binary values in {{0, 1}} for a Bernoulli likelihood, found "
                         f"{int(bad.sum())} other value(s), first {x[index]!r} at index {index}")
    return x


def check_feature_size(x, size, what):
    """Raises ValueError unless ``x`` has shape (N, size)."""
    shape = np.shape(x)
    if len(shape) != 2 or shape[1] != size:
        raise ValueError(f"{what}: expected shape (N, {size}), got {tuple(shape)}")
    return x


def assert_binary(x, name):
    """Graph-side twin of ``check_binary`` for serving signatures: a core-op ``Assert`` that fails the
    request with InvalidArgument naming the input."""
    ok = tf.reduce_all(tf.logical_or(tf.equal(x, 0.0), tf.equal(x, 1.0)))
    with tf.control_dependencies([tf.debugging.Assert(ok, [f"input '{name}' must hold only 0 and 1"])]):
        return tf.identity(x)
