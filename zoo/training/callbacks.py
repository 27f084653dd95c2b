"""Callbacks of the zoo's training path (``zoo.training.train``)."""
import math
import time

import keras


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the first epoch end after ``max_minutes`` of wall time (CPU-sized runs)."""

    def __init__(self, max_minutes):
        super().__init__()
        self.max_seconds = 60.0 * max_minutes
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if time.time() - self.start > self.max_seconds:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            print(f"TimeBudget: stopping after epoch {epoch + 1}: {self.max_seconds / 60:.1f} min budget used")


class StopOnNaN(keras.callbacks.Callback):
    """Stops at the first non-finite loss, naming the step and the last good checkpoint.

    Raises ``FloatingPointError`` so the run fails loudly instead of saving NaN weights.
    """

    def __init__(self, checkpoint_path=None):
        super().__init__()
        self.checkpoint_path = checkpoint_path

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            step = int(self.model.optimizer.iterations.numpy())
            where = f"last good checkpoint: {self.checkpoint_path}" if self.checkpoint_path else "no checkpoint kept"
            raise FloatingPointError(f"loss became {loss} at optimizer step {step} (batch {batch} of this epoch); "
                                     f"training stopped; {where}")
