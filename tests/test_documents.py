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
    encoder, decoder = model._variable_groups()
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
