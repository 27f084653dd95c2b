"""Sentence VAE (Bowman et al. 2016): PTB sentences, the posterior-collapse toolkit, the bound, decoding,
export. Each test holds the model to an independent computation where there is one."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import SENTENCES
from zoo.data.sentences import PAD, load_ptb_sentences, sentences_to_ids
from zoo.data.text import Vocabulary
from zoo.export import check_export, export_saved_model
from zoo.models import SentenceVAE
from zoo.layers.recurrent import stateless_dropout
from zoo.objectives import active_units, free_bits_kl, mutual_information, word_dropout

WORDS = Vocabulary.from_text("\n".join(SENTENCES), "word")


def tiny(**overrides):
    config = {"vocab_size": len(WORDS), "latent_dim": 3, "embedding_dim": 8, "hidden_units": 12,
              "vocabulary": WORDS, "seed": 0, "max_tokens": 20, **overrides}
    return SentenceVAE(**config)


def padded(lines):
    return sentences_to_ids(lines, WORDS)[0]


# === Data ===
def test_sentences_are_padded_with_eos_and_documented_skips():
    ids, lengths, skipped = sentences_to_ids(["the market fell", "", "   ", "a b c d e f g", "zzz rose"], WORDS,
                                             max_length=5)
    eos, unk = WORDS.ids["<eos>"], 0
    assert skipped == {"empty": 2, "too_long": 1}
    assert lengths.tolist() == [4, 3]
    np.testing.assert_array_equal(ids, [[WORDS.ids["the"], WORDS.ids["market"], WORDS.ids["fell"], eos],
                                        [unk, WORDS.ids["rose"], eos, PAD]])


def test_ptb_sentences_loader(tiny_data_dir):
    splits = load_ptb_sentences(limit=8)
    assert len(splits["train"]) == 8 and splits["train"].dtype == np.float32
    assert splits["skipped"]["train"] == {"empty": 0, "too_long": 0}
    first = splits["train"][0]
    assert splits["vocabulary"].decode(first[first > PAD].astype(int)) == SENTENCES[0].strip() + " <eos>"


def _lengths(batch):
    return (np.asarray(batch) > PAD).sum(axis=1)


def test_length_bucketed_batches_cover_every_sentence_once_per_epoch_with_less_padding():
    from zoo.data.pipeline import length_bucketed_batches, length_sorted_batches
    rng = np.random.RandomState(0)
    lengths = rng.randint(1, 30, size=203)
    x = np.full((203, 30), PAD, np.float32)
    for i, n in enumerate(lengths):
        x[i, :n] = i  # each row's ids name the row
    batches = [b.numpy() for b in length_bucketed_batches(x, 16, seed=3, first_epoch=0, epochs=2, pool=4)]
    assert len(batches) == 2 * 13  # ceil(203 / 16) a epoch, as steps_per_epoch says
    for epoch in (batches[:13], batches[13:]):
        rows = np.concatenate([b[:, 0] for b in epoch]).astype(int)
        assert sorted(rows) == list(range(203))
        for b in epoch:  # each batch cut to its longest row, no sentence cut
            assert b.shape[1] == _lengths(b).max()
            np.testing.assert_array_equal(_lengths(b), lengths[b[:, 0].astype(int)])
    padded_cells = sum(b.size - _lengths(b).sum() for b in batches[:13])
    assert padded_cells < 0.25 * (203 * 30 - lengths.sum())  # a quarter of padding to the longest, or less
    assert [b[:, 0].tolist() for b in batches[:13]] != [b[:, 0].tolist() for b in batches[13:]]  # reshuffled
    resumed = [b.numpy() for b in length_bucketed_batches(x, 16, seed=3, first_epoch=1, epochs=2, pool=4)]
    assert all(np.array_equal(a, b) for a, b in zip(resumed, batches[13:]))  # epoch 1 depends on (seed, 1) only
    ordered = [b.numpy() for b in length_sorted_batches(x, 50)]
    assert np.all(np.diff(np.concatenate([_lengths(b) for b in ordered])) >= 0)
    assert sorted(np.concatenate([b[:, 0] for b in ordered]).astype(int)) == list(range(203))


def test_measure_does_not_depend_on_padding_or_order():
    model = tiny()
    x = padded(["the market fell", "shares of the company rose in trading", "the company rose in trading"])
    wide = np.concatenate([x, np.full((3, 9), PAD, np.float32)], axis=1)
    first = model.measure(x, num_samples=6, chunk_size=3, batch_size=2)
    second = model.measure(wide[::-1], num_samples=6, chunk_size=3, batch_size=2)  # lengths differ: one order
    for key in ("nll", "perplexity", "elbo", "kl", "mutual_information", "tokens", "sentences"):
        assert second[key] == pytest.approx(first[key], rel=1e-5)


def test_sentence_lm_scores_each_sentence_from_the_zero_state_as_its_steps_do():
    from zoo.models import SentenceLanguageModel
    model = SentenceLanguageModel(len(WORDS), embedding_dim=8, hidden_units=12, num_layers=1, vocabulary=WORDS)
    lines = ["the market fell", "shares of the company rose in trading"]
    x = padded(lines)
    by_steps = 0.0
    for row in x:  # log p of each token, one decoding step at a time from the zero state after <eos>
        state, token = model.initial_state(1), tf.constant([WORDS.ids["<eos>"]])
        for target in row[row > PAD].astype(int):
            logits, state = model.step(token, state)
            by_steps += float(tf.nn.log_softmax(logits)[0, target])
            token = tf.constant([target])
    wide = np.concatenate([x, np.full((2, 5), PAD, np.float32)], axis=1)
    metrics = model.measure(wide[::-1], batch_size=1)
    tokens = int((x > PAD).sum())
    assert metrics["sentences"] == 2 and metrics["tokens"] == tokens
    assert metrics["nll"] == pytest.approx(-by_steps / 2, rel=1e-5)
    assert metrics["perplexity"] == pytest.approx(np.exp(-by_steps / tokens), rel=1e-5)
    model.compile(optimizer="adam")
    assert model.evaluate(x, verbose=0) == pytest.approx(-by_steps / tokens, rel=1e-5)  # val_loss: nats per token


# === The toolkit ===
def test_word_dropout_rates():
    ids = tf.constant(np.arange(1, 2001).reshape(2, 1000), tf.int32)
    assert np.array_equal(word_dropout(ids, 0.0, tf.constant([1, 2])), ids)
    all_dropped = word_dropout(ids, 1.0, tf.constant([1, 2])).numpy()
    assert (all_dropped[:, 1:] == 0).all() and (all_dropped[:, 0] == ids.numpy()[:, 0]).all()  # inputless decoder
    half = word_dropout(ids, 0.3, tf.constant([1, 2])).numpy()
    assert 0.25 < (half[:, 1:] == 0).mean() < 0.35


def test_free_bits_by_hand():
    kl = tf.constant([[0.1, 2.0, 0.0], [0.3, 1.0, 0.0]])  # batch means 0.2, 1.5, 0.0
    assert float(free_bits_kl(kl, 0.0)) == pytest.approx(1.7)
    assert float(free_bits_kl(kl, 0.5)) == pytest.approx(0.5 + 1.5 + 0.5)
    assert float(free_bits_kl(kl, 0.5, "total")) == pytest.approx(1.7)
    assert float(free_bits_kl(kl, 3.0, "total")) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="free-bits mode"):
        free_bits_kl(kl, 1.0, "group")


def test_mutual_information_estimator_on_known_cases():
    """q(z|x) that ignores x: I = 0; two inputs, each half the batch, with far-apart posteriors: I = log 2."""
    import tensorflow_probability as tfp
    tfd = tfp.distributions
    same = tfd.Independent(tfd.Normal(tf.zeros([2000, 2]), tf.ones([2000, 2])), 1)
    assert abs(float(mutual_information(same, tf.constant([1, 2])))) < 0.01
    loc = tf.constant(np.array([[-50.0, 0.0], [50.0, 0.0]], np.float32)[np.arange(2000) % 2])
    apart = tfd.Independent(tfd.Normal(loc, tf.ones([2000, 2])), 1)
    assert float(mutual_information(apart, tf.constant([1, 2]))) == pytest.approx(np.log(2), abs=0.01)
    count, variance = active_units(np.stack([np.arange(5.0), np.full(5, 3.0), 0.01 * np.arange(5.0)], 1))
    assert int(count) == 1 and variance.numpy()[0] == pytest.approx(2.0)


# === The bound ===
def test_likelihood_is_the_sum_of_teacher_forced_token_log_probs():
    model = tiny()
    x = padded(["the market fell", "shares of the company rose in trading"])
    z = tf.constant(np.random.RandomState(0).normal(size=(2, 3)), tf.float32)
    got = model.likelihood(z).log_prob(x).numpy()
    for row in range(2):  # one sentence at a time, step by step through the decoding contract
        ids = x[row][x[row] > PAD].astype(int)
        state, token, total = (*model.initial_state(z[row:row + 1]), z[row:row + 1]), model.start_id, 0.0
        for target in ids:
            logits, state = model._step(tf.constant([token]), state)
            total += float(tf.nn.log_softmax(logits)[0, target])
            token = target
        assert got[row] == pytest.approx(total, rel=1e-4)
    samples = tf.stack([z, z + 1.0])  # (k, B, D): one call scores every sample
    np.testing.assert_allclose(model.likelihood(samples).log_prob(x)[0], got, rtol=1e-5)


def test_encoder_ignores_padding():
    model = tiny()
    short = padded(["the market fell"])
    longer = padded(["the market fell", "shares of the company rose in trading"])[:1]  # same sentence, more padding
    np.testing.assert_allclose(model(short)[0], model(longer)[0], rtol=1e-5, atol=1e-6)


def test_the_per_epoch_report_is_the_latent_models_and_the_set_figures_are_separate():
    """``diagnostics(batch)`` feeds the TensorBoard callback every epoch ({"scalars", "histograms"}, as every
    latent model's); ``set_figures`` (the test figures) must not shadow it. Their exact KL agrees."""
    model = tiny()
    x = padded(["the market fell", "a <unk> said the company is n't for sale", "shares rose"])
    report = model.diagnostics(model.trim_padding(tf.constant(x)))
    assert {"active_units", "active_units_variance", "mutual_information"} <= set(report["scalars"])
    assert report["histograms"]["kl_per_dimension"].shape == (model.latent_dim,)
    figures = model.set_figures(x, batch_size=2)
    assert figures["kl"] == pytest.approx(float(tf.reduce_sum(report["histograms"]["kl_per_dimension"])), rel=1e-5)


def test_trained_bound_applies_word_dropout_and_free_bits_but_reports_the_plain_elbo():
    x = padded(["the market fell", "a <unk> said the company is n't for sale"])
    plain, toolkit = tiny(), tiny(free_bits=5.0, word_dropout=0.5)
    toolkit.set_weights(plain.get_weights())
    seed = tf.constant([3, 4])
    posterior = plain.posterior(x)
    base = plain.objective_terms(x, posterior, seed, training=False)
    trained = toolkit.objective_terms(x, posterior, seed, training=True)
    assert float(tf.reduce_mean(trained["bound"])) == pytest.approx(
        float(tf.reduce_mean(trained["reconstruction"])) - 5.0 * 3, rel=1e-5)  # 3 dims, each under 5 nats
    assert np.allclose(trained["elbo"], trained["reconstruction"] - trained["kl"])
    assert not np.allclose(trained["reconstruction"], base["reconstruction"])  # the corrupted inputs count


def test_decoder_dropout_acts_in_training_only_and_is_inverted():
    """Dropout on the decoder's input embeddings and outputs changes the trained reconstruction, is driven by
    the step seed (same seed, same noise), leaves evaluation untouched, and is inverted dropout: averaged over
    seeds, the embeddings it feeds the LSTM keep their mean."""
    x = padded(["the market fell", "a <unk> said the company is n't for sale"])
    plain, dropped = tiny(), tiny(dropout=0.5)
    dropped.set_weights(plain.get_weights())
    posterior = plain.posterior(x)
    seed = tf.constant([3, 4])
    base = plain.objective_terms(x, posterior, seed, training=True)
    first = dropped.objective_terms(x, posterior, seed, training=True)
    again = dropped.objective_terms(x, posterior, seed, training=True)
    other = dropped.objective_terms(x, posterior, tf.constant([5, 6]), training=True)
    assert not np.allclose(first["reconstruction"], base["reconstruction"])
    np.testing.assert_array_equal(first["reconstruction"], again["reconstruction"])
    assert not np.allclose(first["reconstruction"], other["reconstruction"])
    evaluated = dropped.objective_terms(x, posterior, seed, training=False)
    np.testing.assert_allclose(evaluated["elbo"], plain.objective_terms(x, posterior, seed)["elbo"], rtol=1e-6)
    embedded = tf.ones([4000, 8])
    mean = np.mean([stateless_dropout(embedded, 0.5, tf.constant([s, 1]), 0).numpy().mean() for s in range(5)])
    assert mean == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ValueError, match="dropout must be in"):
        tiny(dropout=1.0)


def fitted(**toolkit):
    keras.utils.set_random_seed(0)
    model = tiny(**toolkit)
    x = padded([s.strip() for s in SENTENCES] * 8)
    model.compile(keras.optimizers.Adam(1e-2))
    history = model.fit(x, epochs=60, batch_size=16, verbose=0)
    return model, x, history.history


def test_the_toolkit_prevents_posterior_collapse():
    """Four sentences, a decoder strong enough to memorise them: the plain VAE collapses (KL ~ 0, every
    sentence decodes to the same one from its posterior mean); word dropout 0.3 with 0.5 free bits per
    dimension keeps z informative and each sentence comes back."""
    originals = [s.strip() for s in SENTENCES]
    plain, _, plain_history = fitted()
    assert plain_history["kl"][-1] < 0.05
    assert len(set(plain.reconstruct(originals))) == 1
    model, x, history = fitted(word_dropout=0.3, free_bits=0.5)
    assert history["kl"][-1] > 1.0 and history["loss"][-1] < 0.3 * history["loss"][0]
    assert model.reconstruct(originals) == originals
    path = model.homotopy(originals[0], originals[1], steps=3)
    assert len(path) == 5 and path[0] == originals[0] and path[-1] == originals[1]
    metrics = model.measure(x[:8], num_samples=64, chunk_size=32)
    assert metrics["nll"] <= -metrics["elbo"] + 1e-3 and metrics["tokens"] == int((x[:8] > PAD).sum())
    assert metrics["perplexity"] == pytest.approx(np.exp(metrics["nll"] * 8 / metrics["tokens"]), rel=1e-6)
    assert metrics["mutual_information"] > 0.5 and metrics["active_units"] >= 1
    assert plain.measure(x[:8], num_samples=8, chunk_size=8)["mutual_information"] < 0.05


def test_export_round_trip(tmp_path):
    model = tiny()
    model(padded(["the market fell"]))
    export_saved_model(model, tmp_path / "1")
    assert check_export(model, tmp_path / "1")
    loaded = tf.saved_model.load(str(tmp_path / "1"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="input z: must hold finite numbers"):
        loaded.signatures["decode"](z=tf.constant([[np.inf, 0.0, 0.0]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="input steps: must be an integer in"):
        loaded.signatures["interpolate"](first=tf.constant("the market"), second=tf.constant("shares"),
                                         steps=tf.constant(-1))
    clone = SentenceVAE.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(padded(["the market fell"]))[0], model(padded(["the market fell"]))[0])


def test_bad_configs():
    with pytest.raises(ValueError, match="word_dropout must be in"):
        tiny(word_dropout=1.5)
    with pytest.raises(ValueError, match="free_bits must be >= 0"):
        tiny(free_bits=-1.0)


def test_demo_prints_prior_samples_the_mean_and_samples_table_and_a_homotopy(tiny_data_dir, tmp_path, monkeypatch,
                                                                              capsys):
    from zoo.demo_sentences import main, test_sentences
    from zoo.training import load_recipe, train
    train(load_recipe("sentence_vae_ptb_bowman").shrink(), run_dir=tmp_path / "run", models_dir=tmp_path / "models",
          verbose=0)
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path / "models"))
    capsys.readouterr()
    main()
    out = capsys.readouterr().out
    sentences = test_sentences()
    assert len(sentences) == 3 and all(s in [t.strip() for t in SENTENCES] for s in sentences)  # read from the PTB test file
    assert out.count("INPUT") == 3 and out.count("MEAN") == 4 and out.count("SAMP. 2") == 4
    assert "from the prior" in out and "homotopy" in out and "sentence-vae-ptb-bowman: NLL" in out


@pytest.mark.parametrize("kind", ["vae", "lm"])
def test_measure_refuses_anything_but_a_nonempty_matrix_of_padded_sentences(kind):
    from zoo.models import SentenceLanguageModel
    model = tiny() if kind == "vae" else SentenceLanguageModel(len(WORDS), embedding_dim=8, hidden_units=12,
                                                               num_layers=1, vocabulary=WORDS)
    for bad in (np.zeros(5, np.float32), np.zeros((0, 4), np.float32)):
        with pytest.raises(ValueError, match=r"expected padded sentences \(N, L\), got shape"):
            model.measure(bad)
