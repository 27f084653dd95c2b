"""Loss scaling under ``tf.distribute``: a model-level concern (every model whose ``compute_loss`` is its own
scales its loss), kept below the models so they need not import the training layer (``zoo.training.distribute``
picks the strategy and re-exports this)."""
import tensorflow as tf


def per_replica_loss(loss):
    """A batch-mean loss divided by the replicas in sync, so all-reduced (summed) gradients are those of
    the global-batch mean. Every model whose ``compute_loss`` is its own calls this."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / tf.cast(replicas, loss.dtype) if replicas > 1 else loss
