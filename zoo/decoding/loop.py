"""The left-to-right loop shared by greedy decoding and ancestral sampling.

One ``tf.while_loop`` with fixed-shape variables (preallocated (B, T) outputs updated column by column),
so it runs eagerly, under ``tf.function`` and inside an exported SavedModel signature. Rows that have
emitted ``eos_id`` are frozen: later tokens are ``eos_id`` with log-prob 0 and their length stops growing.
The loop exits early once every row is finished.
"""
import tensorflow as tf

from zoo.decoding.state import DecodeResult, batch_invariants, mask_column, static_int, to_tensors


def decode_left_to_right(step_fn, start_tokens, initial_state, max_length, choose, eos_id=None,
                         limit=None):
    """Runs ``step_fn`` for up to ``max_length`` steps, picking each token with ``choose``.

    Args:
      step_fn: ``(tokens int32 (B,), state) -> (logits (B, V), new_state)``.
      start_tokens: int (B,), the token fed at the first step (e.g. BOS).
      initial_state: nest of tensors with leading dim B.
      max_length: Python int T, the number of generated tokens.
      choose: ``(logits float32 (B, V), step int32 ()) -> int (B,)``, the selection rule.
      eos_id: Python int or None; None disables freezing (every length is T).
      limit: optional int scalar (a tensor, e.g. a serving request's ``max_tokens``): stop after
        min(T, limit) steps; later columns are padding (``eos_id`` or 0, log-prob 0) and lengths count only
        generated tokens. The output shape stays (B, T), so T is a static cap.
    Returns:
      ``DecodeResult`` with tokens int32 (B, T), log_probs float32 (B, T) (log-softmax of the raw logits
      at the chosen token), lengths int32 (B,).
    """
    max_length = static_int(max_length, "max_length")
    start_tokens = tf.cast(tf.convert_to_tensor(start_tokens), tf.int32)
    state = to_tensors(initial_state)
    batch = tf.shape(start_tokens)[0]
    pad = 0 if eos_id is None else int(eos_id)

    steps = max_length if limit is None else tf.minimum(max_length, tf.cast(limit, tf.int32))

    def cond(t, prev, state, tokens, log_probs, lengths, finished):
        return tf.logical_and(t < steps, tf.logical_not(tf.reduce_all(finished)))

    def body(t, prev, state, tokens, log_probs, lengths, finished):
        logits, new_state = step_fn(prev, state)
        logits = tf.cast(logits, tf.float32)
        token = tf.cast(choose(logits, t), tf.int32)
        token_log_prob = tf.gather(tf.nn.log_softmax(logits), token, batch_dims=1)
        lengths += tf.cast(tf.logical_not(finished), tf.int32)
        if eos_id is not None:
            token = tf.where(finished, pad, token)
            token_log_prob = tf.where(finished, 0.0, token_log_prob)
            finished = tf.logical_or(finished, tf.equal(token, pad))
        tokens = mask_column(tokens, t, token)
        log_probs = mask_column(log_probs, t, token_log_prob)
        return t + 1, token, new_state, tokens, log_probs, lengths, finished

    loop_vars = (tf.constant(0), start_tokens, state, tf.fill([batch, max_length], pad),
                 tf.zeros([batch, max_length], tf.float32), tf.zeros([batch], tf.int32), tf.zeros([batch], tf.bool))
    invariants = (tf.TensorShape([]), tf.TensorShape([None]), batch_invariants(state),
                  tf.TensorShape([None, max_length]), tf.TensorShape([None, max_length]),
                  tf.TensorShape([None]), tf.TensorShape([None]))
    _, _, _, tokens, log_probs, lengths, _ = tf.while_loop(cond, body, loop_vars, shape_invariants=invariants)
    return DecodeResult(tokens=tokens, log_probs=log_probs, lengths=lengths)
