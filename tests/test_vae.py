"""The VAE / IWAE: build, shapes, training, save/load, export, bad input."""
import numpy as np
import pytest
import tensorflow as tf

import keras
from zoo.export import check_export, export_saved_model
from zoo.models import VAE
from zoo.objectives import KLAnnealing, LinearSchedule


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_shapes(architecture, binary_images):
    model = VAE(latent_dim=3, hidden_units=(16,), architecture=architecture, conv_filters=(4, 8), seed=0)
    loc, scale = model.encode(binary_images[:5])
    assert loc.shape == scale.shape == (5, 3) and np.all(scale.numpy() > 0)
    assert model.decode(np.zeros((2, 3), np.float32)).shape == (2, 784)
    assert model.reconstruct(binary_images[:4]).shape == (4, 784)
    samples = model.sample(6, seed=1).numpy()
    assert samples.shape == (6, 784) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, model.sample(6, seed=1).numpy())
    path = model.interpolate(binary_images[0], binary_images[1], steps=5).numpy()
    assert path.shape == (5, 784)
    np.testing.assert_allclose(path[0], model.reconstruct(binary_images[:1]).numpy()[0], atol=1e-6)
    assert model.log_importance_weights(tf.constant(binary_images[:3]), 7, tf.constant([1, 2])).shape == (7, 3)


@pytest.mark.parametrize("k", [1, 5])
def test_loss_falls_on_a_toy_batch(k, binary_images):
    keras.utils.set_random_seed(0)
    model = VAE(latent_dim=4, hidden_units=(32,), num_importance_samples=k, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    data = tf.data.Dataset.from_tensor_slices(binary_images).batch(32).repeat(15)
    history = model.fit(data, epochs=2, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] - 20
    for term in ("reconstruction", "kl", "elbo"):
        assert np.isfinite(history[term]).all()


def test_iwae_bound_above_elbo(tiny_vae, binary_images):
    model = VAE(latent_dim=2, hidden_units=(8,), num_importance_samples=50, seed=0)
    model(binary_images[:1])
    model.set_weights(tiny_vae.get_weights())
    x = tf.constant(binary_images)
    terms = model.objective_terms(x, model.posterior(x), tf.constant([3, 4]))
    assert terms["bound"].numpy().mean() > terms["elbo"].numpy().mean()


def test_kl_annealing_sets_the_weight(binary_images):
    model = VAE(latent_dim=2, hidden_units=(8,), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(tf.data.Dataset.from_tensor_slices(binary_images).batch(16), epochs=1, verbose=0,
              callbacks=[KLAnnealing(LinearSchedule(8))])
    # 4 batches: the last one started at step 3, so beta = 3/8.
    assert model.kl_weight.numpy() == pytest.approx(3 / 8)


def test_keras_round_trip(tmp_path, tiny_vae, binary_images):
    path = tmp_path / "vae.keras"
    tiny_vae.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, VAE) and restored.get_config() == tiny_vae.get_config()
    for a, b in zip(tiny_vae.encode(binary_images), restored.encode(binary_images)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(tiny_vae.sample(3).numpy(), restored.sample(3).numpy(), rtol=1e-6)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_export_and_reload_equal(tmp_path, architecture):
    model = VAE(latent_dim=2, hidden_units=(8,), architecture=architecture, conv_filters=(4,), seed=0)
    model(np.zeros((1, 784), np.float32))
    export_saved_model(model, tmp_path / "1")
    report = check_export(model, tmp_path / "1")
    assert set(report) == {"serving_default", "encode", "decode", "reconstruct", "sample", "score"}


def test_exported_signature_rejects_non_binary_input(tmp_path, tiny_vae):
    export_saved_model(tiny_vae, tmp_path / "1")
    encode = tf.saved_model.load(str(tmp_path / "1")).signatures["encode"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="must hold only 0 and 1"):
        encode(x=tf.fill([1, 784], 0.5))


def test_bad_input_errors(tiny_vae):
    with pytest.raises(ValueError, match=r"binary values.*0\.5"):
        tiny_vae.encode(np.full((2, 784), 0.5, np.float32))
    with pytest.raises(ValueError, match="NaN|nan"):
        tiny_vae.encode(np.full((1, 784), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"shape \(N, 784\)"):
        tiny_vae.encode(np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match="architecture"):
        VAE(architecture="transformer")
    with pytest.raises(ValueError, match="num_importance_samples"):
        VAE(num_importance_samples=0)


def test_measure_reports_nll_below_negative_elbo(tiny_vae, binary_images):
    metrics = tiny_vae.measure(binary_images[:10], num_samples=20, chunk_size=7)
    assert metrics["examples"] == 10 and metrics["importance_samples"] == 20
    assert metrics["nll"] < -metrics["elbo"]


def test_measure_nll_equals_an_independent_numpy_estimate(tiny_vae, binary_images):
    """The streamed estimator against importance sampling written out in numpy (own draws from q, Gaussian and
    Bernoulli densities by hand, log-mean-exp over K): an estimator that forgot -log K (7.6 nats at K = 2,000) or
    chunked its samples wrongly would miss by far more than the Monte Carlo error."""
    x = binary_images[:5]
    got = tiny_vae.measure(x, num_samples=2000, chunk_size=300)["nll"]
    loc, scale = (t.numpy().astype(np.float64) for t in tiny_vae(x))
    rng = np.random.RandomState(0)
    k = 20000
    z = loc[None] + scale[None] * rng.normal(size=(k,) + loc.shape)  # (K, B, D)
    logits = tiny_vae.decoder_logits(tf.constant(z.reshape(-1, loc.shape[1]), tf.float32)).numpy()
    logits = logits.reshape(k, len(x), -1).astype(np.float64)
    log_px_z = np.sum(x * -np.logaddexp(0, -logits) + (1 - x) * -np.logaddexp(0, logits), axis=-1)
    log_pz = np.sum(-0.5 * z ** 2 - 0.5 * np.log(2 * np.pi), axis=-1)
    log_qz = np.sum(-0.5 * ((z - loc) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi), axis=-1)
    log_w = log_px_z + log_pz - log_qz
    expected = -np.mean(np.logaddexp.reduce(log_w, axis=0) - np.log(k))
    assert got == pytest.approx(expected, abs=0.5)  # measured 0.11 apart (an untrained q: noisy weights)
