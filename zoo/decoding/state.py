"""Result containers and state helpers shared by the decoders.

Every left-to-right decoder drives one contract::

    step_fn(tokens, state) -> (logits, new_state)
    tokens:  int32 (B,)   the previous token of each sequence (the start token at the first step)
    state:   any nest (tuple / list / dict) of tensors, each with leading batch dimension B
    logits:  float (B, V) unnormalised scores of the next token

Beam search runs the same ``step_fn`` on B * K rows (K beams per example, row ``b * K + j`` is beam
``j`` of example ``b``), so it tiles the state with ``tile_state`` and reorders it with ``gather_state``
after every step. The containers are ``NamedTuple``s, so they are valid ``tf.function`` outputs.
"""
import math
import operator
from typing import NamedTuple

import tensorflow as tf


class DecodeResult(NamedTuple):
    """Output of ``greedy`` and ``sample``."""

    tokens: tf.Tensor     # int32 (B, T): generated tokens; after the first EOS every token is eos_id
    log_probs: tf.Tensor  # float32 (B, T): log p(token_t | prefix) under the model; 0 after the first EOS
    lengths: tf.Tensor    # int32 (B,): tokens up to and including the first EOS, T when there is none


class BeamResult(NamedTuple):
    """Output of ``beam_search``: the n-best list of each example, best first."""

    tokens: tf.Tensor           # int32 (B, N, T): hypotheses, padded with eos_id after their EOS
    scores: tf.Tensor           # float32 (B, N): log_probs / gnmt_length_penalty(lengths, alpha), sorted descending
    log_probs: tf.Tensor        # float32 (B, N): raw sum of per-token log-probs
    lengths: tf.Tensor          # int32 (B, N): tokens up to and including EOS, T when unfinished
    token_log_probs: tf.Tensor  # float32 (B, N, T): per-token log-probs, 0 after EOS


def gather_state(state, indices):
    """Reorders every tensor of a state nest along its batch axis: ``x -> tf.gather(x, indices, axis=0)``.

    ``indices`` int32 (M,) picks rows of the (B, ...) tensors; the result has leading dimension M.
    """
    return tf.nest.map_structure(lambda x: tf.gather(x, indices, axis=0), state)


def tile_state(state, k):
    """Repeats each row of a state nest ``k`` times: (B, ...) -> (B * k, ...), row ``b * k + j`` = row ``b``."""
    return tf.nest.map_structure(lambda x: tf.repeat(x, k, axis=0), state)


def to_tensors(state):
    """Converts every leaf of a state nest to a tensor (Python numbers and numpy arrays included)."""
    return tf.nest.map_structure(tf.convert_to_tensor, state)


def batch_invariants(state):
    """``tf.while_loop`` shape invariants for a state nest: each leaf's static shape with the batch dim free."""
    def relax(x):
        shape = x.shape
        return shape if shape.rank in (None, 0) else tf.TensorShape([None]).concatenate(shape[1:])
    return tf.nest.map_structure(relax, state)


def gnmt_length_penalty(lengths, alpha, max_length=None):
    """Wu et al. (2016, GNMT) length penalty ``((5 + |Y|) / 6) ** alpha``; exactly 1 when alpha = 0.

    ``lengths`` int (...,) -> float32 (...,). Beam scores are ``log p(Y) / penalty``; alpha > 0 favours
    longer hypotheses, since their (negative) log-probs are divided by larger numbers. Computed as
    ``exp(alpha * log((5 + |Y|) / 6))`` with the logs precomputed for lengths 0..max_length when it is given:
    TensorFlow's graph rewrites of ``(5 + L) / 6`` or ``pow`` change results by an ulp between eager and
    ``tf.function``, and that is enough to flip near-tied beam rankings.
    """
    alpha = tf.cast(alpha, tf.float32)
    if max_length is None:
        log_base = tf.math.log(5.0 + tf.cast(lengths, tf.float32)) - math.log(6.0)
    else:
        table = tf.constant([math.log((5.0 + n) / 6.0) for n in range(max_length + 1)], tf.float32)
        log_base = tf.gather(table, lengths)
    return tf.exp(alpha * log_base)


def mask_column(matrix, column, values):
    """Writes ``values`` into column ``column`` (a scalar tensor) of the last axis of ``matrix``.

    matrix (..., T), values (...,) -> (..., T); a fixed-shape update usable as a ``tf.while_loop`` variable.
    """
    hit = tf.equal(tf.range(tf.shape(matrix)[-1]), column)
    return tf.where(hit, tf.expand_dims(values, -1), matrix)


def static_int(value, name, minimum=1):
    """A Python / numpy integer >= ``minimum`` as a Python int: lengths and widths fix the output shapes."""
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a Python int, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value
