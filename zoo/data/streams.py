"""Token streams laid out for stateful truncated backpropagation through time (TBPTT).

A stream of N token ids is cut into B rows of L = N // B consecutive tokens (the tail is dropped);
step i of an epoch reads columns [i T, (i + 1) T) of every row as inputs and the same columns shifted
by one as targets. Row b of step i + 1 continues row b of step i, so a model that carries its
recurrent state from one step to the next (``RNNLanguageModel``) sees each row as one long text,
truncating gradients every T tokens (Williams & Peng 1990; Zaremba et al. 2014's PTB setup;
Karpathy's char-rnn). Epochs repeat the same windows in the same order: nothing to shuffle.

``contexts_and_targets`` lays a stream out for order-d models instead (``NGramLanguageModel``): each token
with the d tokens before it.
"""
import numpy as np
import tensorflow as tf


def stream_rows(ids, batch_size):
    """int (N,) -> int32 (B, N // B): row b holds tokens [b L, (b + 1) L)."""
    ids = np.asarray(ids, np.int32)
    length = len(ids) // batch_size
    if length < 2:
        raise ValueError(f"a stream of {len(ids)} tokens is too short for {batch_size} rows of at least 2 tokens")
    return ids[: batch_size * length].reshape(batch_size, length)


def stream_steps(num_tokens, batch_size, seq_len):
    """Windows per epoch: (N // B - 1) // T, the last partial window included when it has a token."""
    return -(-(num_tokens // batch_size - 1) // seq_len)


def stream_batches(ids, batch_size, seq_len, first_epoch=0, epochs=1):
    """(inputs (B, T), targets (B, T)) int32 windows for epochs ``first_epoch .. epochs - 1``.

    Every window has T columns except possibly the last of an epoch (shorter). Pass
    ``steps_per_epoch = stream_steps(len(ids), batch_size, seq_len)`` to ``fit``.
    """
    rows = tf.constant(stream_rows(ids, batch_size))
    length = int(rows.shape[1])
    steps = stream_steps(len(ids), batch_size, seq_len)

    def window(step):
        start = step * seq_len
        stop = tf.minimum(start + seq_len, length - 1)
        return rows[:, start:stop], rows[:, start + 1:stop + 1]

    windows = tf.data.Dataset.range(steps).map(window)
    epochs_left = max(epochs, first_epoch) - first_epoch
    dataset = tf.data.Dataset.range(epochs_left).flat_map(lambda _: windows)
    # A known length: Keras otherwise runs one step past the end, which adds a zero to the loss mean.
    return dataset.apply(tf.data.experimental.assert_cardinality(steps * epochs_left)).prefetch(2)


def contexts_and_targets(ids, order, boundary_id):
    """A stream (N,) -> (contexts int32 (N, d), targets int32 (N,)); the stream is read after d boundary tokens."""
    ids = np.asarray(ids, np.int32)
    padded = np.concatenate([np.full(order, boundary_id, np.int32), ids])
    contexts = np.stack([padded[i:i + len(ids)] for i in range(order)], axis=1)
    return contexts, ids
