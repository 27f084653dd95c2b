"""Skip-gram with negative sampling: the pairs, subsampling and window have their stated distributions; training
brings co-occurring words together; the similarity evaluation and the exports hold to numpy."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data.skipgram import corpus_from_lines, epoch_pairs, keep_probabilities, skipgram_dataset
from zoo.export import check_export, export_saved_model
from zoo.models import SkipGram
from zoo.models.skipgram import spearman


def test_pairs_respect_sentences_and_the_dynamic_window():
    corpus = corpus_from_lines(["a b c d e", "f g"])
    ids, sentence = corpus["train"], corpus["sentence"]
    keep = tf.ones(len(corpus["vocabulary"]))
    counts = {}
    for epoch in range(400):
        centres, contexts = epoch_pairs(tf.constant(ids), tf.constant(sentence), keep, 2, 0, epoch)
        for c, x in zip(centres.numpy(), contexts.numpy()):
            counts[(c, x)] = counts.get((c, x), 0) + 1
    word = corpus["vocabulary"].ids
    assert (word["e"], word["f"]) not in counts and (word["f"], word["e"]) not in counts  # never across sentences
    assert (word["a"], word["d"]) not in counts  # never beyond the window
    # distance 1 is always inside the reach, distance 2 half the time (reach uniform on {1, 2})
    assert counts[(word["a"], word["b"])] == 400
    assert counts[(word["a"], word["c"])] / 400 == pytest.approx(0.5, abs=0.08)


def test_subsampling_keeps_tokens_with_word2vec_probability():
    counts = np.array([0, 0, 900, 90, 9, 1], np.float64)
    keep = keep_probabilities(counts, 1e-2)
    f = counts[2:] / counts.sum()
    np.testing.assert_allclose(keep[2:], np.minimum(1.0, (np.sqrt(f / 1e-2) + 1) * 1e-2 / f), rtol=1e-6)
    assert keep[5] == 1.0 and keep[2] < 0.2 and keep[0] == 0.0
    corpus = corpus_from_lines(["x " * 900 + "y " * 90 + "z " * 9 + "w"])
    data = skipgram_dataset(corpus, batch_size=1, window=1, subsample=1e-2, seed=0)
    assert next(iter(data))[0].shape == (1,)
    kept_x = np.mean([np.sum(np.asarray(epoch_pairs(tf.constant(corpus["train"]), tf.constant(corpus["sentence"]),
                                                    tf.constant(keep_probabilities(corpus["counts"], 1e-2)), 1, 0,
                                                    e)[0]) == corpus["vocabulary"].ids["x"]) for e in range(20)])
    # the window runs over the kept tokens (as word2vec's): the ~900 p kept x stand side by side, so window 1
    # pairs each with the next, both ways
    expected = 2 * (900 * keep_probabilities(corpus["counts"], 1e-2)[corpus["vocabulary"].ids["x"]] - 1)
    assert kept_x == pytest.approx(expected, rel=0.1)


def test_training_brings_co_occurring_words_together(tmp_path):
    lines = ["cat dog pet fur", "dog cat fur pet", "stock bond market price", "bond stock price market"] * 50
    corpus = corpus_from_lines(lines)
    keras.utils.set_random_seed(0)
    model = SkipGram(len(corpus["vocabulary"]), dim=8, negatives=3, counts=corpus["counts"],
                     vocabulary=corpus["vocabulary"], seed=0)
    model.compile(keras.optimizers.Adam(0.05))
    data = skipgram_dataset(corpus, batch_size=64, window=2, subsample=0.0, seed=0, epochs=5)
    before = model.measure(corpus, window=2)["pair_loss"]
    model.fit(data, epochs=5, steps_per_epoch=40, verbose=0)
    assert model.measure(corpus, window=2)["pair_loss"] < 0.7 * before
    pets, money = ["cat", "dog", "pet", "fur"], ["stock", "bond", "market", "price"]
    near = model.neighbours(tf.constant(["cat", "stock", "nope"]), k=3)
    assert near["words"].numpy()[0][0].decode() in pets and near["words"].numpy()[1][0].decode() in money
    assert near["known"].numpy().tolist() == [True, True, False] and near["words"].numpy()[2].tolist() == [b""] * 3
    vectors = model.vectors().numpy()
    ids = corpus["vocabulary"].ids
    a, b = vectors[[ids[w] for w in pets]], vectors[[ids[w] for w in money]]
    within = (np.sum(a @ a.T) - 4 + np.sum(b @ b.T) - 4) / 24
    assert within > np.mean(a @ b.T) + 0.15  # the two topics' words lie apart (measured 0.33 against 0.09)
    sim = model.similarity(tf.constant(["cat"]), tf.constant(["bond"]))
    assert float(sim["cosine"][0]) == pytest.approx(vectors[ids["cat"]] @ vectors[ids["bond"]], abs=1e-5)
    pairs = [("cat", "dog", 9.0), ("cat", "stock", 1.0), ("bond", "price", 8.0), ("fur", "market", 2.0),
             ("cat", "zebra", 5.0)]
    result = model.similarity_correlation(pairs)
    cosines = [vectors[ids[x]] @ vectors[ids[y]] for x, y, _ in pairs[:4]]
    assert result["pairs_used"] == 4 and result["out_of_vocabulary_share"] == pytest.approx(0.2)
    assert result["spearman"] == pytest.approx(spearman([9.0, 1.0, 8.0, 2.0], cosines), abs=1e-6)
    assert result["spearman"] > 0  # within-topic pairs score higher
    export_saved_model(model, tmp_path / "1")
    assert check_export(model, tmp_path / "1")
    path = model.save_word2vec(tmp_path / "vectors.txt")
    header, first = path.read_text().splitlines()[:2]
    assert header == f"{len(corpus['vocabulary'])} 8" and first.split()[0] == "<unk>"


def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(np.corrcoef([0, 1.5, 1.5, 3], [0, 1, 2, 3])[0, 1])


def test_bad_input():
    with pytest.raises(ValueError, match="the corpus has no words"):
        corpus_from_lines(["", "   "])
    with pytest.raises(ValueError, match="window must be >= 1"):
        skipgram_dataset(corpus_from_lines(["a b"]), 2, window=0)


def test_batches_are_each_epochs_pairs_in_order_and_epochs_never_mix():
    corpus = corpus_from_lines(["a b c d e f g h", "i j k l m"] * 5)
    keep = tf.constant(keep_probabilities(corpus["counts"], 0.0))
    data = iter(skipgram_dataset(corpus, batch_size=7, window=2, subsample=0.0, seed=3, epochs=2))
    for epoch in range(2):
        centres, contexts = (p.numpy() for p in epoch_pairs(tf.constant(corpus["train"]),
                                                            tf.constant(corpus["sentence"]), keep, 2, 3, epoch))
        whole = len(centres) // 7 * 7
        batches = [next(data) for _ in range(whole // 7)]  # the partial last batch of the epoch is dropped
        np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), centres[:whole])
        np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), contexts[:whole])


def test_analogies_by_3cosadd_against_numpy():
    corpus = corpus_from_lines(["a b c d e f g"])
    model = SkipGram(len(corpus["vocabulary"]), dim=3, negatives=2, counts=corpus["counts"],
                     vocabulary=corpus["vocabulary"], seed=0)
    ids = corpus["vocabulary"].ids
    vectors = np.random.RandomState(1).normal(size=(len(corpus["vocabulary"]), 3)).astype(np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[ids["d"]] = unit[ids["b"]] - unit[ids["a"]] + unit[ids["c"]]  # the first analogy holds exactly
    model.embedding.embeddings.assign(vectors)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    seen = corpus["counts"] > 0
    questions = [("a", "b", "c", "d"), ("b", "c", "d", "e"), ("e", "f", "g", "a"), ("a", "b", "zebra", "c")]
    expected = []
    for q in questions[:3]:
        i = [ids[w] for w in q]
        score = unit @ (unit[i[1]] - unit[i[0]] + unit[i[2]])
        score[[i[0], i[1], i[2]]] = -np.inf
        score[~seen] = -np.inf  # <unk> and <eos> never occur in this corpus
        expected.append(np.argmax(score) == i[3])
    assert expected[0] and not all(expected)
    result = model.analogy_accuracy(questions)
    assert result["questions_used"] == 3 and result["out_of_vocabulary_share"] == pytest.approx(0.25)
    assert result["accuracy"] == pytest.approx(np.mean(expected))
    with pytest.raises(ValueError, match="none of the 1 analogy questions"):
        model.analogy_accuracy([("zebra", "a", "b", "c")])
