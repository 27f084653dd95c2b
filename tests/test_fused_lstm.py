"""The fused LSTM pass (zoo.layers.fused_lstm) equals keras.layers.LSTM: outputs, final states and gradients,
from zero and from carried states, and inside RecurrentStack with dropout off and on (same seed)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers.fused_lstm import lstm_sequence
from zoo.layers.recurrent import RecurrentStack


def keras_lstm(units, input_dim, seed):
    keras.utils.set_random_seed(seed)
    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True)
    layer.build((None, None, input_dim))
    bias = layer.cell.bias.numpy()  # unit_forget_bias leaves the forget gate at 1: perturb every gate
    layer.cell.bias.assign(bias + np.random.RandomState(seed).normal(scale=0.3, size=bias.shape))
    return layer


@pytest.mark.parametrize("batch, steps, inputs, units, carried", [(3, 7, 5, 4, False), (2, 1, 3, 6, True),
                                                                    (4, 12, 8, 8, True)])
def test_outputs_states_and_gradients_equal_keras(batch, steps, inputs, units, carried):
    layer = keras_lstm(units, inputs, seed=steps)
    rng = np.random.RandomState(batch)
    x = tf.constant(rng.normal(size=(batch, steps, inputs)), tf.float32)
    h0, c0 = (tf.constant(rng.normal(size=(batch, units)) if carried else np.zeros((batch, units)), tf.float32)
              for _ in range(2))
    weights = [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]
    probe = tf.constant(rng.normal(size=(batch, steps, units)), tf.float32)  # a loss that weighs every output

    def loss_of(outputs, h, c):
        return tf.reduce_sum(outputs * probe) + tf.reduce_sum(h * h) + tf.reduce_sum(tf.sin(c))

    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, h0, c0])
        reference = layer(x, initial_state=[h0, c0])
        fused = lstm_sequence(x, h0, c0, *weights)
        losses = loss_of(*reference), loss_of(*fused)
    for a, b in zip(fused, reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    sources = [x, h0, c0] + [w.value for w in weights]
    expected = tape.gradient(losses[0], sources)
    got = tape.gradient(losses[1], sources)
    for name, a, b in zip(["x", "h0", "c0", "kernel", "recurrent_kernel", "bias"], got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_recurrent_stack_fused_equals_reference_with_dropout():
    keras.utils.set_random_seed(0)
    fused = RecurrentStack(6, num_layers=2, dropout=0.3)
    reference = RecurrentStack(6, num_layers=2, dropout=0.3, fused=False)
    fused.build((None, None, 5))
    reference.build((None, None, 5))
    reference.set_weights(fused.get_weights())
    x = tf.constant(np.random.RandomState(1).normal(size=(3, 9, 5)), tf.float32)
    seed = tf.constant([4, 2])
    with tf.GradientTape(persistent=True) as tape:
        out_f, state_f = fused(x, training=True, seed=seed)
        out_r, state_r = reference(x, training=True, seed=seed)
        loss_f, loss_r = tf.reduce_sum(out_f ** 2), tf.reduce_sum(out_r ** 2)
    np.testing.assert_allclose(out_f, out_r, rtol=1e-5, atol=1e-6)
    for a, b in zip(state_f, state_r):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(tape.gradient(loss_f, fused.trainable_weights), tape.gradient(loss_r, reference.trainable_weights)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    mask = tf.constant(np.arange(9)[None, :] < np.array([[9], [4], [1]]))
    masked, _ = fused(x, mask=mask)  # masked sequences take Keras' loop: states held past each length
    np.testing.assert_allclose(masked, reference(x, mask=mask)[0], rtol=1e-5, atol=1e-6)
