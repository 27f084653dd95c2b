"""Objectives against closed forms."""
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from zoo.objectives import (ConstantSchedule, CyclicalSchedule, LinearSchedule, SigmoidSchedule, elbo, iwae_bound,
                            kl_term, log_importance_weights, log_likelihood, schedule_from_config)

tfd = tfp.distributions


class LinearGaussian:
    """z ~ N(0, 1), x | z ~ N(a z + b, s^2): p(x) = N(b, a^2 + s^2) in closed form.

    ``proposal="posterior"`` uses the exact posterior as q, so every importance weight equals p(x);
    ``proposal="prior"`` uses q = p(z), a poor but valid proposal.
    """

    a, b, s = 2.0, 0.5, 0.7

    def __init__(self, proposal):
        self.proposal = proposal

    def prior(self):
        return tfd.Independent(tfd.Normal(tf.zeros([1]), tf.ones([1])), 1)

    def posterior(self, x):
        if self.proposal == "prior":
            return tfd.Independent(tfd.Normal(tf.zeros_like(x), tf.ones_like(x)), 1)
        var = self.s ** 2 / (self.a ** 2 + self.s ** 2)
        return tfd.Independent(tfd.Normal(self.a * (x - self.b) / (self.a ** 2 + self.s ** 2),
                                          math.sqrt(var) * tf.ones_like(x)), 1)

    def log_importance_weights(self, x, num_samples, seed):
        q = self.posterior(x)
        z = q.sample(num_samples, seed=seed)
        log_px_z = tfd.Independent(tfd.Normal(self.a * z + self.b, self.s), 1).log_prob(x)
        return log_importance_weights(log_px_z, self.prior(), q, z)

    def exact(self, x):
        return tfd.Normal(self.b, math.sqrt(self.a ** 2 + self.s ** 2)).log_prob(x[:, 0]).numpy()


X = np.array([[-1.0], [0.3], [2.5], [4.0]], np.float32)


def test_estimator_with_exact_posterior_is_exact_for_any_chunking():
    model = LinearGaussian("posterior")
    for k, chunk in [(1, 1), (7, 3), (5000, 500)]:
        estimate = log_likelihood(model, X, num_samples=k, chunk_size=chunk, batch_size=3)
        np.testing.assert_allclose(estimate, model.exact(X), atol=1e-4)


def test_estimator_with_prior_proposal_converges_to_marginal():
    model = LinearGaussian("prior")
    estimate = log_likelihood(model, X, num_samples=5000, chunk_size=1000, seed=3)
    np.testing.assert_allclose(estimate, model.exact(X), atol=0.05)
    # A poor proposal with few samples is a lower bound on average, visibly below the truth.
    few = np.mean([log_likelihood(model, X, num_samples=2, seed=s) for s in range(30)], axis=0)
    assert np.all(few < model.exact(X))


def test_estimator_is_deterministic_for_a_seed_and_rejects_bad_arguments():
    model = LinearGaussian("prior")
    a = log_likelihood(model, X, num_samples=10, seed=4)
    np.testing.assert_array_equal(a, log_likelihood(model, X, num_samples=10, seed=4))
    with pytest.raises(ValueError, match="num_samples"):
        log_likelihood(model, X, num_samples=0)
    with pytest.raises(ValueError, match="empty"):
        log_likelihood(model, X[:0], num_samples=3)


def test_iwae_bound_with_one_sample_is_the_elbo_sample():
    q = tfd.Independent(tfd.Normal([[0.3, -0.2]], [[0.8, 1.1]]), 1)
    p = tfd.Independent(tfd.Normal([0.0, 0.0], [1.0, 1.0]), 1)
    z = q.sample(1, seed=[1, 2])  # (1, 1, 2)
    log_px_z = tf.constant([[-3.0]])
    bound = iwae_bound(log_importance_weights(log_px_z, p, q, z))
    monte_carlo_elbo = elbo(log_px_z[0], kl_term(q, p, z[0], analytic=False))
    np.testing.assert_allclose(bound.numpy(), monte_carlo_elbo.numpy(), rtol=1e-6)


def test_iwae_bound_is_log_mean_exp_and_increases_with_k():
    lw = tf.constant([[0.0], [math.log(3.0)]])
    np.testing.assert_allclose(iwae_bound(lw).numpy(), [math.log(2.0)], rtol=1e-6)
    model = LinearGaussian("prior")
    x = tf.constant(X)
    means = [np.mean([iwae_bound(model.log_importance_weights(x, k, tf.constant([s, k]))).numpy()
                      for s in range(40)]) for k in (1, 10, 100)]
    assert means[0] < means[1] < means[2] < model.exact(X).mean() + 1e-3


def test_analytic_kl_matches_monte_carlo():
    q = tfd.Independent(tfd.Normal([0.5, -1.0], [0.5, 2.0]), 1)
    p = tfd.Independent(tfd.Normal([0.0, 0.0], [1.0, 1.0]), 1)
    z = q.sample(200000, seed=[3, 4])
    monte_carlo = tf.reduce_mean(kl_term(q, p, z, analytic=False)).numpy()
    closed = 0.5 * (0.25 + 0.25 - 1 - math.log(0.25)) + 0.5 * (4.0 + 1.0 - 1 - math.log(4.0))
    np.testing.assert_allclose(kl_term(q, p).numpy(), closed, rtol=1e-5)
    np.testing.assert_allclose(monte_carlo, closed, rtol=0.02)
    with pytest.raises(ValueError, match="sample z"):
        kl_term(q, p, analytic=False)


def test_schedules():
    linear = LinearSchedule(100)
    assert [linear(s) for s in (0, 50, 100, 1000)] == [0.0, 0.5, 1.0, 1.0]
    assert SigmoidSchedule(midpoint=500)(500) == pytest.approx(0.5)
    assert SigmoidSchedule(midpoint=500, rate=0.01)(0) < 0.01
    cyc = CyclicalSchedule(total_steps=400, cycles=4, ratio=0.5)
    assert [cyc(s) for s in (0, 25, 50, 99, 100, 125)] == [0.0, 0.5, 1.0, 1.0, 0.0, 0.5]
    assert ConstantSchedule(0.3)(10) == 0.3
    assert isinstance(schedule_from_config({"kind": "linear", "warmup_steps": 5}), LinearSchedule)
    assert schedule_from_config(LinearSchedule(7).get_config())(7) == 1.0
    with pytest.raises(ValueError, match="unknown KL schedule"):
        schedule_from_config({"kind": "nope"})
    with pytest.raises(ValueError):
        LinearSchedule(0)


# === Issue 18: tests that kill the surviving mutants of bench/mutants.py, each against numpy or a closed form ===
class NoiseWeights:
    """log w ~ N(0, 1) i.i.d., drawn from the seed it is given: log E[w] = 1/2 exactly (a log-normal mean)."""

    def log_importance_weights(self, x, num_samples, seed):
        return tf.random.stateless_normal([num_samples, tf.shape(x)[0]], seed)


def test_streamed_chunks_draw_fresh_noise_and_converge_to_the_closed_form():
    """K = 2000 in 200 chunks of 10: with fresh noise per chunk the estimate is within ~0.03 of 1/2 for every
    example; chunks that reuse one seed average only 10 distinct weights (error ~0.4)."""
    x = np.zeros((40, 1), np.float32)
    estimate = log_likelihood(NoiseWeights(), x, num_samples=2000, chunk_size=10, batch_size=20, seed=1)
    assert np.mean(np.abs(estimate - 0.5)) < 0.08
    whole = log_likelihood(NoiseWeights(), x, num_samples=2000, chunk_size=2000, batch_size=20, seed=1)
    assert np.mean(np.abs(whole - 0.5)) < 0.08
    assert len(np.unique(np.round(estimate, 6))) == len(x)  # the two batches draw different noise too


def test_elbo_and_weights_apply_beta():
    np.testing.assert_allclose(elbo(tf.constant([-3.0]), tf.constant([2.0]), beta=0.25).numpy(), [-3.5])
    q = tfd.Independent(tfd.Normal([[0.3]], [[0.8]]), 1)
    p = tfd.Independent(tfd.Normal([0.0], [1.0]), 1)
    z = tf.constant([[[0.5]]])
    log_ratio = float((p.log_prob(z) - q.log_prob(z)).numpy().reshape(()))
    np.testing.assert_allclose(log_importance_weights(tf.constant([[-3.0]]), p, q, z, beta=0.5).numpy(),
                               [[-3.0 + 0.5 * log_ratio]], rtol=1e-6)


def test_schedules_honour_start_and_ratio():
    assert LinearSchedule(10, start=0.2, end=1.0)(0) == pytest.approx(0.2)
    assert LinearSchedule(10, start=0.2, end=1.0)(5) == pytest.approx(0.6)
    cyc = CyclicalSchedule(total_steps=100, cycles=1, ratio=0.25)
    assert [cyc(s) for s in (0, 10, 25, 60)] == pytest.approx([0.0, 0.4, 1.0, 1.0])


def test_free_bits_modes_against_numpy():
    from zoo.objectives import free_bits_kl
    kl = np.array([[0.1, 2.0, 0.0], [0.3, 1.0, 0.05]], np.float32)
    lam = 0.5
    mean = kl.mean(0)
    np.testing.assert_allclose(free_bits_kl(kl, lam, "dimension").numpy(), np.maximum(mean, lam).sum(), rtol=1e-6)
    np.testing.assert_allclose(free_bits_kl(kl, lam, "total").numpy(), max(mean.sum(), lam), rtol=1e-6)
    np.testing.assert_allclose(free_bits_kl(kl, 2.0, "total").numpy(), 2.0, rtol=1e-6)
    np.testing.assert_allclose(free_bits_kl(kl, lam, "example_dimension").numpy(),
                               np.maximum(kl, lam).sum(1).mean(), rtol=1e-6)


def test_mutual_information_against_numpy():
    """The minibatch estimator, recomputed in numpy from the same sample: E log q(z|x) - E log mean_i q(z|x_i)."""
    from zoo.objectives import mutual_information
    loc = np.array([[0.0, 1.0], [2.0, -1.0], [-1.0, 0.5]], np.float32)
    scale = np.array([[0.5, 1.0], [0.7, 0.3], [1.2, 0.8]], np.float32)
    q = tfd.Independent(tfd.Normal(loc, scale), 1)
    seed = tf.constant([3, 4])
    value = float(mutual_information(q, seed))
    z = q.sample(seed=seed).numpy().astype(np.float64)
    log_q = (-0.5 * ((z[:, None, :] - loc[None]) / scale[None]) ** 2 - np.log(scale[None])
             - 0.5 * np.log(2 * np.pi)).sum(-1)                                # (B, B): log q(z_b | x_i)
    entropy = (0.5 * np.log(2 * np.pi * np.e) + np.log(scale)).sum(1)
    aggregate = np.log(np.exp(log_q).mean(1))
    np.testing.assert_allclose(value, -entropy.mean() - aggregate.mean(), rtol=1e-4, atol=1e-5)


def test_set_mutual_information_against_numpy_and_known_cases():
    """The whole-set estimator: numpy on the same draws (blocks smaller than the set); posteriors that ignore x give
    exactly 0; K = 200 well-separated posteriors, each x equally likely, give log K = 5.3 nats, where batches of 10
    of the minibatch estimator average at most log 10 = 2.3."""
    from zoo.objectives import mutual_information, set_mutual_information
    rng = np.random.RandomState(0)
    loc = rng.randn(37, 3).astype(np.float32)
    scale = rng.uniform(0.3, 1.5, (37, 3)).astype(np.float32)
    seed = tf.constant([5, 6])
    value = float(set_mutual_information(loc, scale, seed, block=8))
    z = (loc + scale * tf.random.stateless_normal(loc.shape, seed).numpy()).astype(np.float64)
    log_q = (-0.5 * ((z[:, None, :] - loc[None]) / scale[None]) ** 2 - np.log(scale[None])
             - 0.5 * np.log(2 * np.pi)).sum(-1)                                # (N, N): log q(z_n | x_m)
    expected = np.mean(np.diag(log_q) - np.log(np.exp(log_q).mean(1)))
    np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-5)

    same = np.zeros((300, 4), np.float32), np.ones((300, 4), np.float32)
    assert abs(float(set_mutual_information(*same, seed))) < 1e-5

    k = 200
    apart = (np.arange(k, dtype=np.float32)[:, None] * 50.0 * np.ones((1, 2), np.float32),
             np.full((k, 2), 0.1, np.float32))
    assert float(set_mutual_information(*apart, seed, block=64)) == pytest.approx(np.log(k), abs=1e-3)
    batches = [float(mutual_information(tfd.Independent(tfd.Normal(apart[0][i:i + 10], apart[1][i:i + 10]), 1),
                                        tf.constant([5, i]))) for i in range(0, k, 10)]
    assert np.mean(batches) < np.log(10) + 0.3  # the closed-form entropy's noise: sd 0.32 a batch, 0.07 the mean


def test_word_dropout_keeps_the_start_token_and_drops_at_its_rate():
    from zoo.objectives import word_dropout
    ids = tf.fill([200, 50], 7)
    out = word_dropout(ids, 0.5, tf.constant([1, 2]), unknown_id=0).numpy()
    assert np.all(out[:, 0] == 7)
    assert abs(np.mean(out[:, 1:] == 0) - 0.5) < 0.03 and set(np.unique(out)) == {0, 7}
    assert np.all(word_dropout(ids, 1.0, tf.constant([1, 2]))[:, 1:].numpy() == 0)
