"""Warm-up records: ``<version>/assets.extra/tf_serving_warmup_requests``.

TF Serving (with its default ``--enable_model_warmup``) replays this TFRecord file of
``tensorflow.serving.PredictionLog`` protos when it loads a version, before the version serves
traffic, so the first real request does not pay for graph initialisation. A failing record
makes the load fail, so the records must be valid requests. The zoo writes one ``PredictLog``
per signature, holding that endpoint's ``example`` inputs, with the official
``tensorflow-serving-api`` protos. ``zoo serve`` replays the same records at load, and
``zoo export --check`` runs every signature on them through the TF C API.
"""
from pathlib import Path

import numpy as np

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
MAX_RECORDS = 1000  # TF Serving refuses more (WarmupConsts::kMaxNumRecords)


def warmup_path(version_dir):
    return Path(version_dir) / WARMUP_FILE


def prediction_logs(endpoints, model_name):
    """{signature: Endpoint} -> list of PredictionLog protos (one PredictLog per signature)."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    logs = []
    for signature, endpoint in endpoints.items():
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model_name
        request.model_spec.signature_name = signature
        for spec in endpoint.input_signature:
            value = np.asarray(endpoint.example[spec.name], dtype=spec.dtype.as_numpy_dtype)
            request.inputs[spec.name].CopyFrom(tf.make_tensor_proto(value, dtype=spec.dtype))
        logs.append(prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request)))
    return logs


def write_warmup_requests(model, version_dir, model_name):
    """Writes one warm-up PredictLog per signature of ``model.export_endpoints()`` into the version
    folder; returns the file's path."""
    import tensorflow as tf

    logs = prediction_logs(model.export_endpoints(), model_name)
    if len(logs) > MAX_RECORDS:
        raise ValueError(f"{len(logs)} warm-up records; TF Serving accepts at most {MAX_RECORDS}")
    path = warmup_path(version_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(version_dir):
    """[(signature name, {input key: numpy array})] from the version's warm-up file ([] if it has none).

    Raises ValueError for a record that is not a PredictLog (the zoo writes only those)."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = warmup_path(version_dir)
    if not path.exists():
        return []
    requests = []
    for i, record in enumerate(tf.data.TFRecordDataset(str(path)).as_numpy_iterator()):
        log = prediction_log_pb2.PredictionLog.FromString(record)
        if log.WhichOneof("log_type") != "predict_log":
            raise ValueError(f"{path}: record {i} is a {log.WhichOneof('log_type')}, not a predict_log")
        request = log.predict_log.request
        inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        requests.append((request.model_spec.signature_name or "serving_default", inputs))
    return requests
