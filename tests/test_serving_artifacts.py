"""What stock TF Serving reads from the zoo's artifacts: warm-up records written with the official
``PredictionLog`` proto, ``models.config``; the C-API check replaying the warm-up records; the JSON codec."""
import json
import math

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from tests.serving_helpers import MODEL, export_tiny_models, tiny_vae
from zoo import hub
from zoo.export import capi
from zoo.serving import codec
from zoo.serving.config import read_models_config, servable_versions
from zoo.serving.errors import ServingError
from zoo.serving.warmup import read_warmup_requests, warmup_path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return root, export_tiny_models(root)


def test_warmup_records_are_prediction_logs(exported):
    root, models = exported
    path = root / MODEL / "1" / "assets.extra" / "tf_serving_warmup_requests"
    records = [prediction_log_pb2.PredictionLog.FromString(r)
               for r in tf.data.TFRecordDataset(str(path)).as_numpy_iterator()]
    endpoints = models[1].export_endpoints()
    assert [r.predict_log.request.model_spec.signature_name for r in records] == list(endpoints)
    for record in records:
        request = record.predict_log.request
        assert request.model_spec.name == MODEL
        example = endpoints[request.model_spec.signature_name].example
        assert set(request.inputs) == set(example)
        for key, proto in request.inputs.items():
            np.testing.assert_array_equal(tf.make_ndarray(proto), example[key])


def test_models_config_parses_with_the_official_proto(exported):
    root, _ = exported
    config = read_models_config(root / "models.config")
    entries = list(config.model_config_list.config)
    assert [(e.name, e.base_path, e.model_platform) for e in entries] == [(MODEL, f"/models/{MODEL}", "tensorflow")]
    assert entries[0].model_version_policy.WhichOneof("policy_choice") == "all"
    assert servable_versions(root / MODEL) == [1, 2]


def test_c_api_check_runs_the_warmup_requests(exported, tmp_path):
    root, models = exported
    version_dir = root / MODEL / "1"
    report = capi.check_with_c_api(models[1], version_dir, require_warmup=True)
    assert set(report) == set(models[1].export_endpoints())
    # Proof that the records (not the examples) are what runs: a bad record fails in the C process.
    import shutil

    copy = tmp_path / "1"
    shutil.copytree(version_dir, copy)
    with tf.io.TFRecordWriter(str(warmup_path(copy))) as writer:
        log = prediction_log_pb2.PredictionLog()
        log.predict_log.request.model_spec.signature_name = "encode"
        log.predict_log.request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.full((1, 784), 0.5, np.float32)))
        writer.write(log.SerializeToString())
    with pytest.raises(capi.CApiError, match="must hold only 0 and 1"):
        capi.check_with_c_api(models[1], copy)
    with pytest.raises(AssertionError, match="no warm-up record for signatures"):
        capi.check_with_c_api(models[1], copy, require_warmup=True)


def test_cli_export_warmup_only_and_check(zoo_home, capsys):
    from zoo.cli import main

    model = tiny_vae(0)
    folder = zoo_home / "models" / "tiny"  # the user's models: zoo export may rewrite them
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    (folder / "card.json").write_text(json.dumps({"name": "tiny", "model_class": "VAE", "model_config": {},
                                                  "training": {"learning_rate": 1e-3}}))
    assert main(["export", "tiny"]) == 0
    assert warmup_path(folder / "1").exists() and (folder.parent / "models.config").exists()
    warmup_path(folder / "1").unlink()
    assert main(["export", "tiny", "--warmup-only"]) == 0
    assert len(read_warmup_requests(folder / "1")) == len(model.export_endpoints())
    capsys.readouterr()
    assert main(["export", "tiny", "--check"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["1"]["warmup_requests"] is True and set(report["1"]["c_api"]) == set(model.export_endpoints())


def _shipped():
    return [n for n in hub.list_models() if servable_versions(hub.models_dir() / n)]


@pytest.mark.parametrize("name", _shipped() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no servable artifact in saved_models/ yet"))])
def test_shipped_artifacts_are_tf_serving_ready(name):
    """Every version of every shipped artifact: warm-up records for every signature, listed in models.config,
    and every signature run on its warm-up request through the TF C API matches the Keras model."""
    import zoo

    model = zoo.load(name, compile=False)
    config = read_models_config(hub.models_dir() / "models.config")
    assert name in [e.name for e in config.model_config_list.config], "regenerate: zoo export NAME --warmup-only"
    for version in servable_versions(hub.models_dir() / name):
        version_dir = hub.models_dir() / name / str(version)
        defs = capi.read_meta_graph(version_dir).signature_def  # the "serve" MetaGraphDef TF Serving loads
        assert "serving_default" in defs
        for key in model.export_endpoints():  # TF Serving's Predict accepts only these method names
            assert defs[key].method_name == "tensorflow/serving/predict", (key, defs[key].method_name)
        signatures = [s for s, _ in read_warmup_requests(version_dir)]
        assert set(signatures) == set(model.export_endpoints()), f"{version_dir}: run zoo export {name} --warmup-only"
        report = capi.check_with_c_api(model, version_dir, require_warmup=True)
        assert set(report) == set(model.export_endpoints())


# === JSON codec ===
def test_float_output_formatting_matches_tf_serving():
    out = codec.encode_predict_response({"y": np.array([1.0, 0.1, np.nan, np.inf, -np.inf, 3e-5], np.float32)},
                                        "columnar")
    assert out == '{"outputs":[1.0,0.1,NaN,Infinity,-Infinity,3e-05]}'
    assert json.loads(out)["outputs"][0] == 1.0 and math.isnan(json.loads(out)["outputs"][2])
    assert codec.encode_predict_response({"n": np.int32(3)}, "columnar") == '{"outputs":3}'
    assert codec.encode_predict_response({"b": np.array([[True], [False]])}, "row") == '{"predictions":[[true],[false]]}'
    two = codec.encode_predict_response({"a": np.arange(2, dtype=np.int64), "b": np.ones((2, 1), np.float64)}, "row")
    assert json.loads(two) == {"predictions": [{"a": 0, "b": [1.0]}, {"a": 1, "b": [1.0]}]}


def test_row_output_needs_a_batch_dimension():
    with pytest.raises(ServingError, match="has no shape information"):
        codec.encode_predict_response({"a": np.float32(1)}, "row")
    with pytest.raises(ServingError, match="inconsistent batch size: 3 expecting: 2"):
        codec.encode_predict_response({"a": np.zeros(2), "b": np.zeros(3)}, "row")


def test_json_to_array_types():
    assert codec.json_to_array([[1, 2.5]], np.float32).dtype == np.float32
    assert codec.json_to_array(7, np.int32).shape == ()
    assert codec.json_to_array([NaN := float("nan")], np.float32).shape == (1,) and NaN != NaN
    with pytest.raises(ServingError, match="is not of expected type: int32"):
        codec.json_to_array([1.0], np.int32)
    with pytest.raises(ServingError, match="is not of expected type: int8"):
        codec.json_to_array([300], np.int8)
    with pytest.raises(ServingError, match="Encountered list at unexpected level"):
        codec.json_to_array([[1], [[2]]], np.float32)
    assert codec.json_to_array([{"b64": "aGk="}, "yo"], object).tolist() == [b"hi", b"yo"]


def test_c_runner_string_tensor_files(tmp_path):
    values = np.array([[b"caf\xc3\xa9", b""], [b"x" * 300, b"\x00bin"]], dtype=object)
    capi.write_tensor(tmp_path / "s.ztf", values)
    back = capi.read_tensor(tmp_path / "s.ztf")
    assert back.dtype == object and back.shape == (2, 2) and back.tolist() == values.tolist()
    capi.write_tensor(tmp_path / "u.ztf", np.array(["hé"]))
    assert capi.read_tensor(tmp_path / "u.ztf").tolist() == ["hé".encode()]


@pytest.mark.parametrize("name", _shipped() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no servable artifact in saved_models/ yet"))])
def test_shipped_artifacts_load_and_answer_rest(name):
    """zoo serve loads the artifact (replaying its warm-up records, as TF Serving does at load) and answers
    each warm-up request sent as a REST columnar body with what ``zoo.load(name)``'s Keras model computes for it
    (arg-max outputs over exact ties excepted, as in the export checks)."""
    import zoo
    from tests.serving_helpers import keras_outputs
    from zoo.serving import rest
    from zoo.serving.client import _from_json, _to_json
    from zoo.serving.registry import ModelRegistry

    model = zoo.load(name, compile=False, origin="shipped")
    endpoints = model.export_endpoints()
    registry = ModelRegistry.from_models_dir(names=[name], latest_only=True, batching=False)
    servable = registry.get(name)
    assert servable.warmup_requests
    for signature, inputs in servable.warmup_requests:
        body = json.dumps({"signature_name": signature, "inputs": {k: _to_json(v) for k, v in inputs.items()}})
        answer = json.loads(rest.predict(registry, name, None, body.encode()))["outputs"]
        expected = keras_outputs(model, signature, inputs)
        answer = answer if len(expected) > 1 else {next(iter(expected)): answer}
        for key, value in expected.items():
            if key in endpoints[signature].tied_outputs:
                continue
            value = np.array(value, dtype=object) if isinstance(value, bytes) else np.asarray(value)  # scalar text
            got = _from_json(answer[key], value.dtype)
            assert got.shape == value.shape, (signature, key)
            if value.dtype.kind in "Ob":
                assert got.tolist() == value.tolist(), (signature, key)
            else:
                np.testing.assert_allclose(got, value, rtol=1e-4, atol=1e-4, err_msg=f"{signature}/{key}")
    registry.close()
