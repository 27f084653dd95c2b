"""Beam search (Sutskever, Vinyals & Le 2014; Graves 2012) with the GNMT length penalty (Wu et al. 2016).

K hypotheses per example live in the rows ``b * K + j`` of one (B * K)-row call to ``step_fn``. At every
step each live beam proposes all V continuations, the K best of the K * V candidates (by score, below)
survive, and the state nest is gathered from their parents. The first step starts with only beam 0 alive
(the others have log-prob -inf), so the beams do not begin as K identical copies.

Finished beams stay in the beam: a beam that has emitted ``eos_id`` has a single candidate, EOS again at
log-prob 0, so it keeps its score, is padded with EOS and cannot be extended by other tokens; it is only
dropped if K better candidates appear. Candidates are ranked by

    score = log p(Y) / ((5 + |Y|) / 6) ** alpha        (|Y| counts tokens up to and including EOS)

which is the raw log-prob sum for alpha = 0. Among live candidates (all of length t + 1) this ranking is
the raw one; the penalty matters when finished and live hypotheses compete. With K = 1 the search is
greedy decoding exactly (same tokens, same per-token log-probs; ties go to the lowest token id in both).
The loop exits early once every beam with a finite score is finished.
"""
import tensorflow as tf

from zoo.decoding.state import (BeamResult, batch_invariants, gather_state, gnmt_length_penalty, mask_column,
                                static_int, tile_state, to_tensors)

_NEG_INF = float("-inf")


def beam_search(step_fn, start_tokens, initial_state, max_length, beam_width, eos_id=None, length_penalty=0.0,
                num_return=1, limit=None):
    """The ``num_return`` best hypotheses of a width-``beam_width`` beam search.

    Args:
      step_fn: ``(tokens int32 (B * K,), state) -> (logits (B * K, V), new_state)``; rows are beams.
      start_tokens: int (B,), fed at the first step.
      initial_state: nest of tensors with leading dim B (tiled to B * K here).
      max_length: Python int T.
      beam_width: Python int K >= 1.
      eos_id: Python int or None (no early finishing: every hypothesis has length T).
      length_penalty: alpha >= 0 of the GNMT penalty (float or scalar tensor); 0 ranks by raw log-prob.
      num_return: Python int N <= K.
      limit: optional int scalar tensor: stop after min(T, limit) steps (a serving request's ``max_tokens``);
        unfinished hypotheses then have length min(T, limit).
    Returns:
      ``BeamResult`` with tokens int32 (B, N, T), scores float32 (B, N) sorted best first, log_probs float32
      (B, N) raw sums, lengths int32 (B, N), token_log_probs float32 (B, N, T). Hypotheses with score -inf
      (possible when K exceeds the number of distinct prefixes, e.g. K > V at T = 1) are padding, not results.
    """
    max_length = static_int(max_length, "max_length")
    k = static_int(beam_width, "beam_width")
    num_return = static_int(num_return, "num_return")
    if num_return > k:
        raise ValueError(f"num_return ({num_return}) cannot exceed beam_width ({k})")
    start_tokens = tf.cast(tf.convert_to_tensor(start_tokens), tf.int32)
    state = tile_state(to_tensors(initial_state), k)
    batch = tf.shape(start_tokens)[0]
    pad = 0 if eos_id is None else int(eos_id)
    alpha = length_penalty

    steps = max_length if limit is None else tf.minimum(max_length, tf.cast(limit, tf.int32))

    def cond(t, prev, state, raw, seqs, token_lps, lengths, finished):
        live = tf.logical_and(tf.logical_not(finished), raw > _NEG_INF)
        return tf.logical_and(t < steps, tf.reduce_any(live))

    def body(t, prev, state, raw, seqs, token_lps, lengths, finished):
        logits, new_state = step_fn(prev, state)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))
        vocab = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, [batch, k, vocab])                        # (B, K, V)
        if eos_id is not None:
            eos_only = tf.where(tf.equal(tf.range(vocab), pad), 0.0, _NEG_INF)       # (V,)
            log_probs = tf.where(finished[..., None], eos_only, log_probs)
        cand_raw = raw[..., None] + log_probs                                        # (B, K, V)
        cand_len = tf.where(finished, lengths, t + 1)[..., None]                     # (B, K, 1)
        cand_score = cand_raw / gnmt_length_penalty(cand_len, alpha, max_length)
        _, flat_index = tf.math.top_k(tf.reshape(cand_score, [batch, k * vocab]), k)  # (B, K)
        parent, token = flat_index // vocab, flat_index % vocab
        raw = tf.gather(tf.reshape(cand_raw, [batch, k * vocab]), flat_index, batch_dims=1)
        token_lp = tf.gather(tf.reshape(log_probs, [batch, k * vocab]), flat_index, batch_dims=1)
        parent_finished = tf.gather(finished, parent, batch_dims=1)
        lengths = tf.where(parent_finished, tf.gather(lengths, parent, batch_dims=1), t + 1)
        finished = parent_finished if eos_id is None else tf.logical_or(parent_finished, tf.equal(token, pad))
        seqs = mask_column(tf.gather(seqs, parent, batch_dims=1), t, token)
        token_lps = mask_column(tf.gather(token_lps, parent, batch_dims=1), t, token_lp)
        rows = tf.reshape(parent + k * tf.range(batch)[:, None], [-1])               # (B * K,) parent rows
        return t + 1, tf.reshape(token, [-1]), gather_state(new_state, rows), raw, seqs, token_lps, lengths, finished

    first = tf.concat([tf.zeros([1]), tf.fill([k - 1], _NEG_INF)], axis=0)
    loop_vars = (tf.constant(0), tf.repeat(start_tokens, k), state, tf.tile(first[None], [batch, 1]),
                 tf.fill([batch, k, max_length], pad), tf.zeros([batch, k, max_length]),
                 tf.zeros([batch, k], tf.int32), tf.zeros([batch, k], tf.bool))
    invariants = (tf.TensorShape([]), tf.TensorShape([None]), batch_invariants(state), tf.TensorShape([None, k]),
                  tf.TensorShape([None, k, max_length]), tf.TensorShape([None, k, max_length]),
                  tf.TensorShape([None, k]), tf.TensorShape([None, k]))
    _, _, _, raw, seqs, token_lps, lengths, _ = tf.while_loop(cond, body, loop_vars, shape_invariants=invariants)

    scores = raw / gnmt_length_penalty(lengths, alpha, max_length)
    best = tf.argsort(scores, axis=-1, direction="DESCENDING", stable=True)[:, :num_return]
    take = lambda x: tf.gather(x, best, batch_dims=1)  # noqa: E731
    return BeamResult(tokens=take(seqs), scores=take(scores), log_probs=take(raw), lengths=take(lengths),
                      token_log_probs=take(token_lps))
