"""``tf.data`` pipelines over in-memory arrays (images, bags of words): shared by every loader."""
import numpy as np
import tensorflow as tf


def _gather_batches(x, indices):
    """x: one (N, ...) array (batches are float32) or a tuple of arrays (e.g. (inputs, targets), dtypes kept)."""
    data = tuple(tf.constant(a) for a in x) if isinstance(x, tuple) else tf.constant(x, tf.float32)
    return indices.map(lambda i: tf.nest.map_structure(lambda d: tf.gather(d, i), data),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def as_dataset(x, batch_size, shuffle, seed=0, drop_remainder=False):
    """float32 (N, D) (or a tuple of (N, ...) arrays) -> a pipeline of (B, D) batches, reshuffled each epoch
    if asked.

    The whole array lives in one tensor; batches of indices are gathered from it, which costs
    far less per step than ``from_tensor_slices`` followed by ``batch``.
    """
    n = len(x[0]) if isinstance(x, tuple) else len(x)
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return _gather_batches(x, indices.batch(batch_size, drop_remainder=drop_remainder))


def epoch_batches(x, batch_size, seed, first_epoch, epochs):
    """(B, D) batches (tuples of them when ``x`` is a tuple of arrays) for epochs ``first_epoch .. epochs - 1``,
    one shuffle per epoch.

    Epoch e's order depends only on (seed, e), never on how many epochs this process has run,
    so a run resumed at epoch e sees exactly the batches an uninterrupted run sees (the basis
    of bitwise-equal resume). Pass ``steps_per_epoch = steps_per_epoch(len(x), batch_size)``
    to ``fit``.
    """
    n = len(x[0]) if isinstance(x, tuple) else len(x)

    def one_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([seed, epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    seed = tf.constant(seed, tf.int64)
    epochs_left = tf.data.Dataset.range(first_epoch, max(epochs, first_epoch))
    return _gather_batches(x, epochs_left.flat_map(one_epoch))


def steps_per_epoch(n, batch_size):
    return -(-n // batch_size)


def length_bucketed_batches(x, batch_size, seed, first_epoch, epochs, pool=50, pad=-1):
    """Padded sequences x (N, L) float32 (``pad`` after each row's end) -> batches (B, L_b) for epochs
    ``first_epoch .. epochs - 1``, each cut to its own longest row: the rows of an epoch are shuffled, cut into
    pools of ``pool`` batches, sorted by length within a pool and batched, and the batches shuffled. On PTB's
    training sentences (mean 22.1 tokens with ``<eos>``, longest 83), batches of 32 hold 0.28 of the cells of
    padding every row to 83 (the tokens alone are 0.27), so the recurrent work falls by as much. Like
    ``epoch_batches``, epoch e's batches depend only on (seed, e), so a resumed run sees what an uninterrupted
    one sees.
    """
    x = np.asarray(x, np.float32)
    lengths = (x != pad).sum(axis=1)
    batches = []
    for epoch in range(first_epoch, max(epochs, first_epoch)):
        rng = np.random.RandomState([seed, epoch])
        order = rng.permutation(len(x))
        epoch_batches_ = []
        for start in range(0, len(x), batch_size * pool):
            chunk = order[start:start + batch_size * pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            epoch_batches_ += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
        batches += [epoch_batches_[i] for i in rng.permutation(len(epoch_batches_))]
    return _trimmed_batches(x, lengths, batches)


def length_order(x, pad=-1):
    """The row order of padded sequences x (N, L) by length, shortest first (ties in their order)."""
    return np.argsort((np.asarray(x) != pad).sum(axis=1), kind="stable")


def length_sorted_batches(x, batch_size, pad=-1):
    """Padded sequences (N, L) -> one pass of batches in length order, each cut to its longest row
    (validation and evaluation, where order does not matter)."""
    x = np.asarray(x, np.float32)
    lengths = (x != pad).sum(axis=1)
    order = length_order(x, pad)
    return _trimmed_batches(x, lengths, [order[i:i + batch_size] for i in range(0, len(x), batch_size)])


def _trimmed_batches(x, lengths, batches):
    if not batches:
        raise ValueError("no sequences to batch")
    indices = tf.RaggedTensor.from_row_lengths(np.concatenate(batches).astype(np.int64),
                                               [len(b) for b in batches])
    data, lengths = tf.constant(x), tf.constant(lengths, tf.int64)

    def gather(i):
        width = tf.reduce_max(tf.gather(lengths, i))
        return tf.gather(data, i)[:, :width]

    return (tf.data.Dataset.from_tensor_slices(indices)
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE))
