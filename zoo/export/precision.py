"""Half-precision weight storage for artifacts that would pass the 20 MB cap at float32.

A model published with ``weights_dtype="float16"`` first has its weights rounded to the nearest float16
(``round_weights``), and only then is evaluated, so the card's figures are those of the weights that ship. The
SavedModel then stores each float32 weight as a float16 variable and its graphs read it through one ``Cast``
back to float32 (a core op: stock TF Serving runs it); computation stays float32. Since the rounded weights are
exactly representable in float16, the cast restores them bit for bit: the export check's difference is 0, and
``zoo.export.weights_from_saved_model`` gives the Keras model the same float32 numbers.

Cost: half the bytes (the sentence VAE in Bowman's sizes: 26 -> 13 MB); the rounding moves each weight by at
most 2^-11 of its magnitude (float16 keeps 11 significant bits), which the card's metrics already include.
"""
import contextlib

import keras
import numpy as np
import tensorflow as tf

from zoo.storage import check_weights_dtype

def _stored_in_half(variable):
    return variable.dtype == "float32"


def round_weights(model, weights_dtype="float32"):
    """Rounds every float32 weight of ``model`` to the nearest ``weights_dtype`` value, in place (a no-op for
    float32). Returns the largest relative change, for the card."""
    if check_weights_dtype(weights_dtype) == "float32":
        return 0.0
    worst = 0.0
    for variable in model.weights:
        if not _stored_in_half(variable):
            continue
        value = np.asarray(variable.numpy())
        rounded = value.astype(np.float16).astype(np.float32)
        if not np.all(np.isfinite(rounded[np.isfinite(value)])):
            raise ValueError(f"weight {variable.path} has values outside float16's range (|w| > 65504); "
                             "publish it with weights_dtype='float32'")
        scale = np.maximum(np.abs(value), np.finfo(np.float16).tiny)
        worst = max(worst, float(np.max(np.abs(rounded - value) / scale)) if value.size else 0.0)
        variable.assign(rounded)
    return worst


class StoredWeights:
    """The variables a SavedModel stores for ``model.weights`` (in order) and the scope that makes the
    endpoints read them: float32 weights become float16 variables read through a cast when ``weights_dtype``
    is "float16"; otherwise the model's own variables, read directly."""

    def __init__(self, model, weights_dtype="float32"):
        self.half = check_weights_dtype(weights_dtype) == "float16"
        self.model_weights = list(model.weights)
        self.variables = []
        for weight in self.model_weights:
            if self.half and _stored_in_half(weight):
                value = np.asarray(weight.numpy())
                if not np.array_equal(value.astype(np.float16).astype(np.float32), value):
                    raise ValueError(f"weight {weight.path} is not rounded to float16: call "
                                     "zoo.export.precision.round_weights(model, 'float16') before evaluating")
                self.variables.append(tf.Variable(value.astype(np.float16), trainable=False,
                                                  name=weight.path.replace("/", "_") + "_f16"))
            else:
                self.variables.append(weight if isinstance(weight, tf.Variable) else weight.value)

    @contextlib.contextmanager
    def reading(self):
        """Inside a traced endpoint: every model weight stored in half reads as ``cast(float16 variable)``."""
        if not self.half:
            yield
            return
        mapping = [(weight, tf.cast(stored, tf.float32)) for weight, stored in zip(self.model_weights, self.variables)
                   if stored.dtype == tf.float16]
        with keras.StatelessScope(state_mapping=mapping):
            yield

    def wrap(self, fn):
        """``fn`` reading the stored weights (for ``ExportArchive.add_endpoint``)."""
        def read_stored(*args):
            with self.reading():
                return fn(*args)
        return read_stored
