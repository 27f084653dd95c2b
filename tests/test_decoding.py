"""Decoders against fake models whose best sequences are known by construction or by brute force."""
import importlib
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.decoding import (DECODERS, HEURISTICS, all_contexts, astar, beam_search, context_index, decode,
                          filter_top_k, filter_top_p, gather_state, gnmt_length_penalty, greedy, lookahead_heuristic,
                          min_transition_heuristic, sample, tile_state, transition_table, viterbi)

NEG_INF = -np.inf
TOL = {"rtol": 1e-5, "atol": 1e-5}


# ---------------------------------------------------------------------------------------------- fake models

def np_log_softmax(x):
    x = np.asarray(x, np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def log_table(probs):
    """Rows of probabilities -> float32 log-prob table (already normalised, so log-softmax is the identity)."""
    probs = np.asarray(probs, np.float64)
    return np.log(probs / probs.sum(axis=-1, keepdims=True)).astype(np.float32)


class Markov:
    """Order-1 model: logits of the next token = table[previous token]; the state is carried but unused."""

    def __init__(self, table):
        self.table = np.asarray(table, np.float32)
        self.log_probs = np_log_softmax(self.table)

    def step_fn(self, tokens, state):
        return tf.gather(tf.constant(self.table), tokens), state

    def next_log_probs(self, history):
        return self.log_probs[history[-1]]


class HashHistory:
    """A non-Markov model: the state is a running hash of the whole history (plus a float counter), and the
    logits are table[hash]. The step ignores ``tokens`` except to update the hash, so a beam search that
    gathers the state from the wrong parent reports scores that do not match the returned tokens."""

    buckets = 97

    def __init__(self, vocab, seed):
        self.table = np.random.RandomState(seed).randn(self.buckets, vocab).astype(np.float32) * 1.5
        self.log_probs = np_log_softmax(self.table)

    def initial_state(self, start_hashes):
        start_hashes = np.asarray(start_hashes, np.int32)
        return {"hash": start_hashes, "steps": np.zeros((len(start_hashes), 2), np.float32)}

    def step_fn(self, tokens, state):
        h = (state["hash"] * 7 + tokens + 1) % self.buckets
        return tf.gather(tf.constant(self.table), h), {"hash": h, "steps": state["steps"] + 1.0}

    def sequence_log_probs(self, start_hash, start_token, seq):
        h, prev, out = start_hash, start_token, []
        for tok in seq:
            h = (h * 7 + prev + 1) % self.buckets
            out.append(self.log_probs[h][tok])
            prev = tok
        return np.array(out)


def brute_force(log_probs_of, vocab, length, eos_id=None, alpha=0.0):
    """Every distinct hypothesis (cut after its first EOS, padded with EOS) with raw and GNMT-penalised score,
    best first. ``log_probs_of(seq)`` -> per-token log-probs of a full-length sequence."""
    seen = {}
    for seq in itertools.product(range(vocab), repeat=length):
        n = length
        if eos_id is not None and eos_id in seq:
            n = seq.index(eos_id) + 1
            seq = seq[:n] + (eos_id,) * (length - n)
        if seq not in seen:
            raw = float(np.sum(log_probs_of(seq)[:n]))
            seen[seq] = (raw / ((5.0 + n) / 6.0) ** alpha, raw, n)
    return sorted(seen.items(), key=lambda item: -item[1][0])


def markov_log_probs(table, start_context, order):
    """Per-token log-probs of a sequence under an order-d table (rows indexed oldest token first)."""
    vocab = table.shape[-1]

    def log_probs_of(seq):
        history, out = list(start_context), []
        for tok in seq:
            ctx = sum(c * vocab ** (order - 1 - i) for i, c in enumerate(history[-order:]))
            out.append(table[ctx][tok])
            history.append(tok)
        return np.array(out, np.float64)
    return log_probs_of


def random_table(vocab, order, seed, scale=1.0):
    rng = np.random.RandomState(seed)
    return np_log_softmax(rng.randn(vocab ** order, vocab) * scale).astype(np.float32)


def assert_same_nest(a, b):
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def eager_and_graph(fn):
    """Runs ``fn`` eagerly and as a tf.function; asserts identical outputs and returns the eager ones."""
    eager = fn()
    assert_same_nest(eager, tf.function(fn)())
    return eager


# ---------------------------------------------------------------------------------------------- state helpers

def test_tile_and_gather_state_nest():
    state = {"h": tf.constant([[1.0, 2.0], [3.0, 4.0]]), "n": (tf.constant([5, 6]),)}
    tiled = tile_state(state, 3)
    np.testing.assert_array_equal(tiled["n"][0], [5, 5, 5, 6, 6, 6])
    np.testing.assert_array_equal(tiled["h"][:, 0], [1, 1, 1, 3, 3, 3])
    picked = gather_state(tiled, tf.constant([5, 0]))
    np.testing.assert_array_equal(picked["h"], [[3, 4], [1, 2]])
    np.testing.assert_array_equal(picked["n"][0], [6, 5])
    np.testing.assert_allclose(gnmt_length_penalty(tf.constant([1, 7]), 2.0), [1.0, 4.0])
    np.testing.assert_allclose(gnmt_length_penalty(tf.constant([1, 7]), 0.0), [1.0, 1.0])


# ---------------------------------------------------------------------------------------------- greedy

def test_greedy_is_the_argmax_chain_with_numpy_log_probs():
    model = Markov(np.random.RandomState(0).randn(6, 6) * 2)
    starts = [0, 3, 5]
    out = eager_and_graph(lambda: greedy(model.step_fn, tf.constant(starts), (), 7))
    for row, prev in enumerate(starts):
        for t in range(7):
            tok = int(np.argmax(model.table[prev]))
            assert out.tokens[row, t] == tok
            np.testing.assert_allclose(out.log_probs[row, t], model.log_probs[prev, tok], **TOL)
            prev = tok
    np.testing.assert_array_equal(out.lengths, [7, 7, 7])


def test_greedy_freezes_rows_after_eos():
    eos = 0
    probs = np.full((4, 4), 0.02)
    probs[0, 1] = probs[1, 2] = probs[2, 3] = probs[3, eos] = 0.9    # 1 -> 2 -> 3 -> EOS; EOS would go on to 1
    model = Markov(log_table(probs))
    out = eager_and_graph(lambda: greedy(model.step_fn, tf.constant([1, 2, 3]), (), 6, eos_id=eos))
    np.testing.assert_array_equal(out.tokens, [[2, 3, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(out.lengths, [3, 2, 1])
    expected = np.zeros((3, 6))
    expected[0, :3] = [model.log_probs[1, 2], model.log_probs[2, 3], model.log_probs[3, 0]]
    expected[1, :2] = [model.log_probs[2, 3], model.log_probs[3, 0]]
    expected[2, 0] = model.log_probs[3, 0]
    np.testing.assert_allclose(out.log_probs, expected, **TOL)
    unfrozen = greedy(model.step_fn, tf.constant([3]), (), 3)              # without eos_id EOS is just a token
    np.testing.assert_array_equal(unfrozen.tokens, [[0, 1, 2]])


def test_greedy_stops_at_the_step_limit_with_padding():
    """Issue 18: ``limit`` (a serving request's max_tokens) stops the loop after min(T, limit) steps; later columns
    are padding with log-prob 0 and lengths count the generated tokens only; with or without eos_id."""
    model = Markov(np.random.RandomState(0).randn(6, 6) * 2)
    full = greedy(model.step_fn, tf.constant([0, 3]), (), 7)
    for eos_id, pad in ((None, 0), (5, 5)):
        limited = eager_and_graph(lambda: greedy(model.step_fn, tf.constant([0, 3]), (), 7, eos_id=eos_id,
                                                 limit=tf.constant(3)))
        reference = greedy(model.step_fn, tf.constant([0, 3]), (), 3, eos_id=eos_id)
        np.testing.assert_array_equal(limited.tokens[:, :3], reference.tokens)
        np.testing.assert_array_equal(limited.tokens[:, 3:], np.full((2, 4), pad))
        np.testing.assert_allclose(limited.log_probs[:, :3], reference.log_probs, **TOL)
        np.testing.assert_array_equal(limited.log_probs[:, 3:], np.zeros((2, 4)))
        np.testing.assert_array_equal(limited.lengths, reference.lengths)
    np.testing.assert_array_equal(greedy(model.step_fn, tf.constant([0, 3]), (), 7, limit=tf.constant(10)).tokens,
                                  full.tokens)


# ---------------------------------------------------------------------------------------------- filters

def test_filter_top_k_exact():
    logits = tf.constant([[1.0, 3.0, 2.0, 3.0, 0.0], [2.0, 2.0, 2.0, 1.0, 5.0]])
    kept = lambda x: np.isfinite(x.numpy())  # noqa: E731
    np.testing.assert_array_equal(kept(filter_top_k(logits, 2)), [[0, 1, 0, 1, 0], [1, 0, 0, 0, 1]])
    np.testing.assert_array_equal(kept(filter_top_k(logits, 3)), [[0, 1, 1, 1, 0], [1, 1, 0, 0, 1]])
    np.testing.assert_array_equal(filter_top_k(logits, 0), logits)
    np.testing.assert_array_equal(filter_top_k(logits, 5), logits)
    np.testing.assert_array_equal(filter_top_k(logits, tf.constant(1)).numpy()[:, [1, 4]], [[3.0, NEG_INF],
                                                                                             [NEG_INF, 5.0]])
    np.testing.assert_array_equal(filter_top_k(logits, 2).numpy()[0, [1, 3]], [3.0, 3.0])   # values untouched


@pytest.mark.parametrize("p, expected", [(1e-9, [0, 1, 0, 0]), (0.45, [0, 1, 0, 0]), (0.7, [0, 1, 0, 1]),
                                         (0.81, [1, 1, 0, 1]), (0.96, [1, 1, 1, 1]), (1.0, [1, 1, 1, 1])])
def test_filter_top_p_keeps_smallest_set_reaching_p(p, expected):
    logits = tf.math.log(tf.constant([[0.15, 0.5, 0.05, 0.3]]))
    np.testing.assert_array_equal(np.isfinite(filter_top_p(logits, p).numpy()[0]), expected)
    np.testing.assert_array_equal(np.isfinite(filter_top_p(logits, tf.constant(p)).numpy()[0]), expected)


def test_filter_top_p_ties_and_batches():
    logits = tf.constant([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 9.0]])
    np.testing.assert_array_equal(np.isfinite(filter_top_p(logits, 0.3).numpy()), [[1, 1, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(filter_top_p(logits, 0.3).numpy()[1, 3], 9.0)


# ---------------------------------------------------------------------------------------------- sampling

def test_sample_same_seed_same_tokens_eagerly_and_in_graph():
    model = Markov(np.random.RandomState(1).randn(8, 8) * 0.3)
    starts = tf.constant(np.arange(8) % 8, tf.int32)
    graph = tf.function(lambda seed, temp: sample(model.step_fn, starts, (), 10, seed, temperature=temp, top_p=0.9))
    eager = sample(model.step_fn, starts, (), 10, 7, temperature=0.8, top_p=0.9)
    assert_same_nest(eager, graph(tf.constant(7), tf.constant(0.8)))
    assert_same_nest(eager, sample(model.step_fn, starts, (), 10, tf.constant([7, 0]), temperature=0.8, top_p=0.9))
    other = graph(tf.constant(8), tf.constant(0.8))
    assert not np.array_equal(eager.tokens, other.tokens)
    expected = model.log_probs[np.concatenate([starts.numpy()[:, None], eager.tokens.numpy()[:, :-1]], axis=1),
                               eager.tokens.numpy()]
    np.testing.assert_allclose(eager.log_probs, expected, **TOL)   # unfiltered, temperature-1 log-probs


def test_sample_with_top_k_1_or_tiny_top_p_is_greedy():
    eos = 0
    model = Markov(np.random.RandomState(2).randn(7, 7) * 2)
    starts = tf.constant([1, 2, 3, 4, 5, 6])
    reference = greedy(model.step_fn, starts, (), 9, eos_id=eos)
    assert_same_nest(reference, sample(model.step_fn, starts, (), 9, 3, temperature=2.5, top_k=1, eos_id=eos))
    assert_same_nest(reference, eager_and_graph(
        lambda: sample(model.step_fn, starts, (), 9, 4, temperature=tf.constant(3.0), top_p=1e-6, eos_id=eos)))


@pytest.mark.parametrize("temperature, top_k, top_p", [(1.0, 0, 1.0), (1.0, 3, 1.0), (2.0, 0, 0.8), (0.7, 4, 0.9)])
def test_sample_frequencies_match_filtered_distribution(temperature, top_k, top_p):
    probs = np.array([0.05, 0.4, 0.1, 0.3, 0.15])
    logits = np.log(probs).astype(np.float32)
    model = Markov(np.tile(logits, (5, 1)))
    n = 4000
    out = sample(model.step_fn, tf.zeros([n], tf.int32), (), 1, 11, temperature, top_k, top_p)
    counts = np.bincount(out.tokens.numpy()[:, 0], minlength=5)
    scaled = np.exp(np_log_softmax(logits / temperature))
    order = np.argsort(-scaled, kind="stable")
    keep = np.zeros(5, bool)
    mass = 0.0
    for rank, tok in enumerate(order):
        if (top_k == 0 or rank < top_k) and (rank == 0 or mass < top_p):
            keep[tok] = True
        mass += scaled[tok]
    expected = n * np.where(keep, scaled, 0.0) / scaled[keep].sum()
    assert counts[~keep].sum() == 0
    chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert chi2 < 25.0, (counts, expected)          # ~1e-4 tail for <= 4 degrees of freedom


# ---------------------------------------------------------------------------------------------- beam search

def test_beam_finds_the_sequence_greedy_misses():
    probs = np.array([[0.01, 0.55, 0.43, 0.01],      # from the start token 0: 1 looks best...
                      [0.25, 0.25, 0.25, 0.25],      # ...but everything after 1 is uncertain,
                      [0.02, 0.02, 0.01, 0.95],      # while 2 -> 3 is nearly sure
                      [0.25, 0.25, 0.25, 0.25]])
    model = Markov(log_table(probs))
    lp = model.log_probs
    greedy_out = greedy(model.step_fn, tf.constant([0]), (), 2)
    np.testing.assert_array_equal(greedy_out.tokens, [[1, 0]])
    out = eager_and_graph(lambda: beam_search(model.step_fn, tf.constant([0]), (), 2, beam_width=2, num_return=2))
    np.testing.assert_array_equal(out.tokens[0, 0], [2, 3])
    np.testing.assert_allclose(out.scores[0, 0], lp[0, 2] + lp[2, 3], **TOL)
    np.testing.assert_allclose(out.log_probs[0], out.scores[0], **TOL)
    np.testing.assert_array_equal(out.tokens[0, 1], [1, 0])
    assert out.scores[0, 0] > np.sum(greedy_out.log_probs)


@pytest.mark.parametrize("eos_id, alpha", [(None, 0.0), (0, 0.0), (0, 1.0)])
def test_beam_width_one_equals_greedy(eos_id, alpha):
    model = Markov(np.random.RandomState(3).randn(5, 5) * 2)
    starts = tf.constant([0, 1, 2, 3, 4])
    reference = greedy(model.step_fn, starts, {"x": tf.zeros([5, 3])}, 8, eos_id=eos_id)
    out = eager_and_graph(lambda: beam_search(model.step_fn, starts, {"x": tf.zeros([5, 3])}, 8, 1, eos_id=eos_id,
                                              length_penalty=alpha))
    np.testing.assert_array_equal(out.tokens[:, 0], reference.tokens)
    np.testing.assert_array_equal(out.token_log_probs[:, 0], reference.log_probs)
    np.testing.assert_array_equal(out.lengths[:, 0], reference.lengths)
    np.testing.assert_allclose(out.log_probs[:, 0], np.sum(reference.log_probs, axis=1), **TOL)
    if eos_id == 0:
        assert np.any(reference.lengths.numpy() < 8)


def test_beam_nbest_follows_state_history_exactly():
    """Exhaustive width (V^(T-1)) on a model whose logits depend on the state's full history: the n-best list
    must be the brute-force top list, sorted, distinct, with scores matching the returned tokens."""
    vocab, length, width = 3, 4, 27
    model = HashHistory(vocab, seed=4)
    starts, hashes = [1, 2], [5, 40]
    out = eager_and_graph(lambda: beam_search(model.step_fn, tf.constant(starts), model.initial_state(hashes), length,
                                              width, num_return=width))
    for row in range(2):
        ranked = brute_force(lambda s: model.sequence_log_probs(hashes[row], starts[row], s), vocab, length)
        gaps = np.diff([score for _, (score, _, _) in ranked[:width + 1]])
        assert np.all(np.abs(gaps) > 1e-5)                                   # no near-ties in the fixture
        np.testing.assert_array_equal(out.tokens[row], [seq for seq, _ in ranked[:width]])
        np.testing.assert_allclose(out.scores[row], [score for _, (score, _, _) in ranked[:width]], **TOL)
        for seq, lps in zip(out.tokens[row].numpy(), out.token_log_probs[row].numpy()):
            np.testing.assert_allclose(lps, model.sequence_log_probs(hashes[row], starts[row], seq), **TOL)
    assert len({tuple(s) for s in out.tokens[0].numpy()}) == width
    assert np.all(np.diff(out.scores.numpy(), axis=1) <= 0)


@pytest.mark.parametrize("alpha", [0.0, 1.5])
def test_beam_nbest_with_eos_and_length_penalty_matches_brute_force(alpha):
    """Width V^(T-1) keeps every prefix until the last step, so with frozen finished beams the n-best list is
    the exact top list of all hypotheses (each cut after its first EOS) under the penalised score."""
    eos, vocab, length = 0, 3, 4
    model = HashHistory(vocab, seed=8)
    starts, hashes = [1, 2], [3, 60]
    width = vocab ** (length - 1)
    out = eager_and_graph(lambda: beam_search(model.step_fn, tf.constant(starts), model.initial_state(hashes), length,
                                              width, eos_id=eos, length_penalty=alpha, num_return=10))
    for row in range(2):
        ranked = brute_force(lambda s: model.sequence_log_probs(hashes[row], starts[row], s), vocab, length, eos,
                             alpha)
        assert np.all(np.abs(np.diff([v[0] for _, v in ranked[:11]])) > 1e-5)       # no near-ties in the fixture
        np.testing.assert_array_equal(out.tokens[row], [seq for seq, _ in ranked[:10]])
        np.testing.assert_allclose(out.scores[row], [v[0] for _, v in ranked[:10]], **TOL)
        np.testing.assert_allclose(out.log_probs[row], [v[1] for _, v in ranked[:10]], **TOL)
        np.testing.assert_array_equal(out.lengths[row], [v[2] for _, v in ranked[:10]])
        for seq, lps, n in zip(out.tokens[row].numpy(), out.token_log_probs[row].numpy(), out.lengths[row].numpy()):
            assert np.all(seq[n:] == eos) and np.all(lps[n:] == 0.0) and (n == length or seq[n - 1] == eos)
    assert np.any(out.lengths.numpy() < length) and np.any(out.lengths.numpy() == length)


def test_length_penalty_lets_a_longer_finished_hypothesis_win():
    eos, a, b, start = 0, 1, 2, 3
    probs = np.array([[0.25, 0.25, 0.25, 0.25],       # EOS row (never used: finished beams are frozen)
                      [0.04, 0.03, 0.90, 0.03],       # a -> b
                      [0.90, 0.04, 0.03, 0.03],       # b -> EOS
                      [0.50, 0.45, 0.03, 0.02]])      # start: EOS now (0.5) or a (0.45)
    model = Markov(log_table(probs))
    lp = model.log_probs
    short, long_ = lp[start, eos], lp[start, a] + lp[a, b] + lp[b, eos]
    assert short > long_ and short < long_ / (8 / 6) ** 2.0
    run = lambda alpha: beam_search(model.step_fn, tf.constant([start]), (), 5, 4, eos_id=eos,  # noqa: E731
                                    length_penalty=alpha, num_return=2)
    plain, penalised = run(0.0), eager_and_graph(lambda: run(2.0))
    np.testing.assert_array_equal(plain.tokens[0, 0], [eos] * 5)
    np.testing.assert_allclose(plain.scores[0, 0], short, **TOL)
    np.testing.assert_array_equal(penalised.tokens[0, 0], [a, b, eos, eos, eos])
    np.testing.assert_allclose(penalised.scores[0, 0], long_ / (8 / 6) ** 2.0, **TOL)
    np.testing.assert_allclose(penalised.log_probs[0, 0], long_, **TOL)
    np.testing.assert_array_equal(penalised.lengths[0], [3, 1])


def test_beam_eos_freezing_keeps_scores_and_pads():
    eos = 0
    probs = np.full((4, 4), 0.05)
    probs[0, 2] = probs[1, eos] = probs[2, 3] = probs[3, 1] = 0.85   # EOS row would continue with 2
    model = Markov(log_table(probs))
    out = beam_search(model.step_fn, tf.constant([3]), (), 6, 3, eos_id=eos, num_return=3)
    lp = model.log_probs
    np.testing.assert_array_equal(out.tokens[0, 0], [1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(out.log_probs[0, 0], lp[3, 1] + lp[1, 0], **TOL)
    np.testing.assert_array_equal(out.token_log_probs[0, 0, 2:], 0.0)
    assert out.lengths[0, 0] == 2


def test_decoders_drive_a_keras_recurrent_step_fn():
    """A Keras 3 GRU language model as step_fn (state = the GRU hidden state): beam width 1 equals greedy, the
    graph equals eager, and beam search reorders the hidden state (its n-best log-probs match a rescoring)."""
    keras.utils.set_random_seed(0)
    vocab, units = 7, 8
    embed, cell, head = keras.layers.Embedding(vocab, 4), keras.layers.GRUCell(units), keras.layers.Dense(vocab)

    def step_fn(tokens, state):
        out, new_state = cell(embed(tokens), [state])
        return head(out) * 3.0, new_state[0]

    step_fn(tf.zeros([1], tf.int32), tf.zeros([1, units]))                    # build the weights
    starts, h0 = tf.constant([0, 3]), tf.zeros([2, units])
    reference = eager_and_graph(lambda: greedy(step_fn, starts, h0, 5, eos_id=1))
    single = beam_search(step_fn, starts, h0, 5, 1, eos_id=1)
    np.testing.assert_array_equal(single.tokens[:, 0], reference.tokens)
    out = eager_and_graph(lambda: beam_search(step_fn, starts, h0, 5, 4, num_return=4))
    for row in range(2):
        for seq, total in zip(out.tokens[row].numpy(), out.log_probs[row].numpy()):
            h, prev, rescored = h0[row:row + 1], starts[row:row + 1], 0.0
            for tok in seq:
                logits, h = step_fn(prev, h)
                rescored += float(tf.nn.log_softmax(logits)[0, tok])
                prev = tf.constant([tok])
            np.testing.assert_allclose(total, rescored, **TOL)


# ---------------------------------------------------------------------------------------------- decode()

def test_decode_common_dict():
    model = Markov(np.random.RandomState(6).randn(5, 5) * 2)
    starts = tf.constant([0, 2])
    g = decode("greedy", model.step_fn, starts, (), 4, eos_id=1)
    ref = greedy(model.step_fn, starts, (), 4, eos_id=1)
    np.testing.assert_array_equal(g["tokens"], ref.tokens)
    np.testing.assert_allclose(g["scores"], np.sum(ref.log_probs, axis=1))
    b = decode("beam", model.step_fn, starts, (), 4, beam_width=3, eos_id=1, length_penalty=0.6)
    full = beam_search(model.step_fn, starts, (), 4, 3, eos_id=1, length_penalty=0.6)
    np.testing.assert_array_equal(b["tokens"], full.tokens[:, 0])
    np.testing.assert_allclose(b["scores"], full.scores[:, 0])
    s = decode("sample", model.step_fn, starts, (), 4, seed=1, top_k=2)
    assert {k: tuple(v.shape) for k, v in s.items()} == {"tokens": (2, 4), "log_probs": (2, 4), "scores": (2,),
                                                         "lengths": (2,)}
    assert set(DECODERS) == {"greedy", "sample", "beam"}
    with pytest.raises(ValueError):
        decode("nucleus", model.step_fn, starts, (), 4)
    with pytest.raises(ValueError):
        beam_search(model.step_fn, starts, (), 4, 2, num_return=3)


# ---------------------------------------------------------------------------------------------- Viterbi

def test_transition_table_calls_the_context_scorer_in_table_order():
    vocab, order = 3, 2
    calls = []

    def scorer(contexts):                                         # logits = 2 * onehot(oldest) + onehot(newest)
        calls.append(contexts.shape)
        return 2.0 * tf.one_hot(contexts[:, 0], vocab) + tf.one_hot(contexts[:, 1], vocab)

    table = transition_table(scorer, vocab, order).numpy()
    assert table.shape == (9, 3) and calls == [(9, 2)]
    np.testing.assert_array_equal(all_contexts(vocab, order)[5], [1, 2])
    for c0, c1 in itertools.product(range(vocab), repeat=2):
        logits = 2.0 * np.eye(vocab)[c0] + np.eye(vocab)[c1]
        np.testing.assert_allclose(table[int(context_index([c0, c1], vocab))], np_log_softmax(logits), **TOL)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("eos_id", [None, 0])
def test_viterbi_equals_brute_force(order, eos_id):
    vocab, length = 3, 5
    table = random_table(vocab, order, seed=10 + order, scale=1.5)
    starts = np.array([[1] * order, [2] * order, list(range(order))], np.int32)
    out = eager_and_graph(lambda: viterbi(tf.constant(table), tf.constant(starts), length, order, eos_id=eos_id))
    for row, start in enumerate(starts):
        best, (_, raw, n) = brute_force(markov_log_probs(table, start, order), vocab, length, eos_id)[0]
        np.testing.assert_array_equal(out.tokens[row], best)
        np.testing.assert_allclose(out.log_prob[row], raw, **TOL)
        assert out.lengths[row] == n
    single = viterbi(table, starts[0], length, order, eos_id=eos_id)
    np.testing.assert_array_equal(single.tokens, out.tokens[0])


def test_viterbi_with_eos_can_prefer_a_short_sequence():
    table = log_table([[0.1, 0.9], [0.6, 0.4]])               # from 1: EOS 0.6 beats anything longer
    out = viterbi(table, [1], 4, 1, eos_id=0)
    np.testing.assert_array_equal(out.tokens, [0, 0, 0, 0])
    np.testing.assert_allclose(out.log_prob, np.log(0.6), **TOL)
    assert out.lengths == 1


# ---------------------------------------------------------------------------------------------- A*

ASTAR = tf.function(astar)


def np_cost_to_go(table, order, length, eos_id=None):
    """float64 (T + 1, V^d): row r = the exact minimum cost of the next r steps from each context (independent
    numpy backward recursion; EOS absorbing, nothing after it costs)."""
    costs = -np.asarray(table, np.float64)
    vocab = costs.shape[-1]
    n_states = vocab ** order
    successor = (np.arange(n_states)[:, None] * vocab + np.arange(vocab)[None]) % n_states
    emit = costs.copy()
    if eos_id is not None:
        emit[:, eos_id] = np.inf
    rows = [np.zeros(n_states)]
    for _ in range(length):
        best = (emit + rows[-1][successor]).min(axis=1)
        rows.append(best if eos_id is None else np.minimum(best, costs[:, eos_id]))
    return np.stack(rows)


def eos_shy_table(vocab, order, seed, eos_id, scale=2.0):
    """A random table whose EOS is improbable enough that some optima are cut short and some are not."""
    logits = np.random.RandomState(seed).randn(vocab ** order, vocab) * scale
    if eos_id is not None:
        logits[:, eos_id] -= 3.0
    return np_log_softmax(logits).astype(np.float32)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("eos_id", [None, 0])
def test_astar_equals_viterbi_on_random_tables(order, eos_id):
    vocab, length = 4, 5
    internal = sum((vocab if eos_id is None else vocab - 1) ** n for n in range(length))
    for seed in range(4):
        table = tf.constant(random_table(vocab, order, seed=100 * order + seed, scale=2.0))
        start = tf.constant([seed % vocab] * order)
        exact = viterbi(table, start, length, order, eos_id=eos_id)
        for heuristic in ("min_transition", "zero"):
            found = ASTAR(table, start, length, order, eos_id=eos_id, heuristic=heuristic)
            np.testing.assert_array_equal(found.tokens, exact.tokens)
            np.testing.assert_allclose(found.log_prob, exact.log_prob, **TOL)
            assert found.lengths == exact.lengths and bool(found.exact)
            assert 1 <= int(found.expanded) <= internal


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("eos_id", [None, 0])
def test_lookahead_heuristic_is_a_lower_bound_exact_within_its_horizon(order, eos_id):
    """Every (tokens emitted, context): h <= the true cost-to-go, = it for r <= k (and for k >= T), and >= the
    min_transition bound; goals get 0."""
    vocab, length, k = 4, 9, 3
    table = eos_shy_table(vocab, order, seed=20 + order, eos_id=eos_id)
    costs = tf.constant(-table)
    n_states = vocab ** order
    n = np.repeat(np.arange(length + 1), n_states).astype(np.int32)
    ctx = np.tile(np.arange(n_states), length + 1).astype(np.int32)
    remaining, not_done = length - n, tf.zeros(n.shape, tf.bool)
    truth = np_cost_to_go(table, order, length, eos_id)[remaining, ctx]
    bound = lookahead_heuristic(costs, length, order, k, eos_id)
    h = bound(tf.constant(n), tf.constant(ctx), not_done).numpy()
    assert np.all(h <= truth + 1e-5)
    np.testing.assert_allclose(h[remaining <= k], truth[remaining <= k], **TOL)
    loose = min_transition_heuristic(costs, length, eos_id)(tf.constant(n), not_done).numpy()
    assert np.all(h >= loose - 1e-6) and np.mean(h - loose) > 0.1
    full = lookahead_heuristic(costs, length, order, length + 2, eos_id)(tf.constant(n), tf.constant(ctx), not_done)
    np.testing.assert_allclose(full, truth, **TOL)
    np.testing.assert_array_equal(bound(tf.constant(n), tf.constant(ctx), tf.ones(n.shape, tf.bool)), 0.0)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("eos_id", [None, 0])
def test_astar_lookahead_equals_viterbi_and_expands_no_more_than_min_transition(order, eos_id):
    """Horizons shorter than T (so the context-free tail is used), with and without duplicate detection."""
    vocab, length = 5, 8
    for seed in range(3):
        table = tf.constant(eos_shy_table(vocab, order, seed=40 + 10 * order + seed, eos_id=eos_id))
        start = tf.constant([(seed + 1) % vocab] * order)
        best = viterbi(table, start, length, order, eos_id=eos_id)
        run = lambda **kw: astar(table, start, length, order, eos_id=eos_id, **kw)  # noqa: E731
        baseline = run(heuristic="min_transition")
        for found in (run(lookahead=1), run(lookahead=3), run(lookahead=3, dedup=False), baseline):
            np.testing.assert_array_equal(found.tokens, best.tokens)
            np.testing.assert_allclose(found.log_prob, best.log_prob, **TOL)
            assert found.lengths == best.lengths and bool(found.exact)
        for k in (1, 3):
            assert int(run(lookahead=k).expanded) <= int(baseline.expanded)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("eos_id", [None, 0])
def test_astar_with_exact_heuristic_expands_only_the_optimal_path(order, eos_id):
    """lookahead >= T: h is the exact cost-to-go, so on a tie-free table the search expands the optimal path's
    nodes only: ``expanded == lengths`` (T without EOS; goal pops are not counted)."""
    vocab, length = 6, 10
    cut_short = []
    for seed in range(4):
        table = tf.constant(eos_shy_table(vocab, order, seed=70 + seed, eos_id=eos_id))
        start = tf.constant([seed % vocab] * order)
        best = viterbi(table, start, length, order, eos_id=eos_id)
        for lookahead, dedup in ((length, True), (length + 5, False)):
            found = astar(table, start, length, order, eos_id=eos_id, lookahead=lookahead, dedup=dedup)
            np.testing.assert_array_equal(found.tokens, best.tokens)
            np.testing.assert_allclose(found.log_prob, best.log_prob, **TOL)
            assert int(found.expanded) == int(found.lengths) == int(best.lengths) and bool(found.exact)
        cut_short.append(int(best.lengths) < length)
    assert any(cut_short) == (eos_id is not None)
    if eos_id is not None:
        assert not all(cut_short)


def test_astar_lookahead_on_a_peaked_order2_table():
    """V = 12, d = 2, T = 14: a short horizon already cuts the expansions of min_transition several-fold."""
    vocab, order, length = 12, 2, 14
    table = tf.constant(random_table(vocab, order, seed=5, scale=3.0))
    start = tf.constant([3, 7])
    best = viterbi(table, start, length, order)
    counts = {}
    for name, kwargs in (("min_transition", {"heuristic": "min_transition"}), ("k4", {"lookahead": 4}),
                         ("k14", {"lookahead": 14})):
        found = astar(table, start, length, order, **kwargs)
        np.testing.assert_array_equal(found.tokens, best.tokens)
        np.testing.assert_allclose(found.log_prob, best.log_prob, **TOL)
        assert bool(found.exact)
        counts[name] = int(found.expanded)
    assert counts["k14"] == length
    assert counts["k14"] <= counts["k4"] and 4 * counts["k4"] <= counts["min_transition"]


def test_astar_expands_fewer_nodes_than_exhaustive_on_a_peaked_table():
    vocab, length = 5, 6
    probs = np.full((vocab, vocab), 0.1 / (vocab - 1))
    probs[np.arange(vocab), (np.arange(vocab) + 2) % vocab] = 0.9
    table = tf.constant(log_table(probs))
    exhaustive = sum(vocab ** n for n in range(length))
    found = astar(table, [0], length, 1, heuristic="min_transition")      # eager (runs the compiled search)
    assert_same_nest(found, ASTAR(table, tf.constant([0]), length, 1, heuristic="min_transition"))
    np.testing.assert_array_equal(found.tokens, [2, 4, 1, 3, 0, 2])
    np.testing.assert_allclose(found.log_prob, length * np.log(0.9), **TOL)
    assert int(found.expanded) == length < exhaustive
    uniform_cost = ASTAR(table, tf.constant([0]), length, 1, heuristic="zero")
    np.testing.assert_array_equal(uniform_cost.tokens, found.tokens)
    assert int(found.expanded) <= int(uniform_cost.expanded)
    default = astar(table, [0], length, 1)
    np.testing.assert_array_equal(default.tokens, found.tokens)
    assert int(default.expanded) == length


def test_eager_astar_runs_one_compiled_graph_per_configuration():
    module = importlib.import_module("zoo.decoding.astar")
    compiled = module._COMPILED[False]
    vocab, length = 4, 7
    astar(tf.constant(random_table(vocab, 1, seed=1)), [0], length, 1, lookahead=2)
    traces = compiled.experimental_get_tracing_count()
    for seed in range(2, 5):                                    # new tables and starts of the same shapes
        table = tf.constant(random_table(vocab, 1, seed=seed))
        found = astar(table, tf.constant([seed % vocab]), length, 1, lookahead=2)
        assert_same_nest(found, ASTAR(table, tf.constant([seed % vocab]), length, 1, lookahead=2))
    assert compiled.experimental_get_tracing_count() == traces
    with pytest.raises(ValueError):
        astar(table, [0], length, 1, heuristic="manhattan")
    with pytest.raises(ValueError):
        astar(table, [0], length, 1, lookahead=0)


def test_astar_heuristic_beats_uniform_cost_on_random_table():
    table = tf.constant(random_table(4, 2, seed=3, scale=2.0))
    informed = ASTAR(table, tf.constant([1, 2]), 5, 2, heuristic="min_transition")
    blind = ASTAR(table, tf.constant([1, 2]), 5, 2, heuristic="zero")
    np.testing.assert_array_equal(informed.tokens, blind.tokens)
    assert int(informed.expanded) <= int(blind.expanded)


def test_astar_overflow_is_flagged_and_still_returns_a_valid_sequence():
    vocab, length = 4, 6
    table = random_table(vocab, 1, seed=9, scale=0.3)           # flat: the frontier grows fast
    best = viterbi(table, [0], length, 1)
    found = ASTAR(tf.constant(table), tf.constant([0]), length, 1, capacity=vocab, heuristic="zero", dedup=False)
    assert not bool(found.exact)
    np.testing.assert_allclose(found.log_prob, markov_log_probs(table, [0], 1)(found.tokens.numpy()).sum(), **TOL)
    assert float(found.log_prob) <= float(best.log_prob) + 1e-6
    roomy = ASTAR(tf.constant(table), tf.constant([0]), length, 1, capacity=8192, heuristic="zero", dedup=False)
    assert bool(roomy.exact)
    assert float(roomy.log_prob) >= float(found.log_prob) - 1e-6
    for heuristic in HEURISTICS:                                  # whenever the result is certified, it is optimal
        small = ASTAR(tf.constant(table), tf.constant([0]), length, 1, capacity=vocab, heuristic=heuristic,
                      lookahead=2)
        if bool(small.exact):
            np.testing.assert_allclose(small.log_prob, best.log_prob, **TOL)
        assert float(small.log_prob) <= float(best.log_prob) + 1e-6


def test_astar_minimal_frontier_with_the_exact_heuristic_keeps_the_optimum_and_certifies_it():
    """Issue 18: with h the exact cost-to-go (lookahead >= T) the optimal path's child has the smallest f of every
    expansion, so a frontier of only V slots that evicts its worst nodes keeps it: the result is Viterbi's and is
    certified exact (every node lost has f >= the optimum), on several flat random tables with and without EOS."""
    vocab, length = 4, 6
    for seed in range(4):
        table = random_table(vocab, 1, seed=seed, scale=0.3)
        for eos_id in (None, 0):
            best = viterbi(table, [1], length, 1, eos_id=eos_id)
            small = ASTAR(tf.constant(table), tf.constant([1]), length, 1, eos_id=eos_id, capacity=vocab,
                          heuristic="lookahead", lookahead=length)
            assert bool(small.exact), (seed, eos_id)
            np.testing.assert_allclose(small.log_prob, best.log_prob, **TOL)
            np.testing.assert_array_equal(small.tokens, best.tokens)


def test_astar_full_frontier_evicts_its_worst_node_and_still_certifies_the_optimum():
    """Issue 18: uniform-cost search (h = 0) with 8 slots on two random tables (V = 4, T = 6) where the frontier
    fills up: a child better than the worst alive node replaces it, so the optimum is kept and certified (checked
    against Viterbi). A frontier that dropped such children instead loses a node cheaper than the optimum and
    cannot certify the result."""
    for seed in (3, 7):
        table = random_table(4, 1, seed=seed, scale=1.0)
        best = viterbi(table, [1], 6, 1)
        small = ASTAR(tf.constant(table), tf.constant([1]), 6, 1, capacity=8, heuristic="zero")
        assert bool(small.exact), seed
        np.testing.assert_allclose(small.log_prob, best.log_prob, **TOL)
        np.testing.assert_array_equal(small.tokens, best.tokens)


# ---------------------------------------------------------------------------------------------- SavedModel

def test_decoders_inside_an_exported_saved_model_signature(tmp_path):
    model = Markov(np.random.RandomState(12).randn(5, 5) * 2)
    table = np_log_softmax(model.table).astype(np.float32)

    class Generator(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int64),
                                      tf.TensorSpec([], tf.float32)])
        def generate(self, starts, seed, temperature):
            state = {"h": tf.zeros([tf.shape(starts)[0], 2])}
            beam = beam_search(model.step_fn, starts, state, 6, 3, eos_id=0, length_penalty=0.5)
            return {"greedy": greedy(model.step_fn, starts, state, 6, eos_id=0).tokens,
                    "sample": sample(model.step_fn, starts, state, 6, seed, temperature, top_k=3, eos_id=0).tokens,
                    "beam": beam.tokens[:, 0], "beam_scores": beam.scores[:, 0],
                    "viterbi": viterbi(table, starts[:, None], 6, 1, eos_id=0).tokens,
                    "astar": astar(table, starts[:1], 6, 1, eos_id=0).tokens}

    tf.saved_model.save(Generator(), str(tmp_path / "gen"))
    loaded = tf.saved_model.load(str(tmp_path / "gen"))
    starts = tf.constant([1, 2, 3, 4])
    served = loaded.signatures["serving_default"](starts=starts, seed=tf.constant(5, tf.int64),
                                                   temperature=tf.constant(1.3))
    np.testing.assert_array_equal(served["greedy"], greedy(model.step_fn, starts, (), 6, eos_id=0).tokens)
    np.testing.assert_array_equal(served["sample"], sample(model.step_fn, starts, (), 6, 5, 1.3, 3, eos_id=0).tokens)
    np.testing.assert_array_equal(served["beam"], beam_search(model.step_fn, starts, (), 6, 3, eos_id=0,
                                                              length_penalty=0.5).tokens[:, 0])
    np.testing.assert_array_equal(served["viterbi"], viterbi(table, starts[:, None], 6, 1, eos_id=0).tokens)
    np.testing.assert_array_equal(served["astar"], served["viterbi"][0])


def test_a_narrow_beam_applies_the_length_penalty_while_pruning():
    """Issue 18: width 2, alpha 5. After step 1 the penalised scores rank two live length-2 prefixes [1, 1] and
    [1, 2] above the finished [EOS] (raw -0.9 beats both), so a search that penalises only at the final sort keeps
    [EOS] and [1, 1] and loses [1, 2, EOS], the brute-force optimum under the penalised score."""
    eos, vocab, alpha, length = 0, 3, 5.0, 3
    # Prefix tree of nodes (0 root, 1 [1], 2 [1, 1], 3 [1, 2]); every other prefix goes to the uniform node 4.
    lp = np.log(np.array([[np.exp(-0.9), 0.4493, 1 - np.exp(-0.9) - 0.4493],
                          [0.15, 0.45, 0.40],
                          [1 / 3, 1 / 3, 1 / 3],
                          [0.90, 0.05, 0.05],
                          [1 / 3, 1 / 3, 1 / 3]]))
    child = np.full((5, vocab), 4)
    child[0, 1], child[1, 1], child[1, 2] = 1, 2, 3

    # The state must follow the emitted token, which beam_search feeds back as ``prev`` at the next step.
    def tree_step(prev, node):
        node = tf.where(tf.equal(prev, -1), node, tf.gather_nd(tf.constant(child, tf.int32),
                                                                tf.stack([node, tf.maximum(prev, 0)], axis=1)))
        return tf.gather(tf.constant(lp, tf.float32), node), node

    def penalised(seq):
        total, node = 0.0, 0
        for n, token in enumerate(seq, 1):
            total += lp[node, token]
            node = child[node, token]
            if token == eos:
                return total / ((5 + n) / 6) ** alpha
        return total / ((5 + len(seq)) / 6) ** alpha

    candidates = [s for n in range(1, length + 1) for s in itertools.product(range(vocab), repeat=n)
                  if (eos not in s[:-1]) and (n == length or s[-1] == eos)]
    best = max(candidates, key=penalised)
    assert best == (1, 2, eos) and penalised((1, 1, 1)) > penalised((eos,))
    out = beam_search(tree_step, tf.constant([-1]), tf.constant([0]), length, 2, eos_id=eos, length_penalty=alpha)
    np.testing.assert_array_equal(out.tokens[0, 0], best)
    np.testing.assert_allclose(out.scores[0, 0], penalised(best), rtol=1e-5)


def test_sampling_draws_fresh_noise_at_every_step():
    """Uniform logits over 50 tokens whatever the state: with one seed reused at every step all 20 tokens of a
    row would be equal (here the chance is 50^-19)."""
    uniform = lambda tokens, state: (tf.zeros([tf.shape(tokens)[0], 50]), state)  # noqa: E731
    out = sample(uniform, tf.constant([0, 0]), (), 20, 3).tokens.numpy()
    assert all(len(set(row)) > 5 for row in out)
