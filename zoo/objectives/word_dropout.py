"""Word dropout (Bowman et al. 2016, Sec. 3.2): the decoder's input words are replaced by ``<unk>`` at
random while training, so it must rely on the latent code to predict the next word. Rate 0 keeps every word;
rate 1 gives the inputless decoder (every input but the first is ``<unk>``).
"""
import tensorflow as tf


def word_dropout(ids, rate, seed, unknown_id=0, keep_first=True):
    """ids int (B, T) -> ids with each position replaced by ``unknown_id`` with probability ``rate``; the first
    column (the start token) is kept when ``keep_first``. ``seed``: (2,) int32 (stateless)."""
    if not rate:
        return ids
    drop = tf.random.stateless_uniform(tf.shape(ids), seed=seed) < rate
    if keep_first:
        drop = tf.concat([tf.zeros_like(drop[:, :1]), drop[:, 1:]], axis=1)
    return tf.where(drop, tf.cast(unknown_id, ids.dtype), ids)
