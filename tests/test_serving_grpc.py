"""``zoo serve``'s gRPC API through the official ``tensorflow_serving.apis`` stubs."""
import concurrent.futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_service_pb2_grpc)

from tests.serving_helpers import MODEL, binary_images, export_tiny_models, keras_outputs, start_server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    models = export_tiny_models(root)
    server = start_server(root)
    channel = grpc.insecure_channel(server.grpc_target)
    yield server, models, prediction_service_pb2_grpc.PredictionServiceStub(channel), channel
    channel.close()
    server.stop()


def request(signature=None, version=None, model=MODEL, **inputs):
    req = predict_pb2.PredictRequest()
    req.model_spec.name = model
    if signature:
        req.model_spec.signature_name = signature
    if version is not None:
        req.model_spec.version.value = version
    for key, value in inputs.items():
        req.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return req


def still_serving(stub):
    response = stub.Predict(request("encode", x=binary_images(1)), timeout=30)
    assert set(response.outputs) == {"loc", "scale"}


def test_predict_matches_keras(served):
    server, models, stub, _ = served
    x = binary_images(3)
    response = stub.Predict(request("encode", x=x), timeout=30)
    assert response.model_spec.name == MODEL and response.model_spec.version.value == 2
    assert response.model_spec.signature_name == "encode"
    expected = keras_outputs(models[2], "encode", {"x": x})
    for key in ("loc", "scale"):
        got = tf.make_ndarray(response.outputs[key])
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected[key], rtol=1e-5, atol=1e-6)
    assert len(response.outputs["loc"].float_val) == 6  # values in the typed field, as TF Serving answers


def test_default_signature_version_and_scalars(served):
    _, models, stub, _ = served
    x = binary_images(2)
    default = stub.Predict(request(version=1, x=x), timeout=30)
    assert default.model_spec.signature_name == "serving_default" and default.model_spec.version.value == 1
    np.testing.assert_allclose(tf.make_ndarray(default.outputs["loc"]),
                               keras_outputs(models[1], "encode", {"x": x})["loc"], rtol=1e-5, atol=1e-6)
    sample = stub.Predict(request("sample", num_samples=np.int32(5), seed=np.int32(2)), timeout=30)
    expected = keras_outputs(models[2], "sample", {"num_samples": np.int32(5), "seed": np.int32(2)})
    np.testing.assert_allclose(tf.make_ndarray(sample.outputs["probs"]), expected["probs"], rtol=1e-5, atol=1e-6)


def test_output_filter(served):
    _, _, stub, _ = served
    req = request("decode", z=np.zeros((2, 2), np.float32))
    req.output_filter.append("probs")
    assert set(stub.Predict(req, timeout=30).outputs) == {"probs"}


def test_get_model_metadata_and_status(served):
    server, _, stub, channel = served
    req = get_model_metadata_pb2.GetModelMetadataRequest()
    req.model_spec.name = MODEL
    req.metadata_field.append("signature_def")
    response = stub.GetModelMetadata(req, timeout=30)
    assert response.model_spec.version.value == 2
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    assert {"serving_default", "encode", "decode", "reconstruct", "sample", "score"} <= set(signature_map.signature_def)
    assert signature_map.signature_def["score"].inputs["seed"].dtype == tf.int32.as_datatype_enum
    status_req = get_model_status_pb2.GetModelStatusRequest()
    status_req.model_spec.name = MODEL
    status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(status_req, timeout=30)
    assert [s.version for s in status.model_version_status] == [2, 1]


GRPC_ERRORS = [
    (lambda: request(model="nope", x=binary_images(1)), grpc.StatusCode.NOT_FOUND,
     "Servable not found for request: Latest(nope)"),
    (lambda: request(version=9, x=binary_images(1)), grpc.StatusCode.NOT_FOUND,
     f"Servable not found for request: Specific({MODEL}, 9)"),
    (lambda: request("nope", x=binary_images(1)), grpc.StatusCode.FAILED_PRECONDITION,
     'Serving signature key "nope" not found.'),
    (lambda: request("score", x=binary_images(1), seed=np.int32(1)), grpc.StatusCode.INVALID_ARGUMENT,
     "input size does not match signature: 2!=3 len({seed,x}) != len({num_samples,seed,x}). Sent extra: {}. "
     "Missing but required: {num_samples}."),
    (lambda: request("encode", y=binary_images(1)), grpc.StatusCode.INVALID_ARGUMENT,
     "input tensor alias not found in signature: y. Inputs expected to be in the set {x}."),
    (lambda: request("encode", x=np.array([["a"] * 784])), grpc.StatusCode.INVALID_ARGUMENT,
     "has dtype string but the signature expects float"),
    (lambda: request("encode", x=np.zeros((2, 5), np.float32)), grpc.StatusCode.INVALID_ARGUMENT,
     "has shape [2,5] but the signature expects [-1,784]"),
    (lambda: request("encode", x=np.full((1, 784), 0.5, np.float32)), grpc.StatusCode.INVALID_ARGUMENT,
     "must hold only 0 and 1"),
    (lambda: request("encode", x=np.zeros((400, 784), np.float32)), grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than max"),
]


@pytest.mark.parametrize("make, code, message", GRPC_ERRORS, ids=[str(i) for i in range(len(GRPC_ERRORS))])
def test_errors_as_tf_serving_reports_them(served, make, code, message):
    _, _, stub, _ = served
    with pytest.raises(grpc.RpcError) as err:
        stub.Predict(make(), timeout=30)
    assert err.value.code() == code, err.value.details()
    assert message in err.value.details()
    still_serving(stub)


def test_metadata_errors(served):
    _, _, stub, _ = served
    req = get_model_metadata_pb2.GetModelMetadataRequest()
    req.model_spec.name = MODEL
    req.metadata_field.append("nope")
    with pytest.raises(grpc.RpcError) as err:
        stub.GetModelMetadata(req, timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "nope" in err.value.details()
    req.model_spec.name = "missing"
    with pytest.raises(grpc.RpcError) as err:
        stub.GetModelMetadata(req, timeout=30)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    still_serving(stub)


def test_64_concurrent_clients(served):
    server, models, stub, _ = served
    x = binary_images(64, seed=5)
    expected = keras_outputs(models[2], "decode", {"z": x[:, :2] * 2 - 1})

    def client(i):
        z = x[i:i + 1, :2] * 2 - 1
        return i, [tf.make_ndarray(stub.Predict(request("decode", z=z), timeout=60).outputs["probs"])
                   for _ in range(3)]

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        for i, results in pool.map(client, range(64)):
            for probs in results:
                np.testing.assert_allclose(probs[0], expected["probs"][i], rtol=1e-5, atol=1e-6)
    batcher = server.registry.get(MODEL)._batchers["decode"]
    assert batcher.stats["requests"] >= 192


def test_zoo_client_grpc_matches_rest(served):
    from zoo.serving import Client, ClientError

    server = served[0]
    x = binary_images(2)
    with Client("grpc://" + server.grpc_target) as g, Client(server.rest_url) as r:
        for signature, inputs in (("encode", {"x": x}), ("sample", {"num_samples": 2, "seed": 4})):
            a, b = g.predict(MODEL, inputs, signature_name=signature), r.predict(MODEL, inputs, signature_name=signature)
            assert set(a) == set(b)
            for key in a:
                np.testing.assert_allclose(a[key], b[key], rtol=1e-6, atol=1e-7)
        assert g.metadata(MODEL)["model_spec"]["version"] == "2"
        assert g.status(MODEL) == r.status(MODEL)
        with pytest.raises(ClientError) as err:
            g.predict(MODEL, {"x": x}, signature_name="nope")
        assert err.value.code == "FAILED_PRECONDITION"
