"""SavedModel export in TF Serving's layout: ``<artifact>/<version>/saved_model.pb + variables/``."""
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.export.precision import StoredWeights


def export_saved_model(model, directory, weights_dtype="float32"):
    """Writes every endpoint of ``model.export_endpoints()`` as a named signature into ``directory``.

    Uses ``keras.export.ExportArchive``; the graphs hold core TF ops only, so stock TF Serving
    (which has no Python and no tensorflow-text kernels) can load them. ``weights_dtype="float16"`` stores the
    float32 weights at half precision (``zoo.export.precision``; the model's weights must be rounded first).
    """
    archive = keras.export.ExportArchive()
    # The model itself is not tracked: ExportArchive saves the variables the endpoints use (``_all_variables``),
    # and tracking the model would save every weight a second time through its Keras variable wrappers
    # (Keras 3.15), doubling the artifact.
    for resource in getattr(model, "export_resources", lambda: [])():  # e.g. a vocabulary lookup table
        archive.track(resource)
    # model.weights in order, as the tf.Variables the endpoints use: the SavedModel stores them once, and
    # ``weights_from_saved_model`` reads them back (``zoo.load`` of an artifact without model.keras).
    # ExportArchive saves only what its root object holds, and it has no public hook for extra objects.
    stored = StoredWeights(model, weights_dtype)
    archive._tf_trackable.keras_weights = stored.variables
    for name, endpoint in model.export_endpoints().items():
        archive.add_endpoint(name=name, fn=stored.wrap(endpoint.guarded_fn),
                             input_signature=list(endpoint.input_signature))
    archive.write_out(str(directory), verbose=False)
    return Path(directory)


def weights_from_saved_model(directory):
    """numpy arrays of the exported model's ``model.weights``, in order (``keras_weights``, see
    ``export_saved_model``); weights stored at half precision come back as the float32 the model computes in."""
    loaded = tf.saved_model.load(str(directory))
    if not hasattr(loaded, "keras_weights"):
        raise ValueError(f"{directory}: this SavedModel does not record the Keras weights (an older export); "
                         "load the artifact's model.keras instead")
    return [w.numpy().astype(np.float32) if w.dtype == tf.float16 else w.numpy() for w in loaded.keras_weights]


def signature_docs(model):
    """For the card: each signature's inputs/outputs (dtype, shape), doc and an example request."""
    docs = {}
    for name, endpoint in model.export_endpoints().items():
        outputs = {k: np.asarray(v) for k, v in endpoint.call_with_example().items()}
        docs[name] = {
            "doc": endpoint.doc,
            "inputs": {s.name: {"dtype": s.dtype.name, "shape": s.shape.as_list()} for s in endpoint.input_signature},
            "outputs": {k: {"dtype": str(v.dtype), "shape": [None] + list(v.shape[1:]) if v.ndim else []}
                        for k, v in outputs.items()},
            "example_request": {"signature_name": name,
                                "inputs": {k: np.asarray(v).tolist() for k, v in endpoint.example.items()}},
        }
    return docs


def check_export(model, directory, rtol=1e-4, atol=1e-4):
    """Reloads the SavedModel with ``tf.saved_model.load`` and compares every signature's outputs on its
    example inputs with the Keras model's. Returns {signature: max abs difference}; raises
    ``AssertionError`` naming the signature and output on a mismatch."""
    loaded = tf.saved_model.load(str(directory))
    report = {}
    for name, endpoint in model.export_endpoints().items():
        if name not in loaded.signatures:
            raise AssertionError(f"{directory}: signature {name!r} missing (has {list(loaded.signatures)})")
        expected = endpoint.call_with_example()
        inputs = {s.name: tf.constant(endpoint.example[s.name], s.dtype) for s in endpoint.input_signature}
        got = {k: v.numpy() for k, v in loaded.signatures[name](**inputs).items()}
        report[name] = compare_outputs(expected, got, f"{directory}:{name}", rtol, atol, endpoint.tied_outputs)
    return report


def compare_outputs(expected, got, where, rtol=1e-4, atol=1e-4, tied_outputs=()):
    """Max abs difference over the outputs of one signature call; AssertionError on mismatch. Outputs named in
    ``tied_outputs`` must exist but may differ (see ``Endpoint.tied_outputs``)."""
    if set(expected) != set(got):
        raise AssertionError(f"{where}: outputs {sorted(got)} differ from the model's {sorted(expected)}")
    worst = 0.0
    for key in expected:
        if key in tied_outputs:
            continue
        a, b = np.asarray(expected[key]), np.asarray(got[key])
        if a.shape != b.shape:
            raise AssertionError(f"{where}/{key}: shape {b.shape}, expected {a.shape}")
        if a.dtype.kind in "OSU" or b.dtype.kind in "OSU":  # string outputs (e.g. topic words) must be equal
            if not np.array_equal(a.astype(bytes), b.astype(bytes)):
                raise AssertionError(f"{where}/{key}: string outputs differ")
            continue
        if a.dtype.kind == "b" or b.dtype.kind == "b":  # flags (e.g. "known") must be equal
            if not np.array_equal(a, b):
                raise AssertionError(f"{where}/{key}: boolean outputs differ")
            continue
        if not np.allclose(a, b, rtol=rtol, atol=atol):
            raise AssertionError(f"{where}/{key}: max abs difference {np.max(np.abs(a - b)):.3g}")
        finite = np.isfinite(a) & np.isfinite(b)  # equal infinities (an AIS bound's open end) differ by nothing
        worst = max(worst, float(np.max(np.abs(a[finite] - b[finite]))) if finite.any() else 0.0)
    return worst
