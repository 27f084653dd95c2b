"""Document models on bags of words: the NVDM-format loader, perplexity, NPMI, and NVDM / EM mixture / LDA /
DocNADE (build, training with falling loss, .keras round trip, export, text signature)."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data import DATASETS
from zoo.data.newsgroups import (Corpus, as_document_dataset, bag_of_words, load_20news, read_feat, split_train,
                                 text_to_counts, vocabulary_table, write_feat)
from zoo.export import check_export, export_saved_model
from zoo.models import LDA, NVDM, DocNADE, MixtureOfMultinomials
from zoo.models.aggressive import split_variables
from zoo.models.documents import BagOfWordsLikelihood
from zoo.objectives import corpus_perplexity, document_perplexity, npmi_coherence

V = 30
VOCAB = [f"{a}{b}" for a in "abcdef" for b in "pqrst"]


@pytest.fixture(scope="module")
def toy_counts():
    """(90, 30) counts from 3 topics, each on its own 10 words, 5-30 tokens per document."""
    rng = np.random.RandomState(0)
    x = np.zeros((90, V), np.float32)
    for d in range(90):
        topic = d % 3
        probs = np.full(V, 0.02 / 20)
        probs[topic * 10:(topic + 1) * 10] = 0.098
        x[d] = rng.multinomial(rng.randint(5, 30), probs / probs.sum())
    return x


# === Loader ===
def test_feat_round_trip(tmp_path):
    corpus = Corpus(np.array([0, 2, 3, 5]), np.array([0, 4, 2, 1, 3], np.int32), np.array([1, 3, 2, 1, 5], np.float32),
                    np.array([1, 2, 20], np.int32), vocab_size=5)
    write_feat(tmp_path / "x.feat", corpus)
    assert (tmp_path / "x.feat").read_text().splitlines()[0] == "1 1:1 5:3"
    again = read_feat(tmp_path / "x.feat", vocab_size=5)
    np.testing.assert_array_equal(again.dense(), corpus.dense())
    np.testing.assert_array_equal(again.labels, [1, 2, 20])
    np.testing.assert_array_equal(again.lengths, [4, 2, 6])
    assert again.skipped == 0
    for sparse in (False, True):
        batch = next(iter(as_document_dataset(again, 2, sparse=sparse)))
        counts = tf.sparse.to_dense(batch["counts"]) if sparse else batch["counts"]
        np.testing.assert_array_equal(counts.numpy(), corpus.dense()[:2])
        np.testing.assert_array_equal(batch["length"].numpy(), [4, 2])
        np.testing.assert_array_equal(batch["label"].numpy(), [1, 2])


@pytest.mark.parametrize("line, message", [
    ("1 3:1 4-2", r"bad pair '4-2'"),
    ("1 3:1 x:2", r"bad pair 'x:2'"),
    ("1 3:1 4:", r"bad pair '4:'"),
    ("1 0:2", r"index 0 out of range 1..5"),
    ("1 6:1", r"index 6 out of range 1..5"),
    ("1 2:-1", r"negative count"),
    ("1 2:1 2:3", r"index 2 repeated"),
    ("7", r"empty document"),
    ("1 2:0", r"empty document"),
    ("", r"empty line"),
    ("news 2:1", r"label 'news' is not an integer"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.feat"
    path.write_text(f"1 1:2 3:1\n{line}\n2 5:1\n")
    with pytest.raises(ValueError, match=f"{path}:2: .*{message}"):
        read_feat(path, vocab_size=5)
    corpus = read_feat(path, vocab_size=5, skip_malformed=True)
    assert corpus.skipped == 1 and len(corpus) == 2
    np.testing.assert_array_equal(corpus.labels, [1, 2])


def test_all_lines_bad_is_an_error_even_when_skipping(tmp_path):
    path = tmp_path / "bad.feat"
    path.write_text("1 9:1\n")
    with pytest.raises(ValueError, match=r"no documents \(1 malformed lines skipped\)"):
        read_feat(path, vocab_size=5, skip_malformed=True)


def test_load_20news_holds_out_train_never_test(tiny_data_dir):
    data = DATASETS["20news"].load(valid_size=20)
    assert data["train"].shape == (60, 2000) and data["valid"].shape == (20, 2000)
    assert data["test"].shape == (40, 2000) and len(data["vocabulary"]) == 2000 and data["skipped"] == 0
    test = read_feat(tiny_data_dir / "20news-nvdm" / "test.feat")
    np.testing.assert_array_equal(data["test"], test.dense())
    np.testing.assert_array_equal(data["test_labels"], test.labels)
    full = read_feat(tiny_data_dir / "20news-nvdm" / "train.feat").dense()
    together = np.concatenate([data["train"], data["valid"]])
    assert sorted(map(bytes, together)) == sorted(map(bytes, full))  # train + valid = train.feat
    train, valid = split_train(read_feat(tiny_data_dir / "20news-nvdm" / "train.feat"), 20, seed=0)
    np.testing.assert_array_equal(valid.dense(), data["valid"])
    assert load_20news(valid_size=20, limit=5)["test"].shape == (5, 2000)


# === Perplexity, NPMI ===
def test_perplexity_formulas_by_hand():
    log_probs, lengths = np.array([-10.0, -30.0]), np.array([2.0, 10.0])
    # per document: exp(mean(5, 3)) = e^4; corpus: exp(40 / 12)
    assert document_perplexity(log_probs, lengths) == pytest.approx(math.exp(4.0))
    assert corpus_perplexity(log_probs, lengths) == pytest.approx(math.exp(40.0 / 12.0))
    with pytest.raises(ValueError, match="positive length"):
        document_perplexity([-1.0], [0.0])


def test_bag_of_words_likelihood_is_the_sequence_probability():
    logits = tf.math.log(tf.constant([[0.5, 0.25, 0.25]]))
    x = tf.constant([[2.0, 0.0, 1.0]])
    # p(w1, w1, w3) = 0.5 * 0.5 * 0.25, no multinomial coefficient
    assert BagOfWordsLikelihood(logits).log_prob(x).numpy()[0] == pytest.approx(math.log(0.0625), rel=1e-6)


def test_npmi_by_hand():
    docs = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]])
    # P(0) = 3/4, P(1) = 1/2, P(0, 1) = 1/2: NPMI = log((1/2) / (3/8)) / -log(1/2)
    assert npmi_coherence([[0, 1]], docs)[0] == pytest.approx(math.log(4 / 3) / math.log(2))
    assert npmi_coherence([[1, 2]], docs)[0] == -1.0


# === Models ===
def nvdm():
    return NVDM(vocab_size=V, latent_dim=3, hidden_units=(16,), vocabulary=VOCAB, seed=0)


def mixture():
    return MixtureOfMultinomials(vocab_size=V, num_components=3, smoothing=0.1, vocabulary=VOCAB, seed=0)


def lda():
    return LDA(vocab_size=V, num_topics=3, num_documents=90, tau0=1.0, max_iterations=30, vocabulary=VOCAB, seed=0)


def docnade():
    return DocNADE(vocab_size=V, hidden_units=8, vocabulary=VOCAB, seed=0)


BUILDERS = {"nvdm": nvdm, "mixture": mixture, "lda": lda, "docnade": docnade}


def fitted(name, x, epochs):
    keras.utils.set_random_seed(0)
    model = BUILDERS[name]()
    model(x[:2])
    model.prepare_for_data({"train": x, "vocabulary": VOCAB})
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    batch = len(x) if name == "mixture" else 30
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(batch), epochs=epochs, verbose=0).history
    return model, history


@pytest.mark.parametrize("name", list(BUILDERS))
def test_trains_with_falling_loss_and_measures(name, toy_counts):
    model, history = fitted(name, toy_counts, epochs=6)
    assert history["loss"][-1] < history["loss"][0], history["loss"]
    metrics = model.measure(toy_counts[:30], **({"num_samples": 10, "elbo_samples": 2} if name == "nvdm" else {}))
    assert 1 < metrics["perplexity"] < V and 1 < metrics["corpus_perplexity"] < V
    if name == "nvdm":
        assert metrics["is_perplexity"] < metrics["perplexity"] * 1.01  # the IS bound is (nearly always) tighter
    assert len(model.topics(4)) >= 3 and all(len(t) == 4 for t in model.topics(4))
    assert "NPMI" in model.topic_table(k=3, counts=toy_counts)


def test_em_log_likelihood_never_decreases(toy_counts):
    """Each EM pass is logged with the objective at the parameters it started from: with no smoothing the
    log-likelihood itself must never decrease; with smoothing, the log posterior (what MAP-EM climbs)."""
    for smoothing, key in ((0.0, "log_likelihood"), (0.5, "log_posterior")):
        model = MixtureOfMultinomials(vocab_size=V, num_components=4, smoothing=smoothing, mixing_smoothing=smoothing,
                                      seed=1)
        model(toy_counts[:1])
        model.compile(optimizer="adam")
        values = model.fit(toy_counts, batch_size=len(toy_counts), epochs=12, verbose=0).history[key]
        assert np.all(np.diff(values) >= -1e-4 * np.abs(values[1:])), values
        assert values[-1] > values[0] + 1.0


def test_mixture_is_exact_and_finds_the_topics(toy_counts):
    model, _ = fitted("mixture", toy_counts, epochs=10)
    x = toy_counts[:5]
    joint = np.log(np.exp(model.log_weights.numpy())[None]) + x @ model.log_word_probs.numpy().T
    np.testing.assert_allclose(model.log_marginal(x).numpy(), np.logaddexp.reduce(joint, axis=1), rtol=1e-5)
    labels = np.arange(90) % 3
    assert model.measure(toy_counts, labels=labels)["purity"] > 0.9


def test_nvdm_alternating_updates_touch_one_side_at_a_time(toy_counts):
    model = NVDM(vocab_size=V, latent_dim=2, hidden_units=(8,), alternating=True, alternate_steps=2, seed=0)
    model(toy_counts[:2])
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    encoder, decoder = split_variables(model)
    before = [v.numpy().copy() for v in encoder + decoder]
    model.fit(toy_counts[:60], batch_size=30, epochs=1, verbose=0)  # steps 0, 1: decoder only
    after = [v.numpy() for v in encoder + decoder]
    changed = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert not any(changed[:len(encoder)]) and all(changed[len(encoder):])
    model.fit(toy_counts[:60], batch_size=30, epochs=1, verbose=0)  # steps 2, 3: encoder only
    final = [v.numpy() for v in encoder + decoder]
    assert all(not np.array_equal(a, b) for a, b in zip(after[:len(encoder)], final[:len(encoder)]))
    assert all(np.array_equal(a, b) for a, b in zip(after[len(encoder):], final[len(encoder):]))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_keras_round_trip_and_export(name, toy_counts, tmp_path):
    model, _ = fitted(name, toy_counts, epochs=1)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert type(restored) is type(model) and restored.get_config() == model.get_config()
    assert restored.topics(3) == model.topics(3)
    score = model.export_endpoints()["score"]
    np.testing.assert_allclose(restored.export_endpoints()["score"].call_with_example()["perplexity"],
                               score.call_with_example()["perplexity"], rtol=1e-5)
    export_saved_model(model, tmp_path / "1")
    report = check_export(model, tmp_path / "1")
    assert {"serving_default", "encode", "score", "topics", "text"} <= set(report)
    # The text signature (checked here in Python: the C-API runner has no string tensors) builds the same bag
    # of words as the Python reference.
    texts = ["AP aq, zz-top: ap!", "", "fT ft ft unknown words only fx"]
    served = tf.saved_model.load(str(tmp_path / "1")).signatures["text"](text=tf.constant(texts))
    np.testing.assert_array_equal(served["counts"].numpy(), bag_of_words(texts, VOCAB))
    topics = tf.saved_model.load(str(tmp_path / "1")).signatures["topics"](k=tf.constant(3))
    assert [w.decode() for w in topics["words"].numpy()[0]] == model.topics(3)[0]
    if name == "mixture":  # every signature, the string ones (text, topics) included, through the TF C API
        from zoo.export.capi import check_with_c_api
        assert set(check_with_c_api(model, tmp_path / "1")) == set(report)


def test_text_to_counts_matches_python_on_sample_strings():
    vocabulary = ["space", "nasa", "god", "key", "chip", "don", "t"]
    texts = ["NASA's space shuttle; SPACE!", "God\tkey\nchip-key don't", "", "12345 ???", "spacenasa nasa"]
    table = vocabulary_table(vocabulary)
    np.testing.assert_array_equal(text_to_counts(tf.constant(texts), table, len(vocabulary)).numpy(),
                                  bag_of_words(texts, vocabulary))


def test_bad_counts_are_rejected(toy_counts):
    model = nvdm()
    model(toy_counts[:1])
    with pytest.raises(ValueError, match=r"non-negative integers"):
        model.encode(-toy_counts[:2] - 1)
    with pytest.raises(ValueError, match=r"shape \(N, 30\)"):
        model.encode(np.zeros((2, 7), np.float32))
    with pytest.raises(ValueError, match="empty document"):
        model.measure(np.zeros((2, V), np.float32))
    with pytest.raises(ValueError, match="vocabulary has 2 words"):
        NVDM(vocab_size=V, vocabulary=["a", "b"])


def test_nvdm_sparse_first_layer_computes_the_same(toy_counts):
    dense = NVDM(vocab_size=V, latent_dim=3, hidden_units=(16,), log_input=True, seed=0)
    sparse = NVDM(vocab_size=V, latent_dim=3, hidden_units=(16,), log_input=True, sparse_input=True, seed=0)
    dense(toy_counts[:2])
    sparse(toy_counts[:2])
    sparse.set_weights(dense.get_weights())
    for a, b in zip(dense.encode(toy_counts), sparse.encode(toy_counts)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_docnade_sequence_probabilities_sum_to_one_over_every_sequence():
    """Issue 18: for V = 4 and N = 3 the 64 token sequences' probabilities under DocNADE's autoregressive
    conditionals sum to 1, and ``document_log_probs`` is the probability of the ordering ``tokens`` draws."""
    import itertools
    model = DocNADE(vocab_size=4, hidden_units=5, vocabulary=list("abcd"), seed=0)
    model.build()
    rng = np.random.RandomState(0)
    model.embeddings.assign(rng.normal(0, 1.0, (4, 5)).astype(np.float32))
    model.output_layer.bias.assign(rng.normal(0, 1.0, 4).astype(np.float32))
    model.hidden_bias.assign(rng.normal(0, 1.0, 5).astype(np.float32))
    sequences = np.array(list(itertools.product(range(4), repeat=3)), np.int64)        # (64, 3)
    words = tf.constant(sequences.reshape(-1))
    docs = tf.constant(np.repeat(np.arange(64), 3))
    logits = model.output_layer(model.hidden(words, docs))
    token_lp = tf.gather(tf.nn.log_softmax(logits), words, batch_dims=1).numpy().reshape(64, 3)
    np.testing.assert_allclose(np.exp(token_lp.sum(1)).sum(), 1.0, rtol=1e-5)
    counts = np.array([[2, 0, 1, 0], [0, 1, 1, 1]], np.float32)
    seed = tf.constant([3, 1], tf.int32)
    ordered, owner = model.tokens(counts, seed)
    ordered, owner = ordered.numpy(), owner.numpy()
    index = {tuple(s): i for i, s in enumerate(sequences.tolist())}
    expected = [token_lp[index[tuple(ordered[owner == d].tolist())]].sum() for d in range(2)]
    np.testing.assert_allclose(model.document_log_probs(counts, seed).numpy(), expected, rtol=1e-5)


# === LDA's bound against log p(d) by quadrature over the topic simplex (K = 2) ===
def _digamma(x):
    """numpy digamma (independent of TensorFlow's): recurrence up to x >= 6, then the asymptotic series."""
    x = np.asarray(x, np.float64).copy()
    shift = np.zeros_like(x)
    while np.any(x < 6.0):
        small = x < 6.0
        shift = shift - np.where(small, 1.0 / x, 0.0)
        x = np.where(small, x + 1.0, x)
    inv2 = 1.0 / (x * x)
    return shift + np.log(x) - 0.5 / x - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 / 240)))


def _log_beta_fn(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _lda_log_evidence_by_quadrature(counts, beta, alpha, nodes=400):
    """log p(d | beta) = log int Beta(t; alpha, alpha) prod_w (t beta_0w + (1 - t) beta_1w)^n_w dt for K = 2
    (theta = (t, 1 - t)), by Gauss-Legendre on t = sin^2(u), u in (0, pi/2), which removes the endpoint
    singularities of the Beta density: dt = 2 sin u cos u du."""
    u, w = np.polynomial.legendre.leggauss(nodes)
    u, w = (u + 1) * math.pi / 4, w * math.pi / 4
    t = np.sin(u) ** 2
    log_density = ((2 * alpha - 1) * (np.log(np.sin(u)) + np.log(np.cos(u))) + math.log(2.0)
                   - _log_beta_fn(alpha, alpha))
    log_lik = np.log(np.outer(t, beta[0]) + np.outer(1 - t, beta[1])) @ counts          # (nodes,)
    terms = np.log(w) + log_density + log_lik
    top = terms.max()
    return top + math.log(np.exp(terms - top).sum())


def _lda_elbo(counts, beta, alpha, gamma):
    """The collapsed-phi bound of LDA for q(theta) = Dirichlet(gamma), in numpy:
    E_q[log p(theta)] - E_q[log q(theta)] + sum_w n_w log sum_k exp(E_q[log theta_k]) beta_kw."""
    gamma = np.asarray(gamma, np.float64)
    k = len(gamma)
    elog = _digamma(gamma) - _digamma(gamma.sum())
    log_prior = math.lgamma(k * alpha) - k * math.lgamma(alpha) + ((alpha - 1) * elog).sum()
    log_q = math.lgamma(gamma.sum()) - sum(math.lgamma(g) for g in gamma) + ((gamma - 1) * elog).sum()
    return log_prior - log_q + counts @ np.log(np.exp(elog) @ beta)


def lda_with_topics(concentration, alpha):
    model = LDA(vocab_size=concentration.shape[1], num_topics=2, alpha=alpha, max_iterations=5000, tolerance=1e-6,
                seed=0)
    model.build()
    model.topic_concentration.assign(concentration.astype(np.float32))
    return model, concentration / concentration.sum(1, keepdims=True)


LDA_DOCS = np.array([[3, 1, 0, 2], [0, 0, 4, 1], [1, 1, 1, 1], [6, 0, 0, 0], [0, 2, 5, 3]], np.float32)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_lda_bound_is_below_log_evidence_by_quadrature_and_the_e_step_maximises_it(alpha):
    """Issue 18: for K = 2 topics over V = 4 words, the per-document bound (beta at its posterior mean) is
    (a) the numpy bound at the model's gamma, (b) a maximum of that bound over gamma (the E-step converged), and
    (c) below log p(d | beta) by quadrature over the simplex, with a gap (mean-field over theta and z)."""
    concentration = np.array([[5.0, 3.0, 1.0, 1.0], [1.0, 1.0, 4.0, 4.0]])
    model, beta = lda_with_topics(concentration, alpha)
    bound, gamma = (t.numpy().astype(np.float64) for t in model.document_bound(LDA_DOCS))
    # the quadrature integrates the prior to 1, and its rule has converged
    assert _lda_log_evidence_by_quadrature(np.zeros(4), beta, alpha) == pytest.approx(0.0, abs=1e-9)
    for d, counts in enumerate(LDA_DOCS.astype(np.float64)):
        assert bound[d] == pytest.approx(_lda_elbo(counts, beta, alpha, gamma[d]), abs=3e-5)
        for step in ([1e-2, 0], [0, 1e-2], [-1e-2, 0], [0, -1e-2], [1e-2, 1e-2], [-1e-2, -1e-2]):
            assert _lda_elbo(counts, beta, alpha, gamma[d] + step) <= _lda_elbo(counts, beta, alpha, gamma[d]) + 1e-6
        evidence = _lda_log_evidence_by_quadrature(counts, beta, alpha)
        assert evidence == pytest.approx(_lda_log_evidence_by_quadrature(counts, beta, alpha, nodes=100), abs=1e-9)
        assert bound[d] < evidence - 1e-3, (d, bound[d], evidence)


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_lda_bound_equals_log_evidence_when_topics_do_not_share_words(alpha):
    """With topics on disjoint words, each word's topic is known, q(theta) = Dirichlet(alpha + n_k) is the exact
    posterior and the bound is log p(d) itself: by quadrature, and in closed form
    sum_w n_w log beta_k(w),w + log B(alpha + n_0, alpha + n_1) - log B(alpha, alpha)."""
    tiny = 1e-9
    concentration = np.array([[5.0, 3.0, tiny, tiny], [tiny, tiny, 2.0, 6.0]])
    model, beta = lda_with_topics(concentration, alpha)
    bound, gamma = (t.numpy().astype(np.float64) for t in model.document_bound(LDA_DOCS))
    for d, counts in enumerate(LDA_DOCS.astype(np.float64)):
        n0, n1 = counts[:2].sum(), counts[2:].sum()
        closed = (counts[:2] @ np.log(beta[0, :2]) + counts[2:] @ np.log(beta[1, 2:])
                  + _log_beta_fn(alpha + n0, alpha + n1) - _log_beta_fn(alpha, alpha))
        assert _lda_log_evidence_by_quadrature(counts, beta, alpha) == pytest.approx(closed, abs=1e-6)
        assert bound[d] == pytest.approx(closed, abs=3e-5), d
        np.testing.assert_allclose(gamma[d], [alpha + n0, alpha + n1], atol=1e-3)


def test_lda_online_update_is_hoffmans_against_numpy():
    """Two online-VB steps (Hoffman et al. 2010, Alg. 2) on one batch of 5 of D = 40 documents, recomputed in
    numpy: the E-step with exp(E[log beta]) to convergence, then lambda <- (1 - rho_t) lambda + rho_t (eta + D / B
    sum_d n_dw phi_dwk) with rho_t = (tau0 + t)^-kappa, t = 0, 1."""
    rng = np.random.RandomState(3)
    x = LDA_DOCS.astype(np.float64)
    alpha, eta, tau0, kappa, documents = 0.3, 0.05, 2.0, 0.6, 40
    model = LDA(vocab_size=4, num_topics=3, alpha=alpha, eta=eta, num_documents=documents, tau0=tau0, kappa=kappa,
                max_iterations=3000, tolerance=1e-7, seed=0)
    model.build()
    lam = rng.gamma(2.0, 1.0, size=(3, 4))
    model.topic_concentration.assign(lam.astype(np.float32))
    model.compile()
    model.fit(tf.data.Dataset.from_tensor_slices(LDA_DOCS).batch(5), epochs=2, verbose=0)
    for t in range(2):
        exp_elog_beta = np.exp(_digamma(lam) - _digamma(lam.sum(1, keepdims=True)))
        gamma = np.full((5, 3), alpha) + x.sum(1, keepdims=True) / 3
        for _ in range(3000):
            exp_elog_theta = np.exp(_digamma(gamma) - _digamma(gamma.sum(1, keepdims=True)))
            phinorm = exp_elog_theta @ exp_elog_beta
            gamma = alpha + exp_elog_theta * ((x / phinorm) @ exp_elog_beta.T)
        exp_elog_theta = np.exp(_digamma(gamma) - _digamma(gamma.sum(1, keepdims=True)))
        stats = exp_elog_beta * (exp_elog_theta.T @ (x / (exp_elog_theta @ exp_elog_beta)))
        rho = (tau0 + t) ** -kappa
        lam = (1 - rho) * lam + rho * (eta + documents / 5 * stats)
    np.testing.assert_allclose(model.topic_concentration.numpy(), lam, rtol=2e-4)
    assert float(model.update_count) == 2.0


def test_docnade_sequence_log_prob_against_numpy_with_every_parameter():
    """Issue 18: log p(d) of the drawn ordering recomputed in numpy from W, c, U, b (sigmoid hidden layer over the
    earlier tokens of the same document only) for a batch of three documents."""
    model = DocNADE(vocab_size=5, hidden_units=3, vocabulary=list("abcde"), seed=0)
    model.build()
    rng = np.random.RandomState(1)
    w, c = rng.normal(0, 1, (5, 3)), rng.normal(0, 1, 3)
    u, b = rng.normal(0, 1, (3, 5)), rng.normal(0, 1, 5)
    for variable, value in ((model.embeddings, w), (model.hidden_bias, c), (model.output_layer.kernel, u),
                            (model.output_layer.bias, b)):
        variable.assign(value.astype(np.float32))
    counts = np.array([[1, 0, 2, 0, 1], [0, 3, 0, 0, 0], [1, 1, 1, 1, 1]], np.float32)
    seed = tf.constant([7, 2], tf.int32)
    ordered, owner = (t.numpy() for t in model.tokens(counts, seed))
    assert np.all(np.diff(owner) >= 0)                                          # documents stay contiguous
    expected = []
    for d in range(3):
        sequence = ordered[owner == d]
        np.testing.assert_array_equal(np.bincount(sequence, minlength=5), counts[d])
        total, context = 0.0, np.zeros(3)
        for word in sequence:
            logits = b + (1 / (1 + np.exp(-(c + context)))) @ u
            total += logits[word] - np.logaddexp.reduce(logits)
            context = context + w[word]
        expected.append(total)
    np.testing.assert_allclose(model.document_log_probs(counts, seed).numpy(), expected, rtol=1e-5)


def test_docnade_fraction_estimate_is_unbiased():
    """Issue 18: with ``fraction`` f < 1 (training), each conditional enters with probability f, weighted by 1 / f,
    independently of the ordering: an unbiased estimate of log p(d). With W = 0 and U = 0 every conditional is
    softmax(b), so log p(d) = sum_w n_w log softmax(b)_w in any order; over 50 copies of a document with one rare
    word and five common ones and 40 seeds (2,000 draws), the estimates average to it within 4 standard errors.
    (A mask that reused the ordering's noise would keep the rare word's conditional more often than f when it
    comes first: about 2.6 nats, 10 standard errors, too low here.)"""
    model = DocNADE(vocab_size=2, hidden_units=3, vocabulary=list("ab"), seed=0)
    model.build()
    model.embeddings.assign(np.zeros((2, 3), np.float32))
    model.output_layer.kernel.assign(np.zeros((3, 2), np.float32))
    log_p = np.array([-5.0, np.log1p(-np.exp(-5.0))])
    model.output_layer.bias.assign(log_p.astype(np.float32))
    counts = np.tile(np.array([[1.0, 5.0]], np.float32), (50, 1))
    exact = counts[0] @ log_p
    np.testing.assert_allclose(model.document_log_probs(counts, tf.constant([0, 5])).numpy(), exact, rtol=1e-5)
    estimate = tf.function(lambda s: model.document_log_probs(counts, s, fraction=0.2))
    draws = np.concatenate([estimate(tf.constant([s, 5])).numpy() for s in range(40)]).astype(np.float64)
    mean, se = draws.mean(), draws.std(ddof=1) / np.sqrt(len(draws))
    assert abs(mean - exact) < 4 * se, (mean, exact, se)
    assert se < 0.4
