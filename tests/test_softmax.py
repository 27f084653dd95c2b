"""Large-vocabulary output layers (zoo.layers.softmax), each held to an independent computation: exact
log-probabilities normalise and equal brute force, sampled objectives behave as their theory says."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers.softmax import OUTPUT_LAYERS, output_layer
from zoo.layers.softmax.samplers import alias_table, draw_per_row, sampler_log_probs

V, H, N = 37, 6, 12
RNG = np.random.RandomState(0)
HIDDEN = tf.constant(RNG.normal(size=(N, H)), tf.float32)
TARGETS = tf.constant(RNG.randint(0, V, size=N), tf.int32)
CONFIGS = {"full": {}, "sampled": {"num_sampled": 8}, "nce": {"num_sampled": 8},
           "negative_sampling": {"num_sampled": 4, "sampler": "log_uniform"}, "one_vs_each": {"num_sampled": 8},
           "hierarchical": {}, "adaptive": {"cutoffs": [5, 20]}, "svd": {"preview_width": 3, "top_n": 5}}


def built(kind, seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    layer = output_layer({"kind": kind, **CONFIGS[kind], **overrides}, V)
    layer.build((None, H))
    for weight in layer.weights:  # random biases too, so nothing cancels by accident
        weight.assign(np.random.RandomState(seed + 1).normal(scale=0.5, size=weight.shape).astype(np.float32))
    return layer


@pytest.mark.parametrize("kind", sorted(OUTPUT_LAYERS))
def test_exact_log_probs_normalise_and_agree_with_log_prob(kind):
    layer = built(kind)
    log_probs = layer.log_probs(HIDDEN)
    assert log_probs.shape == (N, V)
    np.testing.assert_allclose(tf.reduce_logsumexp(log_probs, axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(layer.log_prob(HIDDEN, TARGETS), tf.gather(log_probs, TARGETS, batch_dims=1),
                               rtol=1e-5, atol=1e-5)
    loss = layer.loss(HIDDEN, TARGETS, tf.constant([1, 2]))
    assert loss.shape == (N,) and np.isfinite(loss).all()


def test_hierarchical_equals_the_product_of_class_and_word_softmaxes():
    layer = built("hierarchical")
    h = HIDDEN.numpy()
    class_logits = h @ layer.class_kernel.numpy().T + layer.class_bias.numpy()
    word_logits = h @ layer.kernel.numpy().T + layer.bias.numpy()
    size = layer.class_size
    expected = np.empty((N, V))
    for w in range(V):
        c = w // size
        members = range(c * size, min((c + 1) * size, V))
        expected[:, w] = (class_logits[:, c] - np.log(np.exp(class_logits).sum(1))
                          + word_logits[:, w] - np.log(np.exp(word_logits[:, list(members)]).sum(1)))
    np.testing.assert_allclose(layer.log_probs(HIDDEN), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.loss(HIDDEN, TARGETS), -expected[np.arange(N), TARGETS.numpy()], rtol=1e-4)
    assert layer.num_classes == 6 and layer.class_size == 7  # round(sqrt(37)) classes of 7, none empty


def test_adaptive_equals_brute_force_and_its_loss_is_the_exact_nll():
    layer = built("adaptive")
    h = HIDDEN.numpy()

    def log_softmax(a):
        return a - np.log(np.exp(a - a.max(1, keepdims=True)).sum(1, keepdims=True)) - a.max(1, keepdims=True)

    head = log_softmax(h @ layer.head_kernel.numpy() + layer.head_bias.numpy())
    tails = [log_softmax(h @ p.numpy() @ t.numpy()) for p, t in zip(layer.projections, layer.tails)]
    expected = np.concatenate([head[:, :5], head[:, 5:6] + tails[0], head[:, 6:7] + tails[1]], axis=1)
    np.testing.assert_allclose(layer.log_probs(HIDDEN), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.loss(HIDDEN, TARGETS), -expected[np.arange(N), TARGETS.numpy()], rtol=1e-4)
    assert [int(p.shape[1]) for p in layer.projections] == [1, 1]  # H / 4, H / 16, at least 1


def test_svd_softmax_with_full_preview_is_the_full_softmax_and_top1_agrees_on_a_small_preview():
    layer = built("svd")
    np.testing.assert_allclose(layer.fast_log_probs(HIDDEN, preview_width=H, top_n=V), layer.log_probs(HIDDEN),
                               rtol=1e-4, atol=1e-4)
    approx = layer.fast_log_probs(HIDDEN, preview_width=H - 1, top_n=10)
    assert np.mean(np.argmax(approx, 1) == np.argmax(layer.log_probs(HIDDEN), 1)) >= 0.9


def test_sampled_softmax_with_many_uniform_draws_has_its_limit():
    """With S >> V uniform draws each other word appears about S / V times with corrected logit
    s(w) - log(S / V), so the sampled denominator tends to sum_{w != y} exp s(w); the target's own draws are
    removed (accidental hits) and it enters once, as exp(s(y)) V / S. The loss tends to
    -log p(y) + log(S / V) + log(1 - p(y) + p(y) V / S): the full NLL up to a constant and the removed mass."""
    samples = 200000
    full, sampled = built("full"), built("sampled", num_sampled=samples, sampler="uniform")
    sampled.set_weights(full.get_weights())
    log_p = full.log_prob(HIDDEN, TARGETS).numpy()
    limit = -log_p + np.log(samples / V) + np.log(1 - np.exp(log_p) + np.exp(log_p) * V / samples)
    np.testing.assert_allclose(sampled.loss(HIDDEN, TARGETS, tf.constant([3, 4])), limit, atol=0.03)  # draw noise


def test_nce_gradient_approaches_the_likelihood_gradient_for_a_normalised_model():
    """As k grows, NCE's gradient tends to grad s(y) - sum_w exp(s(w)) grad s(w): the log-likelihood's gradient
    where the model is self-normalised (sum_w exp s(w) = 1), which NCE's optimum makes it. One row, its bias
    shifted so that it is normalised."""
    full, nce = built("full"), built("nce", num_sampled=200000, sampler="uniform")
    row, target = HIDDEN[:1], TARGETS[:1]
    full.bias.assign(full.bias - tf.reduce_logsumexp(full.logits(row)))
    nce.set_weights(full.get_weights())
    with tf.GradientTape(persistent=True) as tape:
        exact = -tf.reduce_sum(full.log_prob(row, target))
        approx = tf.reduce_sum(nce.loss(row, target, tf.constant([5, 6])))
    for a, b in ((full.kernel, nce.kernel), (full.bias, nce.bias)):
        g_exact = tf.convert_to_tensor(tape.gradient(exact, a)).numpy().ravel()
        g_nce = tf.convert_to_tensor(tape.gradient(approx, b)).numpy().ravel()
        assert g_exact @ g_nce / np.linalg.norm(g_exact) / np.linalg.norm(g_nce) > 0.99


def test_one_vs_each_bound_is_below_log_p_and_the_estimator_is_unbiased():
    layer = built("one_vs_each", num_sampled=6)
    bound = layer.one_vs_each_bound(HIDDEN, TARGETS)
    assert (bound <= layer.log_prob(HIDDEN, TARGETS) + 1e-5).numpy().all()
    estimates = np.mean([-layer.loss(HIDDEN, TARGETS, tf.constant([s, 0])).numpy() for s in range(400)], axis=0)
    np.testing.assert_allclose(estimates, bound, rtol=0.1, atol=0.3)


def test_samplers_follow_their_stated_distributions():
    log_uniform = np.exp(sampler_log_probs("log_uniform", 1000))
    assert log_uniform.sum() == pytest.approx(1.0, abs=1e-5)
    assert log_uniform[0] == pytest.approx(np.log(2) / np.log(1001), rel=1e-5)
    unigram = np.exp(sampler_log_probs("unigram", 3, counts=[16, 1, 0], power=0.75))
    np.testing.assert_allclose(unigram[:2], np.array([8.0, 1.0]) / 9.0, rtol=1e-5)
    layer = built("negative_sampling", sampler="unigram", counts=[100.0] + [1.0] * (V - 1), power=1.0,
                  num_sampled=2000)
    ids, _ = layer.samples(tf.constant([1, 1]))
    assert np.mean(ids.numpy() == 0) == pytest.approx(100 / 136, abs=0.04)  # word 0 holds 100 / 136 of the mass


@pytest.mark.parametrize("kind", ["full", "sampled", "nce", "negative_sampling", "hierarchical", "adaptive"])
def test_training_loss_falls_on_a_toy_problem(kind):
    layer = built(kind)
    targets = tf.constant(np.arange(N) % 4, tf.int32)  # four frequent words
    optimizer = keras.optimizers.Adam(0.05)
    before = float(-tf.reduce_mean(layer.log_prob(HIDDEN, targets)))
    for step in range(60):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(layer.loss(HIDDEN, targets, tf.constant([step, 0])))
        optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights))
    assert float(-tf.reduce_mean(layer.log_prob(HIDDEN, targets))) < 0.5 * before  # the exact NLL falls


def test_bad_configs_and_targets():
    with pytest.raises(ValueError, match="unknown softmax kind 'hs'"):
        output_layer({"kind": "hs"}, V)
    with pytest.raises(ValueError, match="cutoffs must increase strictly"):
        output_layer({"kind": "adaptive", "cutoffs": [40]}, V)
    with pytest.raises(ValueError, match="the unigram sampler needs counts"):
        output_layer({"kind": "negative_sampling"}, V)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"target ids must lie in \[0, 37\)"):
        built("full").log_prob(HIDDEN, tf.constant([0] * (N - 1) + [V]))


@pytest.mark.parametrize("kind", sorted(OUTPUT_LAYERS))
def test_config_round_trip(kind):
    layer = built(kind, **({"counts": list(range(1, V + 1))} if kind == "negative_sampling" else {}))
    clone = type(layer).from_config(layer.get_config())
    clone.build((None, H))
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone.log_probs(HIDDEN), layer.log_probs(HIDDEN), rtol=1e-6)


# === Every word language model can use any of them ===
@pytest.mark.parametrize("kind", ["sampled", "nce", "hierarchical", "adaptive", "one_vs_each"])
def test_rnn_language_model_trains_decodes_and_exports_with_each_output_layer(kind, tmp_path):
    from tests.conftest import SENTENCES
    from zoo.data.streams import stream_batches, stream_steps
    from zoo.data.text import Vocabulary
    from zoo.export import check_export, export_saved_model
    from zoo.models import RNNLanguageModel

    words = Vocabulary.from_text("\n".join(SENTENCES), "word")
    stream = words.encode(" <eos> ".join(s.strip() for s in SENTENCES * 20))
    config = {"kind": kind, **{"sampled": {"num_sampled": 8}, "nce": {"num_sampled": 8},
                               "one_vs_each": {"num_sampled": 8}, "adaptive": {"cutoffs": [6]}}.get(kind, {})}
    keras.utils.set_random_seed(0)
    model = RNNLanguageModel(vocab_size=len(words), embedding_dim=8, hidden_units=16, num_layers=1,
                             vocabulary=words, seed=0, softmax=config)
    before = model.measure(stream[:200])["nats_per_token"]
    model.compile(keras.optimizers.Adam(2e-2))
    model.fit(stream_batches(stream, 4, 10, epochs=8), epochs=8, steps_per_epoch=stream_steps(len(stream), 4, 10),
              callbacks=model.training_callbacks(), verbose=0)
    after = model.measure(stream[:200])["nats_per_token"]  # exact, under the true normaliser
    assert after < 0.8 * before  # NCE learns normalisation too, the slowest here (0.71 of the start)
    np.testing.assert_allclose(tf.reduce_logsumexp(model(stream[None, :12]), axis=-1), 0.0, atol=1e-4)
    assert model.generate("the company", "greedy", max_tokens=4)["text"][0]
    export_saved_model(model, tmp_path / "1")
    assert check_export(model, tmp_path / "1")
    clone = RNNLanguageModel.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert clone.get_config()["softmax"] == config


# === Issue 18: tests that kill the surviving mutants of bench/mutants.py ===
def test_svd_softmax_rescores_its_candidates_exactly():
    """A one-direction preview is far from the logits, but with top_n = V every logit is re-scored: exact."""
    layer = built("svd")
    np.testing.assert_allclose(layer.fast_log_probs(HIDDEN, preview_width=1, top_n=V), layer.log_probs(HIDDEN),
                               rtol=1e-4, atol=1e-4)


def _draws_and_logits(layer, seed):
    ids, _ = layer.samples(seed)
    logits = (HIDDEN.numpy() @ layer.kernel.numpy().T + layer.bias.numpy()).astype(np.float64)
    return ids.numpy(), logits


def test_negative_sampling_and_one_vs_each_losses_against_numpy():
    """The losses recomputed in numpy from the layer's own draws; S = 40 draws over V = 37 words make
    accidental hits (a draw equal to the target) certain, so their removal is exercised."""
    softplus = lambda x: np.logaddexp(0.0, x)  # noqa: E731
    seed = tf.constant([5, 6])
    t = TARGETS.numpy()
    layer = built("negative_sampling", num_sampled=40)
    ids, s = _draws_and_logits(layer, seed)
    hit = t[:, None] == ids[None, :]
    assert hit.any()
    expected = softplus(-s[np.arange(N), t]) + np.sum(np.where(hit, 0.0, softplus(s[:, ids])), axis=1)
    np.testing.assert_allclose(layer.loss(HIDDEN, TARGETS, seed).numpy(), expected, rtol=1e-4, atol=1e-4)
    layer = built("one_vs_each", num_sampled=40)
    ids, s = _draws_and_logits(layer, seed)
    hit = t[:, None] == ids[None, :]
    assert hit.any()
    margins = s[np.arange(N), t][:, None] - s[:, ids]
    expected = -(V - 1) / 40 * np.sum(np.where(hit, 0.0, -softplus(-margins)), axis=1)
    np.testing.assert_allclose(layer.loss(HIDDEN, TARGETS, seed).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_alias_sampler_is_exact_and_each_row_draws_its_own():
    """Walker's alias table holds Q exactly (the probability of each id, summed over the columns that give it,
    against Q), and draws from it follow Q (chi-square-sized tolerance) independently per row."""
    counts = [0.0, 5.0, 50.0, 1.0, 3.0, 100.0, 7.0]
    q = np.exp(sampler_log_probs("unigram", 7, counts, 0.75).astype(np.float64))
    accept, alias = alias_table(np.log(np.maximum(q, 1e-30)))
    mass = accept / 7.0
    for i in range(7):
        mass[alias[i]] += (1.0 - accept[i]) / 7.0
    np.testing.assert_allclose(mass, q, atol=1e-6)
    ids = draw_per_row(accept, alias, 4000, 10, tf.constant([3, 4])).numpy()
    share = np.bincount(ids.ravel(), minlength=7) / ids.size
    assert np.all(np.abs(share - q) <= 4 * np.sqrt(q * (1 - q) / ids.size) + 1e-9), (share, q)
    assert share[0] == 0.0  # a word never seen is never a negative
    assert np.mean(ids[:, 0] == ids[:, 1]) < 0.5  # rows and columns are not copies of one draw


def test_per_row_negative_sampling_against_numpy():
    """word2vec's loss: each row's own S negatives (the layer's draws), a negative equal to the target skipped."""
    softplus = lambda x: np.logaddexp(0.0, x)  # noqa: E731
    layer = built("negative_sampling", num_sampled=40, per_row=True)
    seed = tf.constant([5, 6])
    ids = layer.negatives(N, seed).numpy()
    assert ids.shape == (N, 40) and len({tuple(row) for row in ids}) == N
    s = HIDDEN.numpy() @ layer.kernel.numpy().T + layer.bias.numpy()
    t = TARGETS.numpy()
    hit = t[:, None] == ids
    assert hit.any()
    negatives = np.take_along_axis(s, ids, axis=1)
    expected = softplus(-s[np.arange(N), t]) + np.sum(np.where(hit, 0.0, softplus(negatives)), axis=1)
    np.testing.assert_allclose(layer.loss(HIDDEN, TARGETS, seed).numpy(), expected, rtol=1e-4, atol=1e-4)
