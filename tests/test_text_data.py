"""Text loaders, vocabularies, tokenisation (tensorflow-text in training, core ops in serving) and TBPTT streams."""
import numpy as np
import pytest
import tensorflow as tf

from zoo.data.streams import stream_batches, stream_rows, stream_steps
from zoo.data.text import Vocabulary, load_char_text, load_ptb, read_utf8, split_words, tokenize

TEXT = "To be, or not to be:\nthat is the question.\n"


def test_character_vocabulary_starts_with_unk_and_round_trips():
    vocabulary = Vocabulary.from_text(TEXT, "char")
    assert vocabulary.tokens[0] == "<unk>" and vocabulary.boundary == "\n"
    assert vocabulary.tokens[1:] == sorted(set(TEXT))
    ids = vocabulary.encode("to be")
    assert vocabulary.decode(ids) == "to be"
    assert vocabulary.encode("Z#")[0] == 0 and vocabulary.encode("Z#")[1] == 0  # unknown characters


def test_word_vocabulary_is_ordered_by_frequency_with_eos_per_line():
    text = " b a a \n c a b \n"
    assert split_words(text) == ["b", "a", "a", "<eos>", "c", "a", "b", "<eos>"]
    vocabulary = Vocabulary.from_text(text, "word")
    assert vocabulary.tokens == ["<unk>", "a", "<eos>", "b", "c"]
    assert list(vocabulary.encode("a zebra c")) == [1, 0, 4]


@pytest.mark.parametrize("level", ["char", "word"])
def test_tensorflow_text_and_core_op_tokenisers_agree(level):
    text = TEXT + "Ünïcode wörds and an unseen ~ sign\n"
    vocabulary = Vocabulary.from_text(TEXT, level)
    training_ids = tokenize(text, vocabulary)  # tensorflow-text inside tf.data
    table = vocabulary.lookup_table()
    lines = text.splitlines(keepends=True) if level == "char" else [line for line in text.split("\n") if line]
    serving_ids = [vocabulary.graph_tokenize(tf.constant(line), table).numpy() for line in lines]
    if level == "word":
        serving_ids = [np.append(ids, vocabulary.boundary_id) for ids in serving_ids]
    np.testing.assert_array_equal(training_ids, np.concatenate(serving_ids))
    python_ids = vocabulary.encode(text) if level == "char" else vocabulary.encode(" <eos> ".join(lines) + " <eos>")
    np.testing.assert_array_equal(training_ids, python_ids)
    assert (training_ids == 0).sum() > 0  # the unseen characters / words became <unk>


def test_non_utf8_file_names_file_line_and_column(tmp_path):
    path = tmp_path / "input.txt"
    path.write_bytes(b"first line\nsecond \xff line\n")
    with pytest.raises(ValueError, match=r"input.txt:2:8: not UTF-8"):
        read_utf8(path)


def test_bad_vocabularies_are_refused():
    with pytest.raises(ValueError, match="starts with '<unk>'"):
        Vocabulary(["a", "\n"], "char")
    with pytest.raises(ValueError, match="repeated"):
        Vocabulary(["<unk>", "a", "a", "\n"], "char")
    with pytest.raises(ValueError, match="boundary"):
        Vocabulary(["<unk>", "a"], "char")


def test_loaders_read_the_fixture_corpora(tiny_data_dir):
    chars = load_char_text(train_chars=3600)
    assert len(chars["train"]) == 3600 and len(chars["valid"]) == 4260 - 3600
    assert chars["test"] is chars["valid"]
    assert chars["vocabulary"].decode(chars["train"][:14]) == "FIRST CITIZEN:"
    ptb = load_ptb()
    vocabulary = ptb["vocabulary"]
    assert "<unk>" in vocabulary.ids and ptb["train"][-1] == vocabulary.boundary_id
    assert (ptb["valid"] == vocabulary.boundary_id).sum() == 20  # one <eos> per line


def test_a_char_split_must_leave_validation_text(tiny_data_dir):
    with pytest.raises(ValueError, match="train_chars"):
        load_char_text(train_chars=10 ** 7)


def test_stream_windows_continue_each_row():
    ids = np.arange(1003)
    rows = stream_rows(ids, 4)
    assert rows.shape == (4, 250) and rows[1, 0] == 250
    batches = list(stream_batches(ids, 4, 30, epochs=2))
    steps = stream_steps(len(ids), 4, 30)
    assert len(batches) == 2 * steps and steps == 9  # 249 targets per row: 8 full windows and one of 9
    for (x0, y0), (x1, _) in zip(batches[:steps - 1], batches[1:steps]):
        np.testing.assert_array_equal(x0.numpy()[:, 1:], y0.numpy()[:, :-1])  # targets are inputs shifted by one
        np.testing.assert_array_equal(x1.numpy()[:, 0], y0.numpy()[:, -1])  # the next window goes on from there
    assert batches[steps - 1][0].shape == (4, 9)
    np.testing.assert_array_equal(batches[0][0], batches[steps][0])  # every epoch reads the same windows


def test_a_stream_too_short_for_its_rows_is_refused():
    with pytest.raises(ValueError, match="too short"):
        stream_rows(np.arange(5), 4)
