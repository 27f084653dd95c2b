"""Ancestral sampling with temperature, top-k (Fan, Lewis & Dauphin 2018) and nucleus / top-p
(Holtzman et al. 2020, "The curious case of neural text degeneration") truncation.

At each step the logits are divided by ``temperature``, then everything outside the k most probable
tokens is removed, then everything outside the smallest set of most probable tokens whose probability
reaches ``top_p``; the next token is drawn from the renormalised remainder. Sampling is stateless:
step t uses the seed ``stateless_fold_in(seed, t)``, so the same seed gives the same tokens eagerly,
under ``tf.function`` and in a SavedModel (on the same device type). The reported ``log_probs`` are
those of the *unfiltered, temperature-1* model distribution, log softmax(logits)[token], so they can be
compared across decoding settings and summed into the model's log-likelihood of the generated text.
"""
import tensorflow as tf

from zoo.decoding.loop import decode_left_to_right

_NEG_INF = float("-inf")


def _ranks(logits):
    """Rank of every entry along the last axis, 0 = largest; ties go to the lower index. (..., V) -> int32."""
    order = tf.argsort(logits, axis=-1, direction="DESCENDING", stable=True)
    return tf.argsort(order, axis=-1, stable=True), order


def filter_top_k(logits, k):
    """Keeps the ``k`` largest logits of each row and sets the rest to -inf (Fan et al. 2018).

    logits float (..., V) -> same shape. Exactly k entries survive; among equal logits the lower
    token id wins. ``k <= 0`` (or k >= V) leaves the logits unchanged; k may be a Python int or a tensor.
    """
    logits = tf.convert_to_tensor(logits)
    if isinstance(k, int) and k <= 0:
        return logits
    k = tf.cast(k, tf.int32)
    ranks, _ = _ranks(logits)
    keep = tf.logical_or(ranks < k, k <= 0)
    return tf.where(keep, logits, tf.cast(_NEG_INF, logits.dtype))


def filter_top_p(logits, p):
    """Nucleus filtering (Holtzman et al. 2020): keeps the smallest set of most probable tokens whose
    total probability softmax(logits) is >= ``p``; the rest become -inf.

    logits float (..., V) with known rank -> same shape; p a float or scalar tensor. The most probable
    token always survives (so a tiny p is greedy); p >= 1 keeps everything. Among equal probabilities the
    lower token id enters the set first.
    """
    logits = tf.convert_to_tensor(logits)
    if isinstance(p, (int, float)) and p >= 1.0:
        return logits
    p = tf.cast(p, tf.float32)
    ranks, order = _ranks(logits)
    batch_dims = logits.shape.rank - 1
    sorted_probs = tf.nn.softmax(tf.cast(tf.gather(logits, order, batch_dims=batch_dims), tf.float32))
    mass_before = tf.cumsum(sorted_probs, axis=-1, exclusive=True)     # probability of the better tokens
    keep_sorted = tf.logical_or(mass_before < p, tf.equal(tf.range(tf.shape(logits)[-1]), 0))
    keep = tf.logical_or(tf.gather(keep_sorted, ranks, batch_dims=batch_dims), p >= 1.0)
    return tf.where(keep, logits, tf.cast(_NEG_INF, logits.dtype))


def base_seed(seed):
    """A stateless-RNG seed of shape (2,) int64 from a Python int, a scalar tensor or a (2,) tensor."""
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if seed.shape.rank == 0:
        return tf.stack([seed, tf.constant(0, tf.int64)])
    return tf.reshape(seed, [2])


def sample(step_fn, start_tokens, initial_state, max_length, seed, temperature=1.0, top_k=0, top_p=1.0,
           eos_id=None, limit=None):
    """Draws ``max_length`` tokens per row from the (filtered) model distribution.

    Args:
      step_fn: ``(tokens int32 (B,), state) -> (logits (B, V), new_state)``.
      start_tokens: int (B,), fed at the first step.
      initial_state: nest of tensors with leading dim B.
      max_length: Python int T.
      seed: int, scalar or (2,) int tensor; rows get independent draws from one seed.
      temperature: float or scalar tensor > 0 dividing the logits before filtering.
      top_k: int (Python or tensor); 0 = off.
      top_p: float or scalar tensor in (0, 1]; 1.0 = off. Applied after temperature and top-k.
      limit: optional int scalar tensor: at most this many steps (see ``decode_left_to_right``).
      eos_id: Python int or None; rows that emit it are frozen (later tokens eos_id, log-prob 0).
    Returns:
      ``DecodeResult``: tokens int32 (B, T), log_probs float32 (B, T) under the unfiltered
      temperature-1 distribution, lengths int32 (B,).
    """
    seed = base_seed(seed)

    def choose(logits, step):
        scores = filter_top_p(filter_top_k(logits / tf.cast(temperature, tf.float32), top_k), top_p)
        step_seed = tf.random.experimental.stateless_fold_in(seed, step)
        return tf.random.stateless_categorical(scores, 1, step_seed, dtype=tf.int32)[:, 0]

    return decode_left_to_right(step_fn, start_tokens, initial_state, max_length, choose, eos_id=eos_id,
                                limit=limit)
