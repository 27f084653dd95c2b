"""Greedy decoding: at every step take the most probable next token.

The arg-max chain of Graves (2013, "Generating sequences with recurrent neural networks") and the
beam-width-1 special case of Sutskever, Vinyals & Le (2014). It is not the most probable sequence
(see ``beam_search`` and, for Markov models, ``viterbi``), but it is deterministic and cheap.
"""
import tensorflow as tf

from zoo.decoding.loop import decode_left_to_right


def greedy(step_fn, start_tokens, initial_state, max_length, eos_id=None, limit=None):
    """Arg-max decoding of ``max_length`` tokens.

    Args:
      step_fn: ``(tokens int32 (B,), state) -> (logits (B, V), new_state)``.
      start_tokens: int (B,), fed at the first step.
      initial_state: nest of tensors with leading dim B.
      max_length: Python int T.
      limit: optional int scalar tensor: at most this many steps (see ``decode_left_to_right``).
      eos_id: Python int or None. A row that emits it is frozen: later tokens are ``eos_id`` with log-prob 0.
    Returns:
      ``DecodeResult``: tokens int32 (B, T), log_probs float32 (B, T) (log-softmax of the chosen token),
      lengths int32 (B,) (up to and including the first EOS). Ties go to the lowest token id.
    """
    return decode_left_to_right(step_fn, start_tokens, initial_state, max_length,
                                lambda logits, step: tf.argmax(logits, axis=-1, output_type=tf.int32), eos_id=eos_id,
                                limit=limit)
