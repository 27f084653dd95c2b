"""Callbacks of the zoo's training path (``zoo.training.train``)."""
import json
import math
import shutil
import time
from pathlib import Path

import keras
import tensorflow as tf

from zoo.objectives import mutual_information


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


class StopFile(keras.callbacks.Callback):
    """``touch <run_dir>/STOP``: training ends at the next epoch end, and the run is evaluated and
    published as usual (the file is removed, so the next run of the recipe is not stopped)."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)

    def on_epoch_end(self, epoch, logs=None):
        if self.path.exists():
            self.path.unlink()
            self.model.stop_training = True
            print(f"StopFile: {self.path} found; stopping after epoch {epoch + 1}")


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


class CorruptCheckpointError(RuntimeError):
    """A backup file cannot be read; the message names it and says how to start over."""


def _weights_readable(path):
    import h5py
    try:
        with h5py.File(path, "r") as f:
            return len(f.keys()) > 0
    except (OSError, ValueError):
        return False


def _metadata_epoch(path):
    try:
        epoch = json.loads(Path(path).read_text())["epoch"]
        return epoch if isinstance(epoch, int) and epoch >= 0 else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` (weights, optimizer state, epoch) that checks its files before resuming.

    Two generations are kept (``double_checkpoint``). ``resume_epoch()`` validates them: a corrupt or
    truncated latest checkpoint with a sound previous one is replaced by it, with a message naming
    the bad file; when nothing sound is left it raises ``CorruptCheckpointError`` naming the file,
    never starting again from scratch in silence.
    """

    def __init__(self, backup_dir):
        super().__init__(str(backup_dir), double_checkpoint=True)
        self.folder = Path(backup_dir)

    def resume_epoch(self):
        """The epoch a resumed run starts at (0 without a backup), after checking the files."""
        weights, metadata = Path(self._weights_path), Path(self._training_metadata_path)
        if not weights.exists() and not metadata.exists():
            return 0
        bad = [p for p, ok in ((weights, _weights_readable(weights) if weights.exists() else False),
                               (metadata, _metadata_epoch(metadata) is not None)) if not ok]
        if not bad:
            return _metadata_epoch(metadata)
        previous = (Path(self._prev_weights_path), Path(self._prev_training_metadata_path))
        if previous[0].exists() and _weights_readable(previous[0]) and _metadata_epoch(previous[1]) is not None:
            print(f"ResumableBackup: {', '.join(map(str, bad))} is corrupt or truncated; resuming from the "
                  f"previous checkpoint (epoch {_metadata_epoch(previous[1])})")
            shutil.copy(previous[0], weights)
            shutil.copy(previous[1], metadata)
            return _metadata_epoch(metadata)
        raise CorruptCheckpointError(f"cannot resume: {', '.join(map(str, bad))} is corrupt or truncated and no "
                                     f"sound previous checkpoint exists; delete {self.folder} to start over")


class Diagnostics(keras.callbacks.Callback):
    """Per-epoch TensorBoard summaries beyond the metrics: whatever ``model.diagnostics(x)`` returns
    for a fixed validation batch ({"scalars": {}, "histograms": {}, "images": {}}), e.g. the KL of
    each latent dimension and prior samples of the VAE."""

    def __init__(self, log_dir, batch):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir))
        self.batch = batch

    def on_epoch_end(self, epoch, logs=None):
        if not hasattr(self.model, "diagnostics"):
            return
        report = self.model.diagnostics(self.batch)
        with self.writer.as_default(step=epoch):
            for name, value in report.get("scalars", {}).items():
                tf.summary.scalar(name, value)
            for name, value in report.get("histograms", {}).items():
                tf.summary.histogram(name, value)
            for name, value in report.get("images", {}).items():
                tf.summary.image(name, value, max_outputs=16)
            for name, value in report.get("texts", {}).items():
                tf.summary.text(name, value)
        self.writer.flush()


class AggressiveUntilInformationPlateaus(keras.callbacks.Callback):
    """Ends the aggressive phase of He et al. (2019) (``zoo.models.aggressive``): after every epoch, I(x; z) on
    fixed validation batches (``zoo.objectives.mutual_information``, He et al.'s estimator, averaged over the
    batches weighted by their size, each batch with its own fixed seed so epochs differ only by the model); the
    first time it is below the previous epoch's (0 before the first epoch, as theirs), the model's ``aggressive``
    variable is set to 0 for good. Logs ``mutual_information`` and ``aggressive`` (1 if the epoch was trained
    aggressively) each epoch; runs before the backup callback, so a resumed run keeps the decision (not the
    previous figure: it starts again from 0).

    batches: an iterable of model inputs (B, ...), e.g. the validation split in batches of the training size
        (He et al. measure on their validation batches).
    """

    def __init__(self, batches, seed=0):
        super().__init__()
        self.batches = [tf.convert_to_tensor(b, tf.float32) for b in batches]
        if not self.batches:
            raise ValueError("AggressiveUntilInformationPlateaus needs at least one validation batch")
        self.seed = int(seed)
        self.previous = 0.0
        self.stopped_epoch = None

    def information(self):
        """I(x; z) in nats on the fixed batches under the current model."""
        total = sum(len(x) * float(mutual_information(self.model.posterior(x), tf.constant([self.seed, i])))
                    for i, x in enumerate(self.batches))
        return total / sum(len(x) for x in self.batches)

    def on_epoch_end(self, epoch, logs=None):
        information = self.information()
        aggressive = float(self.model.aggressive.numpy())
        if aggressive > 0.5 and information < self.previous:
            self.model.aggressive.assign(0.0)
            self.stopped_epoch = epoch
            print(f"AggressiveUntilInformationPlateaus: I(x; z) fell from {self.previous:.4f} to {information:.4f} "
                  f"nats after epoch {epoch + 1}; joint training from now on")
        self.previous = information
        if logs is not None:
            logs["mutual_information"] = information
            logs["aggressive"] = aggressive
