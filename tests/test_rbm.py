"""Restricted Boltzmann machines (issue 12): the CD update, Gibbs sampling, AIS against exact log Z, the
Replicated Softmax's length scaling, export round-trips and input errors."""
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.export import export_saved_model
from zoo.models import RBM, ReplicatedSoftmax
from zoo.objectives.partition import (inverse_temperatures, log_mean_with_interval)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def random_rbm(v, h, scale, seed=0, **kwargs):
    model = RBM(input_size=v, hidden_units=h, seed=seed, **kwargs)
    rng = np.random.RandomState(seed)
    model.kernel.assign(rng.normal(0, scale, (v, h)).astype(np.float32))
    model.visible_bias.assign(rng.normal(0, scale, v).astype(np.float32))
    model.hidden_bias.assign(rng.normal(0, scale, h).astype(np.float32))
    return model


def random_rsm(v, h, scale, seed=0, **kwargs):
    model = ReplicatedSoftmax(vocab_size=v, hidden_units=h, seed=seed, **kwargs)
    rng = np.random.RandomState(seed)
    model.kernel.assign(rng.normal(0, scale, (v, h)).astype(np.float32))
    model.visible_bias.assign(rng.normal(0, scale, v).astype(np.float32))
    model.hidden_bias.assign(rng.normal(0, 0.3 * scale, h).astype(np.float32))
    model.base_visible.assign(np.full(v, -np.log(v), np.float32))
    return model


def test_cd1_update_equals_a_hand_computed_update_on_a_3x2_rbm():
    model = random_rbm(3, 2, 1.0, seed=4, cd_steps=1, weight_decay=0.01, initial_momentum=0.5, momentum=0.9,
                       momentum_warmup_steps=1)
    lr = 0.1
    model.compile(optimizer=keras.optimizers.SGD(lr))
    x = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]], np.float32)
    w, b, c = (p.numpy().astype(np.float64) for p in (model.kernel, model.visible_bias, model.hidden_bias))
    v_neg = model.gibbs(x, 1, tf.constant([4, 0])).numpy()   # the train step's chain: seed (model seed, step 0)
    model.train_on_batch(x)

    p0, pk = sigmoid(x @ w + c), sigmoid(v_neg @ w + c)
    n = len(x)
    dw = x.T @ p0 / n - v_neg.T @ pk / n - 0.01 * w
    db, dc = x.mean(0) - v_neg.mean(0), p0.mean(0) - pk.mean(0)
    # first update: momentum 0.5 times a zero velocity, so the step is lr * gradient
    np.testing.assert_allclose(model.kernel.numpy(), w + lr * dw, atol=1e-6)
    np.testing.assert_allclose(model.visible_bias.numpy(), b + lr * db, atol=1e-6)
    np.testing.assert_allclose(model.hidden_bias.numpy(), c + lr * dc, atol=1e-6)
    np.testing.assert_allclose(model.velocities[0].numpy(), lr * dw, atol=1e-6)
    assert int(model.optimizer.iterations.numpy()) == 1


def test_pcd_updates_with_momentum_equal_hand_computed_updates():
    """Two PCD-2 updates on a 4x3 RBM with 5 chains and batches of 3 (so the data and model terms have
    different counts) and the momentum rising to 0.9 at the second: delta_2 = 0.9 delta_1 + lr dW_2."""
    model = random_rbm(4, 3, 1.0, seed=6, cd_steps=2, persistent=True, num_chains=5, weight_decay=0.02,
                       initial_momentum=0.5, momentum=0.9, momentum_warmup_steps=1)
    rng = np.random.RandomState(3)
    model.prepare_for_data({"train": (rng.uniform(size=(30, 4)) < 0.5).astype(np.float32)})
    lr = 0.05
    model.compile(optimizer=keras.optimizers.SGD(lr))
    batches = [(rng.uniform(size=(3, 4)) < 0.5).astype(np.float32) for _ in range(2)]
    w, b, c = (p.numpy().astype(np.float64) for p in (model.kernel, model.visible_bias, model.hidden_bias))
    velocity = [np.zeros_like(w), np.zeros_like(b), np.zeros_like(c)]
    for step, (x, momentum) in enumerate(zip(batches, (0.5, 0.9))):
        chains = model.chains.numpy()
        v_neg = model.gibbs(chains, 2, tf.constant([6, step])).numpy()  # the step's seed: (model seed, step)
        model.train_on_batch(x)
        p0, pk = sigmoid(x @ w + c), sigmoid(v_neg @ w + c)
        grads = [x.T @ p0 / 3 - v_neg.T @ pk / 5 - 0.02 * w, x.mean(0) - v_neg.mean(0), p0.mean(0) - pk.mean(0)]
        velocity = [momentum * d + lr * g for d, g in zip(velocity, grads)]
        w, b, c = w + velocity[0], b + velocity[1], c + velocity[2]
        np.testing.assert_array_equal(model.chains.numpy(), v_neg)
        for param, expected in zip((model.kernel, model.visible_bias, model.hidden_bias), (w, b, c)):
            np.testing.assert_allclose(param.numpy(), expected, atol=1e-6)
        np.testing.assert_allclose(model.velocities[0].numpy(), velocity[0], atol=1e-6)


def test_the_training_reconstruction_error_uses_the_first_rows_of_the_batch():
    """train_step's reconstruction error is estimated on TRAINING_METRIC_ROWS rows; validation uses every row."""
    from zoo.models.rbm import TRAINING_METRIC_ROWS
    model = random_rbm(6, 3, 1.0, seed=2)
    v = (np.random.RandomState(1).uniform(size=(TRAINING_METRIC_ROWS + 9, 6)) < 0.5).astype(np.float32)
    seed = tf.constant([3, 4])
    model.track(tf.constant(v), seed, reconstruction_rows=TRAINING_METRIC_ROWS)
    first = model.reconstruction_error(v[:TRAINING_METRIC_ROWS], tf.random.experimental.stateless_fold_in(seed, 0))
    np.testing.assert_allclose(model.reconstruction_tracker.result().numpy(), np.mean(first.numpy()), rtol=1e-6)
    model.reconstruction_tracker.reset_state()
    model.track(tf.constant(v), seed)
    every = model.reconstruction_error(v, tf.random.experimental.stateless_fold_in(seed, 0))
    np.testing.assert_allclose(model.reconstruction_tracker.result().numpy(), np.mean(every.numpy()), rtol=1e-6)


def test_pseudo_likelihood_flips_one_bit_in_o_of_h():
    model = random_rbm(6, 3, 1.0, seed=2)
    v = (np.random.RandomState(1).uniform(size=(5, 6)) < 0.5).astype(np.float32)
    seed = tf.constant([3, 4])
    flip = tf.random.stateless_uniform([5], seed, 0, 6, dtype=tf.int32).numpy()
    flipped = v.copy()
    flipped[np.arange(5), flip] = 1 - flipped[np.arange(5), flip]
    slow = 6 * np.log(sigmoid(model.free_energy(flipped).numpy() - model.free_energy(v).numpy()))
    np.testing.assert_allclose(model.pseudo_likelihood(v, seed).numpy(), slow, rtol=1e-5, atol=1e-5)


def test_pcd_moves_its_persistent_chains():
    model = random_rbm(5, 3, 1.0, persistent=True, num_chains=7, cd_steps=2)
    model.prepare_for_data({"train": (np.random.RandomState(0).uniform(size=(20, 5)) < 0.5).astype(np.float32)})
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    before = model.chains.numpy().copy()
    model.train_on_batch(np.ones((4, 5), np.float32))
    assert model.chains.shape == (7, 5) and not np.array_equal(before, model.chains.numpy())


def test_gibbs_chain_of_a_tiny_rbm_converges_to_the_exact_distribution():
    model = random_rbm(4, 3, 1.5, seed=1)
    states = np.array(list(itertools.product([0, 1], repeat=4)), np.float32)
    log_p = -model.free_energy(states).numpy().astype(np.float64)
    exact = np.exp(log_p - np.logaddexp.reduce(log_p))
    samples, _ = model.sample(num_samples=20000, steps=30, seed=3)
    codes = samples.astype(int) @ (2 ** np.arange(3, -1, -1))
    empirical = np.bincount(codes, minlength=16) / len(codes)
    assert 0.5 * np.abs(empirical - exact).sum() < 0.02


def test_default_schedule_is_salakhutdinov_and_murrays():
    betas = inverse_temperatures()
    assert len(betas) == 14501 and betas[0] == 0.0 and betas[-1] == 1.0 and np.all(np.diff(betas) > 0)
    assert np.sum(betas <= 0.5) == 501 and np.sum((betas > 0.5) & (betas <= 0.9)) == 4000


def test_log_mean_interval_is_stable_for_huge_weights():
    log_w = np.array([1000.0, 1000.0 + np.log(3.0)])
    mean, lower, upper = log_mean_with_interval(log_w)
    assert mean == pytest.approx(1000.0 + np.log(2.0)) and lower == -np.inf and np.isfinite(upper)


def test_log_mean_interval_is_the_mean_plus_minus_three_standard_errors():
    """Issue 18: against the direct formula on moderate weights: log r and log(r -+ 3 s / sqrt(M)), s the sample
    standard deviation (ddof 1) of the weights."""
    log_w = np.random.RandomState(0).normal(2.0, 0.4, size=(3, 50))
    mean, lower, upper = log_mean_with_interval(log_w)
    w = np.exp(log_w)
    r, se = w.mean(1), w.std(1, ddof=1) / np.sqrt(50)
    np.testing.assert_allclose(mean, np.log(r), rtol=1e-12)
    np.testing.assert_allclose(lower, np.log(r - 3 * se), rtol=1e-12)
    np.testing.assert_allclose(upper, np.log(r + 3 * se), rtol=1e-12)


def test_exact_log_z_of_a_tiny_rbm_is_the_sum_over_every_joint_state():
    """exact_log_partition (the AIS tests' reference) against the sum of exp(b.v + c.h + v W h) over all 2^3 x 2^2
    joint states."""
    model = random_rbm(3, 2, 1.0, seed=4)
    w, b, c = (p.numpy().astype(np.float64) for p in (model.kernel, model.visible_bias, model.hidden_bias))
    total = sum(np.exp(b @ v + c @ h + v @ w @ h) for v in itertools.product([0.0, 1.0], repeat=3)
                for h in itertools.product([0.0, 1.0], repeat=2) for v, h in [(np.array(v), np.array(h))])
    assert model.exact_log_partition() == pytest.approx(np.log(total), rel=1e-6)


@pytest.mark.parametrize("scale", [0.5, 1.0])
def test_ais_is_within_its_interval_of_the_exact_log_z(scale):
    model = random_rbm(20, 10, scale, seed=2)
    exact = model.exact_log_partition()
    estimate = model.estimate_log_partition(runs=100, temperatures=1000, seed=1)
    assert estimate.lower <= exact <= estimate.upper
    assert abs(estimate.log_z - exact) < 0.1
    np.testing.assert_allclose(model.log_partition.numpy(), [estimate.log_z, estimate.lower, estimate.upper],
                               rtol=1e-6)


@pytest.mark.parametrize("temperatures", [1, 3])
def test_ais_is_unbiased_in_z_even_with_few_temperatures(temperatures):
    """Issue 18: E[w] = Z_B / Z_A for any schedule whose transitions leave each intermediate distribution invariant,
    so with K = 1 or 3 temperatures and 20,000 runs the mean weight is Z within 4 standard errors (a wrong
    transition, a weight taken after the move, or a base rate missing from p(v | h) shows at this K, where 1,000
    temperatures hide it). A non-zero base rate, so its annealing matters."""
    model = random_rbm(6, 3, 1.0, seed=5)
    model.base_visible.assign(np.random.RandomState(6).normal(0, 1.0, 6).astype(np.float32))
    exact = model.exact_log_partition()
    estimate = model.estimate_log_partition(runs=20000, temperatures=temperatures, seed=1)
    w = np.exp(np.asarray(estimate.log_weights, np.float64) - exact)
    se = w.std(ddof=1) / np.sqrt(len(w))
    assert abs(w.mean() - 1.0) < 4 * se, (w.mean(), se)
    assert se < 0.02


def test_ais_of_the_replicated_softmax_matches_the_exact_log_z_per_length():
    model = random_rsm(15, 6, 1.0, seed=3)
    calls = []
    estimates, _ = model.estimate_log_partitions([2, 9, 30, 9], runs=50, temperatures=500, seed=2, bucket=2,
                                                 progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 3), (3, 3)]  # distinct lengths done, after each bucket
    for n, (log_z, lower, upper) in estimates.items():
        exact = model.exact_log_partition(length=n)
        assert lower <= exact <= upper, (n, exact, lower, upper)


def test_exact_log_z_of_the_replicated_softmax_is_the_sum_over_token_sequences():
    model = random_rsm(3, 2, 1.0, seed=5)
    w, a, c = (p.numpy().astype(np.float64) for p in (model.kernel, model.visible_bias, model.hidden_bias))
    total = 0.0
    for tokens in itertools.product(range(3), repeat=2):   # every sequence of N = 2 tokens
        v = np.bincount(tokens, minlength=3).astype(np.float64)
        for h in itertools.product([0, 1], repeat=2):
            total += np.exp(a @ v + 2 * c @ np.array(h) + v @ w @ np.array(h))
    assert model.exact_log_partition(length=2) == pytest.approx(np.log(total), rel=1e-9)


def test_replicated_softmax_scales_the_hidden_biases_by_the_document_length():
    model = random_rsm(10, 4, 1.0)
    v = np.array([[0, 2, 1, 0, 0, 0, 3, 0, 0, 1]], np.float32)
    got = model.hidden_input(tf.constant(v)).numpy()
    np.testing.assert_allclose(got, v @ model.kernel.numpy() + 7 * model.hidden_bias.numpy(), rtol=1e-5)
    np.testing.assert_allclose(model.hidden_input(tf.constant(2 * v)).numpy(), 2 * got, rtol=1e-5)
    # Gibbs sweeps keep every document's length
    samples = model.sample(start=np.concatenate([v, 3 * v]), steps=3)
    np.testing.assert_array_equal(samples.sum(1), [7, 21])


def test_replicated_softmax_measures_perplexity_with_one_log_z_per_length():
    model = random_rsm(12, 3, 0.5)
    rng = np.random.RandomState(0)
    x = rng.poisson(0.6, size=(9, 12)).astype(np.float32)
    x[:, 0] += 1
    metrics = model.measure(x, ais_runs=20, ais_temperatures=200, seed=0)
    lengths = x.sum(1)
    exact = {int(n): model.exact_log_partition(length=int(n)) for n in np.unique(lengths)}
    log_p = -model.free_energy(x).numpy() - np.array([exact[int(n)] for n in lengths])
    assert metrics["distinct_lengths"] == len(exact)
    assert metrics["perplexity"] == pytest.approx(np.exp(np.mean(-log_p / lengths)), rel=2e-3)
    assert metrics["perplexity_lower"] <= metrics["perplexity"] <= metrics["perplexity_upper"]
    # the frozen table answers every length: estimates where measured, interpolation in between
    table = model.log_partition_table.numpy()
    for n, value in exact.items():
        assert table[n, 1] - 1e-4 <= value <= table[n, 2] + 1e-4, (n, value, table[n])
    assert table[0, 0] == pytest.approx(3 * np.log(2.0))
    assert np.all(np.isfinite(table[:, 0]))


def _round_trip(model, tmp_path):
    export_saved_model(model, tmp_path / "1")
    loaded = tf.saved_model.load(str(tmp_path / "1"))
    for name, endpoint in model.export_endpoints().items():
        expected = endpoint.call_with_example()
        got = loaded.signatures[name](**{k: tf.constant(v) for k, v in endpoint.example.items()})
        for key, value in expected.items():
            if value.dtype == object:  # words
                np.testing.assert_array_equal(got[key].numpy(), value, err_msg=f"{name}/{key}")
                continue
            np.testing.assert_allclose(got[key].numpy(), value, rtol=1e-5, atol=1e-5, err_msg=f"{name}/{key}")
    return loaded


def test_rbm_export_round_trip_and_in_graph_checks(tmp_path):
    model = random_rbm(6, 3, 1.0)
    model.estimate_log_partition(runs=20, temperatures=100)
    loaded = _round_trip(model, tmp_path)
    x = np.array([[1, 0, 1, 0, 0, 1]], np.float32)
    out = loaded.signatures["log_prob"](x=tf.constant(x))
    assert out["log_prob"].numpy()[0] == pytest.approx(model.log_prob(x).numpy()[0], abs=1e-5)
    assert out["log_prob_lower"].numpy()[0] <= out["log_prob"].numpy()[0] <= out["log_prob_upper"].numpy()[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="x.{0,3} must hold only 0 and 1"):
        loaded.signatures["free_energy"](x=tf.constant([[0.5, 0, 1, 0, 0, 1]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="steps.{0,3} must lie in"):
        loaded.signatures["sample"](num_samples=tf.constant(2), steps=tf.constant(-1), seed=tf.constant(0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples.{0,3} must lie in"):
        loaded.signatures["sample"](num_samples=tf.constant(0), steps=tf.constant(1), seed=tf.constant(0))


def test_rsm_export_round_trip_and_in_graph_checks(tmp_path):
    model = random_rsm(30, 3, 0.5, max_length=400)
    model.freeze_log_partition({5: (1.0, 0.9, 1.1), 100: (2.0, 1.9, 2.1)})
    loaded = _round_trip(model, tmp_path)
    empty = np.zeros((1, 30), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty document"):
        loaded.signatures["log_prob"](counts=tf.constant(empty))
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative integer"):
        loaded.signatures["free_energy"](counts=tf.constant(empty + 0.5))


def test_config_round_trip():
    for model in (RBM(input_size=5, hidden_units=2, cd_steps=3, persistent=True, num_chains=4,
                      ais_temperatures=[[1.0, 10]]),
                  ReplicatedSoftmax(vocab_size=7, hidden_units=2, max_length=50)):
        clone = type(model).from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_bad_inputs_give_clear_errors():
    rbm = RBM(input_size=4, hidden_units=2)
    with pytest.raises(ValueError, match="expected binary values"):
        rbm.measure(np.array([[0, 1, 0.5, 1]]))
    with pytest.raises(ValueError, match="train: expected binary values"):
        rbm.prepare_for_data({"train": np.array([[0, 2, 0, 1]])})
    with pytest.raises(ValueError, match=r"expected shape \(N, 4\)"):
        rbm.features(np.zeros((2, 5)))
    rsm = ReplicatedSoftmax(vocab_size=4, hidden_units=2)
    with pytest.raises(ValueError, match="non-negative integers"):
        rsm.measure(np.array([[1, -1, 0, 2]], np.float32))
    with pytest.raises(ValueError, match="non-negative integers"):
        rsm.features(np.array([[1, 0.5, 0, 2]], np.float32))
    with pytest.raises(ValueError, match="empty document"):
        rsm.measure(np.array([[1, 0, 0, 2], [0, 0, 0, 0]], np.float32))
    with pytest.raises(ValueError, match="CD-k only"):
        ReplicatedSoftmax(vocab_size=4, persistent=True)
    rsm.compile(optimizer=keras.optimizers.SGD(0.1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty document"):
        rsm.train_on_batch(np.zeros((2, 4), np.float32))
