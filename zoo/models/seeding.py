"""Seeds of the models' own training noise (posterior samples, word orderings)."""
import tensorflow as tf


def step_seed(model):
    """(2,) int32 stateless seed of this training step's noise: (model.seed, optimizer step).

    Keras does not checkpoint ``SeedGenerator`` state, but it does checkpoint the optimizer's step
    counter, so a run resumed from a backup draws exactly the noise of an uninterrupted one
    (tests/test_distribute.py). Without an optimizer (direct calls) the model's ``seed_generator`` is used.
    """
    if getattr(model, "optimizer", None) is None:
        return tf.cast(model.seed_generator.next(), tf.int32)
    return tf.stack([tf.constant(model.seed or 0, tf.int32), tf.cast(model.optimizer.iterations, tf.int32)])
