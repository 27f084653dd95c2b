"""NVIL's baseline per unit of a scale (a document's length): the advantage and the running statistics against
numpy (zoo.objectives.score_function.NVILBaseline.surrogate with ``scale``)."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.objectives.score_function import NVILBaseline

tfd = tfp.distributions


def test_the_per_word_advantage_is_the_length_times_the_centred_signal_per_word():
    baseline = NVILBaseline(hidden_units=(), decay=0.5)
    baseline.build((None, 2))
    baseline.out.kernel.assign([[0.5], [-0.25]])
    baseline.signal_mean.assign(-6.0)
    baseline.signal_var.assign(9.0)
    logits = tf.Variable([[0.3, -1.0], [2.0, 0.5], [0.0, 1.0]])
    h = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    signal, words = tf.constant([-700.0, -60.0, -3100.0]), tf.constant([100.0, 10.0, 400.0])
    features = tf.constant([[1.0, 2.0], [0.0, 1.0], [3.0, 0.0]])
    with tf.GradientTape() as tape:
        log_q = tfd.Independent(tfd.Bernoulli(logits=logits, dtype=tf.float32), 1).log_prob(h)
        encoder_loss, baseline_loss = baseline.surrogate(signal, log_q, features, training=False, scale=words)
    b = features.numpy() @ np.array([0.5, -0.25]) + float(baseline.out.bias[0])
    centred = words.numpy() * (signal.numpy() / words.numpy() - b + 6.0)  # s (l / s - b(x) - c)
    advantage = centred / 3.0  # / max(1, sqrt(v))
    expected = -(advantage[:, None] * (h.numpy() - tf.sigmoid(logits).numpy())) / 3
    np.testing.assert_allclose(tape.gradient(encoder_loss, logits), expected, rtol=1e-5)
    assert float(baseline_loss) == pytest.approx(np.mean(centred ** 2), rel=1e-5)
    # training moves c by the per-word residual and v by the full-scale centred one
    baseline.surrogate(signal, log_q, features, training=True, scale=words)
    residual = signal.numpy() / words.numpy() - b
    c = 0.5 * -6.0 + 0.5 * residual.mean()
    assert float(baseline.signal_mean) == pytest.approx(c, rel=1e-5)
    assert float(baseline.signal_var) == pytest.approx(0.5 * 9.0 + 0.5 * np.mean((words.numpy() * (residual - c)) ** 2),
                                                       rel=1e-5)


def test_a_unit_scale_is_the_per_document_baseline():
    baseline = NVILBaseline(hidden_units=(3,), decay=0.9)
    baseline.build((None, 4))
    features = tf.constant(np.random.RandomState(0).normal(size=(5, 4)), tf.float32)
    signal, log_q = tf.constant([-3.0, 1.0, 2.0, -8.0, 0.5]), tf.constant([-1.0, -2.0, -0.5, -0.1, -3.0])
    plain = baseline.surrogate(signal, log_q, features, training=False)
    ones = baseline.surrogate(signal, log_q, features, training=False, scale=tf.ones([5]))
    np.testing.assert_allclose([float(v) for v in plain], [float(v) for v in ones], rtol=1e-6)
