"""Pieces of memory networks shared by ``MemN2N`` and ``KeyValueMemoryNetwork`` (Sukhbaatar et al. 2015,
"End-To-End Memory Networks", section 4.1; Miller et al. 2016, "Key-Value Memory Networks").

Token id 0 is padding everywhere: its embedding is never used (masked), so empty word slots and empty memory
slots contribute nothing.
"""
import tensorflow as tf


def position_encoding(tokens, dim):
    """The paper's position encoding (PE) weights for bags of word ids ``tokens`` (..., J_max) int: float32
    (..., J_max, d) with

        l_kj = (1 - j / J) - (k / d) (1 - 2 j / J),   j = 1..J (word), k = 1..d (dimension),

    J the number of (non-padding) words of that sentence; 0 on padding. Words are left-aligned (padding last)."""
    mask = tf.cast(tf.not_equal(tokens, 0), tf.float32)
    length = tf.reduce_sum(mask, axis=-1, keepdims=True)[..., None]                # (..., 1, 1) J
    j = tf.cast(tf.range(1, tf.shape(tokens)[-1] + 1), tf.float32)[:, None]       # (J_max, 1)
    k = tf.cast(tf.range(1, dim + 1), tf.float32)[None, :] / float(dim)          # (1, d)
    safe = tf.maximum(length, 1.0)
    weights = (1.0 - j / safe) - k * (1.0 - 2.0 * j / safe)
    return weights * mask[..., None]


def encode_bags(embeddings, tokens, encoding="position", weights=None):
    """Sentences of word ids (..., J) -> (..., d): the sum of their words' embeddings (``encoding="bow"``) or
    the position-weighted sum m_i = sum_j l_j * A x_ij (``"position"``). ``embeddings``: (V, d); ``weights``:
    ``position_encoding(tokens, d)`` when already computed."""
    vectors = tf.gather(embeddings, tokens)                                       # (..., J, d)
    if encoding == "position":
        if weights is None:
            weights = position_encoding(tokens, embeddings.shape[-1])
        return tf.reduce_sum(vectors * weights, axis=-2)
    if encoding == "bow":
        mask = tf.cast(tf.not_equal(tokens, 0), vectors.dtype)[..., None]
        return tf.reduce_sum(vectors * mask, axis=-2)
    raise ValueError(f"encoding must be 'position' or 'bow', got {encoding!r}")


def memory_mask(stories):
    """stories (B, M, J) -> (B, M) bool: the slots that hold a sentence."""
    return tf.reduce_any(tf.not_equal(stories, 0), axis=-1)


def time_indices(mask, noise=0.0, seed=None, limit=None):
    """The temporal-encoding row of every memory slot (B, M) int32: slot i (the i-th most recent sentence) reads
    row i. With ``noise`` > 0 (training with random noise, RN: "we add 10% empty memories to the stories"), an
    empty memory is inserted before each sentence with probability ``noise``, which shifts every older
    sentence's row by the empties in front of it; rows are clipped to ``limit - 1``."""
    rows = tf.broadcast_to(tf.range(tf.shape(mask)[1])[None, :], tf.shape(mask))
    if noise > 0.0:
        inserted = tf.cast(tf.random.stateless_uniform(tf.shape(mask), seed) < noise, tf.int32)
        rows = rows + tf.cumsum(inserted, axis=1)
    if limit is not None:
        rows = tf.minimum(rows, limit - 1)
    return rows


def memory_attention(scores, mask, linear=None):
    """Attention over memory slots: scores (B, M), mask (B, M) bool -> p (B, M): softmax over the real slots
    (padding gets exactly 0; a story with no sentence gets all zeros). ``linear`` (a scalar in [0, 1], the
    linear-start switch): 1 gives the raw masked scores, the paper's LS phase without the softmax."""
    maskf = tf.cast(mask, scores.dtype)
    shifted = scores - tf.stop_gradient(tf.reduce_max(tf.where(mask, scores, -1e9), axis=-1, keepdims=True))
    exp = tf.exp(tf.where(mask, shifted, -1e9)) * maskf
    p = exp / tf.maximum(tf.reduce_sum(exp, axis=-1, keepdims=True), 1e-30)
    if linear is None:
        return p
    return linear * scores * maskf + (1.0 - linear) * p


def answer_logits(u, weights):
    """The answer softmax's logits a = W u: u (B, d), weights (V, d) -> (B, V) (softmax over the vocabulary)."""
    return tf.matmul(u, weights, transpose_b=True)
