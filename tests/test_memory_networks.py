"""bAbI loader, memory-network pieces, MemN2N / KV-MemNN / BiLSTM models and their ``answer`` signature."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.babi_fixture import write_tiny_babi
from zoo.data.babi import (BabiVocabulary, Example, load_babi, parse_file, read_story_file, vectorize)
from zoo.layers.memory import memory_attention, memory_mask, position_encoding, time_indices
from zoo.models import BiLSTMReader, KeyValueMemoryNetwork, MemN2N


# === Loader ===
def test_loader_round_trips_a_fixture_with_a_multi_word_answer(tmp_path):
    folder = write_tiny_babi(tmp_path)
    examples = parse_file(folder / "qa8_lists-sets_train.txt", task=8)
    assert len(examples) == 30 and examples[0].story[0][1:4] == ["went", "to", "the"]
    assert "," in examples[0].answer and examples[0].supporting == (1, 2)
    data = load_babi(tasks=[1, 8], data_dir=tmp_path)
    vocabulary, (stories, questions, answers, tasks) = data["vocabulary"], data["test"]
    assert vocabulary.tokens[0] == "<nil>" and examples[0].answer in vocabulary.ids  # one class, commas kept
    assert len(data["train"][0]) + len(data["valid"][0]) == 90 and len(data["valid"][0]) == 9  # 60 + 30, 10% of each
    test8 = parse_file(folder / "qa8_lists-sets_test.txt", task=8)
    first = int(np.flatnonzero(tasks == 8)[0])
    decoded = [" ".join(vocabulary.tokens[i] for i in row if i) for row in stories[first] if row.any()]
    assert decoded == [" ".join(s) for s in reversed(test8[0].story)]  # slot 0: the most recent statement
    assert vocabulary.tokens[answers[first]] == test8[0].answer
    question = " ".join(vocabulary.tokens[i] for i in questions[first] if i)
    assert question == "what is " + test8[0].question[2] + " carrying"


@pytest.mark.parametrize("line,problem", [
    ("x Mary moved to the hall.", "numeric ID"),
    ("1 Mary moved to the hall.\n3 John went to the hall.", "ID 3 follows ID 1"),
    ("1 Where is Mary?\thall\t1", "supporting facts"),
    ("1 Mary moved to the hall.\n2 Where is Mary?\thall", "3 tab-separated fields"),
    ("1 Mary moved to the hall.\n2 Where is Mary?\thall\t7", "supporting facts"),
])
def test_malformed_lines_name_file_and_line(tmp_path, line, problem):
    path = tmp_path / "qa1_bad.txt"
    path.write_text(line + "\n")
    bad_line = line.count("\n") + 1
    with pytest.raises(ValueError, match=f"qa1_bad.txt:{bad_line}: .*{problem}"):
        parse_file(path)


def test_story_file_rejects_question_lines(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("1 Mary moved to the hall.\n\n2 John went to the garden.\n")
    assert read_story_file(path) == ["Mary moved to the hall.", "John went to the garden."]
    path.write_text("1 Mary moved to the hall.\n2 Where is Mary?\thall\t1\n")
    with pytest.raises(ValueError, match="story.txt:2: a question line"):
        read_story_file(path)


# === Shared pieces ===
def test_position_encoding_equals_the_papers_formula():
    tokens = np.array([[4, 9, 2, 0, 0], [7, 0, 0, 0, 0]])
    d = 6
    got = position_encoding(tf.constant(tokens), d).numpy()
    for row, length in ((0, 3), (1, 1)):
        for j in range(1, 6):
            for k in range(1, d + 1):
                expected = (1 - j / length) - (k / d) * (1 - 2 * j / length) if j <= length else 0.0
                assert got[row, j - 1, k - 1] == pytest.approx(expected, abs=1e-6)


def test_temporal_encoding_reads_slot_i_as_i_statements_ago():
    vocabulary = BabiVocabulary(["<nil>", "a", "b", "c", "where", "x"])
    example = Example([["a"], ["b"], ["c"]], ["where", "x"], "a", (0,), 1, "-", 1)
    stories = vectorize([example], vocabulary, memory_size=5)[0]
    assert stories[0, :, 0].tolist() == [3, 2, 1, 0, 0]  # c (most recent), b, a, then empty slots
    mask = memory_mask(tf.constant(stories))
    assert time_indices(mask).numpy().tolist() == [[0, 1, 2, 3, 4]]
    noisy = time_indices(tf.ones([64, 50], tf.bool), noise=0.5, seed=tf.constant([1, 2]), limit=50).numpy()
    assert (np.diff(noisy, axis=1) >= 0).all() and (noisy >= np.minimum(np.arange(50), 49)).all()
    assert noisy.max() == 49 and (noisy > np.arange(50)).any()  # empties shift older statements back


def test_attention_sums_to_one_over_real_memories_and_padding_gets_none():
    vocabulary_size, rng = 30, np.random.RandomState(0)
    stories = rng.randint(1, vocabulary_size, size=(6, 8, 4))
    for i, real in enumerate([1, 2, 3, 5, 8, 0]):
        stories[i, real:] = 0
    questions = rng.randint(1, vocabulary_size, size=(6, 3))
    for model in (MemN2N(vocabulary_size, memory_size=8, embedding_dim=5, linear_start=False, seed=0),
                  MemN2N(vocabulary_size, memory_size=8, embedding_dim=5, tying="layerwise", linear_start=False),
                  KeyValueMemoryNetwork(vocabulary_size, memory_size=8, embedding_dim=5, seed=0)):
        attention = model.answer_logits(tf.constant(stories), tf.constant(questions))[1].numpy()  # (B, hops, M)
        real = (stories != 0).any(-1)
        np.testing.assert_allclose(attention.sum(-1)[:5], 1.0, rtol=1e-5)
        assert (attention[~np.broadcast_to(real[:, None, :], attention.shape)] == 0).all()
        assert (attention[5] == 0).all()  # a story with no statement: no attention anywhere
    scores = tf.constant([[2.0, -1.0, 5.0]])
    linear = memory_attention(scores, tf.constant([[True, True, False]]), linear=1.0).numpy()
    assert linear.tolist() == [[2.0, -1.0, 0.0]]  # linear start: raw scores of the real slots


def where_is_x(n, rng, people=6, places=6, statements=4):
    """A synthetic 1-hop task: `statements` people (all different) each go to a place; "where is P?"."""
    examples = []
    for _ in range(n):
        who = rng.choice(people, size=statements, replace=False)
        where = rng.randint(places, size=statements)
        story = [[f"p{w}", "went", "to", f"l{p}"] for w, p in zip(who, where)]
        asked = rng.randint(statements)
        examples.append(Example(story, ["where", "is", f"p{who[asked]}"], f"l{where[asked]}", (asked,), 1, "-", 1))
    return examples


def test_one_hop_memn2n_solves_where_is_x():
    rng = np.random.RandomState(0)
    train, test = where_is_x(1500, rng), where_is_x(200, rng)
    vocabulary = BabiVocabulary.from_examples(train)
    data, held = vectorize(train, vocabulary, memory_size=4), vectorize(test, vocabulary, memory_size=4)
    keras.utils.set_random_seed(0)
    model = MemN2N(len(vocabulary), memory_size=4, embedding_dim=20, hops=1, linear_start=False, random_noise=0.0,
                   lr_halve_every=None, vocabulary=vocabulary, loss_reduction="mean", seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    model.fit(tf.data.Dataset.from_tensor_slices(data).batch(32), epochs=8, verbose=0)
    assert model.measure(held)["mean_error"] == 0.0
    attention = model.answer_logits(tf.constant(held[0][:50]), tf.constant(held[1][:50]))[1].numpy()[:, 0]
    support = np.array([len(ex.story) - 1 - ex.supporting[0] for ex in test[:50]])  # slot of the supporting fact
    assert (attention.argmax(-1) == support).mean() >= 0.95


# === The answer function and its export ===
@pytest.fixture(scope="module")
def small_model():
    rng = np.random.RandomState(1)
    examples = where_is_x(20, rng)
    vocabulary = BabiVocabulary.from_examples(examples)
    model = MemN2N(len(vocabulary), memory_size=3, embedding_dim=8, hops=2, linear_start=False, vocabulary=vocabulary,
                   seed=0)
    return model


def test_answer_matches_the_keras_model_and_keeps_the_last_memories(small_model):
    story = ["p1 went to l2", "p2 went to l3.", "P3 went to l0.", "p4 went to l5"]
    out = small_model.answer(story, "Where is p2?")
    stories, questions = small_model.story_inputs(story, "Where is p2?")
    logits, attention = small_model.answer_logits(tf.constant(stories), tf.constant(questions))
    probs = tf.nn.softmax(logits[0]).numpy()
    assert out["answer"] == small_model.vocabulary.tokens[probs.argmax()]
    assert out["probability"] == pytest.approx(probs.max(), rel=1e-5)
    assert out["attention"].shape == (2, 4) and (out["attention"][:, 0] == 0).all()  # oldest: beyond memory_size 3
    np.testing.assert_allclose(out["attention"][:, 1:], attention.numpy()[0, :, :3][:, ::-1], rtol=1e-5)
    assert out["unknown_words"] == 0


def test_bad_stories_have_documented_behaviour(small_model):
    with pytest.raises(ValueError, match="at least one statement"):
        small_model.answer([], "Where is p1?")  # a question before any fact
    with pytest.raises(ValueError, match="no words"):
        small_model.answer(["p1 went to l2"], " ?")
    with pytest.raises(tf.errors.InvalidArgumentError, match="input 'story'"):
        small_model.answer_graph(tf.constant([], tf.string), tf.constant("Where is p1?"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="input 'question'"):
        small_model.answer_graph(tf.constant(["p1 went to l2"]), tf.constant("?"))
    known = small_model.answer(["p1 went to l2"], "Where is p1?")
    unknown = small_model.answer(["p1 zebra went to l2"], "Where is p1 quickly?")  # unknown words are dropped
    assert unknown["unknown_words"] == 2 and unknown["answer"] == known["answer"]
    assert unknown["probability"] == pytest.approx(known["probability"], rel=1e-5)


def test_exported_answer_equals_the_keras_model(small_model, tmp_path):
    from zoo.export import export_saved_model
    export_saved_model(small_model, tmp_path / "1")
    serving = tf.saved_model.load(str(tmp_path / "1")).signatures["answer"]
    story = ["p1 went to l2", "p5 went to l3", "p2 went to l1"]
    got = serving(story=tf.constant(story), question=tf.constant("where is p5"))
    want = small_model.answer(story, "where is p5")
    assert got["answer"].numpy().decode() == want["answer"]
    assert float(got["probability"]) == pytest.approx(want["probability"], rel=1e-5)
    np.testing.assert_allclose(got["attention"].numpy(), want["attention"], rtol=1e-5, atol=1e-7)
    with pytest.raises(tf.errors.InvalidArgumentError, match="story.* must hold at least one statement"):
        serving(story=tf.constant([], tf.string), question=tf.constant("where is p5"))


@pytest.mark.parametrize("cls", [MemN2N, KeyValueMemoryNetwork, BiLSTMReader])
def test_models_round_trip_their_config(cls, small_model):
    model = cls(small_model.vocab_size, memory_size=3, embedding_dim=4, vocabulary=small_model.vocabulary, seed=1)
    clone = cls.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    story = ["p1 went to l2", "p2 went to l3"]
    a, b = clone.answer(story, "where is p1"), model.answer(story, "where is p1")
    assert a["answer"] == b["answer"] and a["probability"] == pytest.approx(b["probability"], rel=1e-5)
    assert ("attention" in a) == cls.has_attention


def test_cli_answers_from_a_published_model(small_model, tmp_path, monkeypatch, capsys):
    from zoo.cli import main
    from zoo.training.artifact import publish

    example = tuple(tf.constant(a) for a in small_model.story_inputs(["p1 went to l2"], "where is p1"))
    publish(small_model, example, {"name": "tiny-babi", "metrics": {}}, folder=tmp_path / "models" / "tiny-babi")
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path / "models"))
    story = tmp_path / "story.txt"
    story.write_text("1 p1 went to l2.\n2 p2 went to l3.\n")
    assert main(["answer", "tiny-babi", "--story", str(story), "--question", "Where is p2?"]) == 0
    printed = capsys.readouterr().out
    want = small_model.answer(["p1 went to l2.", "p2 went to l3."], "Where is p2?")
    assert f"answer:   {want['answer']}" in printed and "hop 2" in printed and "2 p2 went to l3." in printed
    story.write_text("1 p1 went to l2.\n2 Where is p1?\tl2\t1\n")
    assert main(["answer", "tiny-babi", "--story", str(story), "--question", "Where is p1?"]) != 0
    assert "story.txt:2: a question line" in capsys.readouterr().err
