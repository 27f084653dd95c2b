"""A fused LSTM layer pass for training and evaluation: the same numbers as ``keras.layers.LSTM`` (gate order
i, f, c, o; sigmoid gates, tanh cell), computed with fewer, larger matrix products.

Keras' generic recurrent loop multiplies by the input kernel and the recurrent kernel at every step, and its
automatic gradient adds four per-step products more (to the input, the state and both kernels). Here:

* forward: the input projection of all T steps is one (T B, E) x (E, 4H) product before the loop; the loop does
  one (B, H) x (H, 4H) product a step and keeps the gates;
* backward (``tf.custom_gradient``): the loop does one (B, 4H) x (4H, H) product a step (the state's gradient);
  the kernels' gradients are then two large products over all steps, and the input's one more.

Time-major inside. Core TF ops only (``while_loop``, ``MatMul``, ``Sigmoid``, ``Tanh``), so an exported graph
that uses it still loads in stock TF Serving. No mask: masked sequences take ``keras.layers.LSTM`` (see
``zoo.layers.recurrent.RecurrentStack``). Tests: ``tests/test_fused_lstm.py`` (outputs, states and gradients
equal Keras' within float tolerance).
"""
import tensorflow as tf


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias):
    """x (B, T, E), h0 and c0 (B, H), kernel (E, 4H), recurrent_kernel (H, 4H), bias (4H,) ->
    (outputs (B, T, H), final h (B, H), final c (B, H))."""
    x = tf.convert_to_tensor(x)
    time_major = tf.transpose(x, [1, 0, 2])
    projected = tf.einsum("tbe,eg->tbg", time_major, tf.convert_to_tensor(kernel)) + tf.convert_to_tensor(bias)
    hs, h, c = _recurrence(projected, tf.convert_to_tensor(h0), tf.convert_to_tensor(c0),
                           tf.convert_to_tensor(recurrent_kernel))
    return tf.transpose(hs, [1, 0, 2]), h, c


@tf.custom_gradient
def _recurrence(projected, h0, c0, recurrent_kernel):
    """projected (T, B, 4H) = x W + b, h0 and c0 (B, H), U (H, 4H) -> (hs (T, B, H), h_T, c_T)."""
    steps = tf.shape(projected)[0]
    units = tf.shape(h0)[1]

    def body(t, h, c, hs, cs, gates):
        g = projected[t] + tf.matmul(h, recurrent_kernel)
        i, f, cc, o = tf.split(g, 4, axis=1)
        i, f, cc, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(cc), tf.sigmoid(o)
        c = f * c + i * cc
        h = o * tf.tanh(c)
        return t + 1, h, c, hs.write(t, h), cs.write(t, c), gates.write(t, tf.concat([i, f, cc, o], axis=1))

    arrays = [tf.TensorArray(projected.dtype, size=steps, element_shape=shape)
              for shape in (h0.shape, c0.shape, projected.shape[1:])]
    _, h, c, hs, cs, gates = tf.while_loop(lambda t, *_: t < steps, body, [tf.constant(0), h0, c0, *arrays])
    hs, cs, gates = hs.stack(), cs.stack(), gates.stack()

    def grad(d_hs, d_h, d_c):
        h_prev = tf.concat([h0[None], hs[:-1]], axis=0)  # (T, B, H): the state each step read
        c_prev = tf.concat([c0[None], cs[:-1]], axis=0)
        d_h = tf.zeros_like(h0) if d_h is None else d_h
        d_c = tf.zeros_like(c0) if d_c is None else d_c
        d_hs = tf.zeros_like(hs) if d_hs is None else d_hs
        transposed = tf.transpose(recurrent_kernel)

        def back(t, d_h, d_c, d_gates):
            i, f, cc, o = tf.split(gates[t], 4, axis=1)
            tanh_c = tf.tanh(cs[t])
            d_out = d_hs[t] + d_h
            d_c = d_c + d_out * o * (1.0 - tanh_c * tanh_c)
            d_g = tf.concat([d_c * cc * i * (1.0 - i), d_c * c_prev[t] * f * (1.0 - f),
                             d_c * i * (1.0 - cc * cc), d_out * tanh_c * o * (1.0 - o)], axis=1)
            return t - 1, tf.matmul(d_g, transposed), d_c * f, d_gates.write(t, d_g)

        d_gates = tf.TensorArray(projected.dtype, size=steps, element_shape=projected.shape[1:])
        _, d_h0, d_c0, d_gates = tf.while_loop(lambda t, *_: t >= 0, back, [steps - 1, d_h, d_c, d_gates])
        d_projected = d_gates.stack()
        d_recurrent = tf.matmul(tf.reshape(h_prev, [-1, units]), tf.reshape(d_projected, [-1, 4 * units]),
                                transpose_a=True)
        return d_projected, d_h0, d_c0, d_recurrent

    return (hs, h, c), grad
