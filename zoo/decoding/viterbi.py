"""Exact MAP decoding of an order-d Markov model by dynamic programming (Viterbi 1967).

For an order-d model the decoder state IS the last d tokens, so the whole model is a table
``log p(next | context)`` of shape (V^d, V). Contexts are indexed lexicographically, oldest token most
significant: ``index(c_1..c_d) = sum_i c_i * V^(d - i)``. Emitting token v from context s leads to context
``(s * V + v) mod V^d``.

End-of-sequence convention (shared with ``astar``): without ``eos_id`` the result is the most probable
sequence of exactly ``length`` tokens. With ``eos_id`` it is the most probable sequence that either ends
with its first EOS at some position <= ``length`` (then padded with EOS, the padding costing nothing) or
has exactly ``length`` tokens and no EOS. Implemented with one absorbing "done" state entered by EOS.

Cost: O(T * B * V^(d+1)) time and O(T * B * V^d) backpointers, so it is meant for small V and d in {1, 2}.
"""
from typing import NamedTuple

import tensorflow as tf

from zoo.decoding.state import static_int

_NEG_INF = float("-inf")


class ViterbiResult(NamedTuple):
    """Output of ``viterbi``; the batch dim is absent for a single (d,) start context."""

    tokens: tf.Tensor    # int32 (B, T) or (T,): the best sequence, eos_id after its EOS
    log_prob: tf.Tensor  # float32 (B,) or (): its total log-probability
    lengths: tf.Tensor   # int32 (B,) or (): tokens up to and including EOS, T when there is none


def context_index(contexts, vocab_size, order=None):
    """int (..., d) contexts -> int32 (...,) row of the (V^d, V) table (oldest token most significant).

    ``order`` (d) is read from the static shape unless given."""
    contexts = tf.cast(tf.convert_to_tensor(contexts), tf.int32)
    order = contexts.shape[-1] if order is None else order
    if order is None:
        raise ValueError("context_index needs the context length: pass order= when the last dim is not static")
    weights = tf.constant([vocab_size ** (order - 1 - i) for i in range(order)], tf.int32)
    return tf.reduce_sum(contexts * weights, axis=-1)


def all_contexts(vocab_size, order):
    """int32 (V^d, d): every context in table order, row s = the digits of s in base V."""
    index = tf.range(vocab_size ** order)
    return tf.stack([(index // vocab_size ** (order - 1 - i)) % vocab_size for i in range(order)], axis=-1)


def transition_table(context_log_probs, vocab_size, order):
    """Builds the (V^d, V) log-prob table of an order-d model with one batched call.

    Args:
      context_log_probs: ``contexts int32 (N, d) -> logits (N, V)``, the scores of the next token given
        the last d tokens (unnormalised is fine: each row goes through log-softmax here).
      vocab_size: Python int V.
      order: Python int d >= 1.
    Returns:
      float32 (V^d, V) with rows log-normalised, row s for context ``all_contexts(V, d)[s]``.
    """
    vocab_size, order = static_int(vocab_size, "vocab_size"), static_int(order, "order")
    logits = context_log_probs(all_contexts(vocab_size, order))
    return tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)


def viterbi(log_probs_table, start_context, length, order, eos_id=None):
    """The most probable continuation of ``start_context`` under an order-d Markov model.

    Args:
      log_probs_table: float (V^d, V) log p(next | context), e.g. from ``transition_table``.
      start_context: int (d,) or (B, d), the last d tokens before generation (any token ids, EOS included).
      length: Python int T, the number of generated tokens.
      order: Python int d.
      eos_id: Python int or None; see the module docstring for the end-of-sequence convention.
    Returns:
      ``ViterbiResult`` (tokens (B, T), log_prob (B,), lengths (B,); without the batch dim for a (d,)
      context). Exact; ties go to the lowest predecessor / state index.
    """
    length, order = static_int(length, "length"), static_int(order, "order")
    table = tf.cast(tf.convert_to_tensor(log_probs_table), tf.float32)
    vocab = table.shape[-1]
    if vocab is None:
        raise ValueError("viterbi needs the vocabulary size (last dim of the table) to be static")
    n_states = vocab ** order
    start_context = tf.convert_to_tensor(start_context)
    single = start_context.shape.rank == 1
    if start_context.shape.rank not in (1, 2):
        raise ValueError(f"start_context must be (d,) or (B, d), got shape {start_context.shape}")
    start = context_index(tf.reshape(start_context, [-1, order]), vocab, order)               # (B,)
    batch = tf.shape(start)[0]
    states = tf.range(n_states)
    done = n_states                                                     # index of the absorbing EOS state
    emit = table if eos_id is None else tf.where(tf.equal(tf.range(vocab), eos_id), _NEG_INF, table)
    # The predecessor s of state s' via its oldest token a is a * V^(d-1) + s' // V.
    pred_base = states // vocab

    def body(t, delta, backpointers):
        cand = tf.reshape(delta[:, :n_states, None] + emit[None], [batch, vocab, n_states])  # [b, a, s']
        best_a = tf.argmax(cand, axis=1, output_type=tf.int32)                             # (B, S)
        new_delta = tf.reduce_max(cand, axis=1)
        pred = best_a * vocab ** (order - 1) + pred_base
        if eos_id is not None:
            to_eos = delta[:, :n_states] + table[None, :, eos_id]                         # (B, S)
            best_s = tf.argmax(to_eos, axis=1, output_type=tf.int32)
            via_eos, stay = tf.reduce_max(to_eos, axis=1), delta[:, done]
            new_delta = tf.concat([new_delta, tf.maximum(via_eos, stay)[:, None]], axis=1)
            pred = tf.concat([pred, tf.where(stay >= via_eos, done, best_s)[:, None]], axis=1)
        return t + 1, new_delta, backpointers.write(t, pred)

    width = n_states if eos_id is None else n_states + 1
    delta0 = tf.where(tf.equal(tf.range(width)[None], start[:, None]), 0.0, _NEG_INF)       # (B, S[+1])
    pointers = tf.TensorArray(tf.int32, size=length, element_shape=tf.TensorShape([None, width]))
    _, delta, pointers = tf.while_loop(lambda t, *_: t < length, body, (tf.constant(0), delta0, pointers))

    best = tf.argmax(delta, axis=1, output_type=tf.int32)
    log_prob = tf.reduce_max(delta, axis=1)

    def back(t, state, out):
        token = state % vocab if eos_id is None else tf.where(tf.equal(state, done), eos_id, state % vocab)
        return t - 1, tf.gather(pointers.read(t), state, batch_dims=1), out.write(t, token)

    out = tf.TensorArray(tf.int32, size=length, element_shape=tf.TensorShape([None]))
    _, _, out = tf.while_loop(lambda t, *_: t >= 0, back, (tf.constant(length - 1), best, out))
    tokens = tf.transpose(out.stack())                                                     # (B, T)
    lengths = sequence_lengths(tokens, eos_id)
    if single:
        return ViterbiResult(tokens[0], log_prob[0], lengths[0])
    return ViterbiResult(tokens, log_prob, lengths)


def sequence_lengths(tokens, eos_id):
    """int (..., T) -> int32 (...,): position of the first EOS plus one, T without EOS (or eos_id None)."""
    tokens = tf.convert_to_tensor(tokens)
    steps = tf.shape(tokens)[-1]
    if eos_id is None:
        return tf.fill(tf.shape(tokens)[:-1], steps)
    is_eos = tf.equal(tokens, eos_id)
    first = tf.argmax(tf.cast(is_eos, tf.int32), axis=-1, output_type=tf.int32) + 1
    return tf.where(tf.reduce_any(is_eos, axis=-1), first, steps)
