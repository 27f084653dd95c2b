"""``zoo serve``'s REST API, exercised with plain HTTP requests as TF Serving's REST clients send them."""
import concurrent.futures
import json
import socket

import numpy as np
import pytest

from tests.serving_helpers import MODEL, binary_images, export_tiny_models, http, keras_outputs, start_server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import shutil

    from zoo.serving.config import write_models_config

    root = tmp_path_factory.mktemp("models")
    models = export_tiny_models(root)
    shutil.copytree(root / MODEL / "1", root / "other" / "3")  # a second model, its only version 3
    write_models_config(root)
    server = start_server(root)
    yield server, models
    server.stop()


def test_several_models(served):
    status, body = http(url(served, "/v1/models/other"))
    assert status == 200 and [v["version"] for v in body["model_version_status"]] == ["3"]
    x = binary_images(2).tolist()
    status, other = http(url(served, "/v1/models/other:predict"), "POST", {"instances": x})
    status1, tiny1 = http(url(served, f"/v1/models/{MODEL}/versions/1:predict"), "POST", {"instances": x})
    assert status == status1 == 200 and other == tiny1  # the same SavedModel under two names
    status, body = http(url(served, "/v1/models/other/versions/1:predict"), "POST", {"instances": x})
    assert (status, body) == (404, {"error": "Servable not found for request: Specific(other, 1)"})


def url(served, path):
    return served[0].rest_url + path


def assert_serving(served):
    """The server still answers after an error."""
    status, body = http(url(served, f"/v1/models/{MODEL}"))
    assert status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE"


def test_binds_localhost(served):
    server, _ = served
    assert server.rest.server_address[0] == "127.0.0.1"


def test_model_status_all_and_one_version(served):
    status, body = http(url(served, f"/v1/models/{MODEL}"))
    assert status == 200
    assert body == {"model_version_status": [
        {"version": "2", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}},
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    status, body = http(url(served, f"/v1/models/{MODEL}/versions/1"))
    assert status == 200 and [v["version"] for v in body["model_version_status"]] == ["1"]


def test_metadata(served):
    status, body = http(url(served, f"/v1/models/{MODEL}/metadata"))
    assert status == 200
    assert body["model_spec"] == {"name": MODEL, "version": "2", "signature_name": ""}
    defs = body["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "encode", "decode", "reconstruct", "sample", "score"} <= set(defs)
    x = defs["encode"]["inputs"]["x"]
    assert x["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in x["tensor_shape"]["dim"]] == ["-1", "784"]
    assert defs["sample"]["inputs"]["seed"]["tensor_shape"] == {"dim": [], "unknown_rank": False}
    assert defs["encode"]["method_name"] == "tensorflow/serving/predict"
    status, body = http(url(served, f"/v1/models/{MODEL}/versions/1/metadata"))
    assert status == 200 and body["model_spec"]["version"] == "1"


def test_predict_row_format_single_input(served):
    x = binary_images(3)
    status, body = http(url(served, f"/v1/models/{MODEL}:predict"), "POST",
                        {"signature_name": "encode", "instances": x.tolist()})
    assert status == 200, body
    expected = keras_outputs(served[1][2], "encode", {"x": x})
    assert len(body["predictions"]) == 3 and set(body["predictions"][0]) == {"loc", "scale"}
    for key in ("loc", "scale"):
        np.testing.assert_allclose([row[key] for row in body["predictions"]], expected[key], rtol=1e-5, atol=1e-6)


def test_predict_row_format_named_objects_and_default_signature(served):
    x = binary_images(2)
    status, body = http(url(served, f"/v1/models/{MODEL}/versions/1:predict"), "POST",
                        {"instances": [{"x": row} for row in x.tolist()]})
    assert status == 200, body
    expected = keras_outputs(served[1][1], "serving_default", {"x": x})
    np.testing.assert_allclose([r["loc"] for r in body["predictions"]], expected["loc"], rtol=1e-5, atol=1e-6)


def test_predict_columnar_format(served):
    z = np.array([[0.5, -1.0], [0.0, 2.0]], np.float32)
    status, body = http(url(served, f"/v1/models/{MODEL}:predict"), "POST",
                        {"signature_name": "decode", "inputs": {"z": z.tolist()}})
    assert status == 200, body
    expected = keras_outputs(served[1][2], "decode", {"z": z})
    assert set(body["outputs"]) == {"probs", "logits"}
    np.testing.assert_allclose(body["outputs"]["probs"], expected["probs"], rtol=1e-5, atol=1e-6)
    # A bare value for the single input works too.
    status, bare = http(url(served, f"/v1/models/{MODEL}:predict"), "POST",
                        {"signature_name": "decode", "inputs": z.tolist()})
    assert status == 200 and bare == body


def test_scalar_inputs_and_single_output_formats(served):
    status, body = http(url(served, f"/v1/models/{MODEL}:predict"), "POST",
                        {"signature_name": "sample", "inputs": {"num_samples": 4, "seed": 11}})
    assert status == 200, body
    expected = keras_outputs(served[1][2], "sample", {"num_samples": np.int32(4), "seed": np.int32(11)})
    np.testing.assert_allclose(body["outputs"]["z"], expected["z"], rtol=1e-5, atol=1e-6)
    x = binary_images(2)
    # One output: its name is omitted, "outputs" is the tensor and "predictions" the list of rows.
    status, body = http(url(served, f"/v1/models/{MODEL}:predict"), "POST",
                        {"signature_name": "reconstruct", "inputs": x.tolist()})
    assert status == 200 and np.shape(body["outputs"]) == (2, 784)
    status, rows = http(url(served, f"/v1/models/{MODEL}:predict"), "POST",
                        {"signature_name": "reconstruct", "instances": x.tolist()})
    assert status == 200 and rows["predictions"] == body["outputs"]
    # Mixed batch and scalar inputs: columnar only.
    status, body = http(url(served, f"/v1/models/{MODEL}:predict"), "POST",
                        {"signature_name": "score", "inputs": {"x": x.tolist(), "num_samples": 8, "seed": 1}})
    assert status == 200 and np.shape(body["outputs"]["elbo"]) == (2,)


def test_versions_differ_and_latest_is_default(served):
    x = binary_images(2).tolist()
    answers = {}
    for path in (f"/v1/models/{MODEL}:predict", f"/v1/models/{MODEL}/versions/1:predict",
                 f"/v1/models/{MODEL}/versions/2:predict"):
        status, body = http(url(served, path), "POST", {"instances": x})
        assert status == 200
        answers[path] = body
    assert answers[f"/v1/models/{MODEL}:predict"] == answers[f"/v1/models/{MODEL}/versions/2:predict"]
    assert answers[f"/v1/models/{MODEL}/versions/1:predict"] != answers[f"/v1/models/{MODEL}/versions/2:predict"]


BAD_REQUESTS = [
    # (path suffix, body, status, message fragment)
    (":predict", "{not json", 400, "JSON Parse error"),
    (":predict", "", 400, "JSON Parse error: The document is empty"),
    (":predict", "[1, 2]", 400, "Is not object"),
    (":predict", {"signature_name": 3, "inputs": []}, 400, "'signature_name' key must be a string value"),
    (":predict", {"signature_name": "nope", "inputs": []}, 400, 'Serving signature name: "nope" not found'),
    (":predict", {"signature_name": "encode"}, 400, "Missing 'inputs' or 'instances' key"),
    (":predict", {"instances": [], "inputs": []}, 400, "expecting only one of 'inputs' or 'instances'"),
    (":predict", {"instances": []}, 400, "No values in 'instances' array"),
    (":predict", {"instances": {"x": 1}}, 400, "to be an list/array"),
    (":predict", {"inputs": [["a"] * 784]}, 400, 'JSON Value: "a" Type: String is not of expected type: float'),
    (":predict", {"inputs": [[True] * 784]}, 400, "Type: True is not of expected type: float"),
    (":predict", {"inputs": [[0.0] * 100]}, 400, "has shape [1,100] but the signature expects [-1,784]"),
    (":predict", {"inputs": [0.0] * 784}, 400, "has shape [784] but the signature expects [-1,784]"),
    (":predict", {"inputs": [[0.0] * 784, [0.0] * 783]}, 400, "Encountered list at unexpected size: 783"),
    (":predict", {"inputs": [[0.0] * 784, 0.0]}, 400, "found at incorrect level"),
    (":predict", {"inputs": [[1e39] * 784]}, 400, "to float without loss of precision"),
    (":predict", {"inputs": [[0.5] * 784]}, 400, "must hold only 0 and 1"),  # the graph's own check
    (":predict", {"signature_name": "score", "inputs": {"x": [[0.0] * 784], "seed": 1}}, 400,
     "Missing named input: num_samples in 'inputs' object."),
    (":predict", {"signature_name": "score", "instances": [[0.0] * 784]}, 400,
     "instances is a plain list, but expecting list of objects"),
    (":predict", {"signature_name": "sample", "inputs": {"num_samples": 1.5, "seed": 1}}, 400,
     "is not of expected type: int32"),
    (":predict", {"signature_name": "sample", "instances": [{"num_samples": 2, "seed": 1}]}, 400,
     "has shape [1] but the signature expects []"),
    (":predict", {"instances": [{"x": [0.0] * 784, "y": 1}]}, 400, "does not have named input: y"),
    (":classify", {"examples": []}, 501, "not supported"),
    ("/versions/7:predict", {"instances": [[0.0] * 784]}, 404, f"Servable not found for request: Specific({MODEL}, 7)"),
    ("/versions/7", None, 404, f"Could not find version 7 of model {MODEL}"),
]


@pytest.mark.parametrize("suffix, body, status, message", BAD_REQUESTS,
                         ids=[f"{i}-{m[:30]}" for i, (_, _, _, m) in enumerate(BAD_REQUESTS)])
def test_bad_requests_get_tf_serving_errors(served, suffix, body, status, message):
    method = "GET" if body is None else "POST"
    got, answer = http(url(served, f"/v1/models/{MODEL}{suffix}"), method, body)
    assert got == status, answer
    assert set(answer) == {"error"} and message in answer["error"], answer
    assert_serving(served)


def test_unknown_model_and_bad_paths(served):
    status, body = http(url(served, "/v1/models/nope:predict"), "POST", {"instances": [1]})
    assert (status, body) == (404, {"error": "Servable not found for request: Latest(nope)"})
    status, body = http(url(served, "/v1/models/nope"))
    assert status == 404 and "nope" in body["error"]
    status, body = http(url(served, "/v1/models/nope/metadata"))
    assert (status, body) == (404, {"error": "Servable not found for request: Latest(nope)"})
    status, body = http(url(served, "/v2/whatever"))
    assert status == 400 and body["error"].startswith("Malformed request: GET /v2/whatever")
    status, body = http(url(served, "/v1/models"))
    assert status == 400 and body["error"] == "Missing model name in request."
    assert_serving(served)


def test_oversized_request_is_refused(served):
    big = {"inputs": np.zeros((200, 784), np.float32).tolist()}  # > the fixture's 256 KiB limit
    status, body = http(url(served, f"/v1/models/{MODEL}:predict"), "POST", big)
    assert status == 413 and "exceeds the server's limit of 262144 bytes" in body["error"]
    assert_serving(served)


def test_garbage_on_the_socket_does_not_crash_the_server(served):
    server, _ = served
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=5) as sock:
        sock.sendall(b"\x00\x01garbage\r\n\r\n")
        sock.recv(1024)
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=5) as sock:
        sock.sendall(b"POST /v1/models/x:predict HTTP/1.1\r\nContent-Length: 10\r\n\r\n{")  # truncated body
    assert_serving(served)


def test_64_concurrent_clients(served):
    x = binary_images(64, seed=3)
    expected = keras_outputs(served[1][2], "encode", {"x": x})

    def client(i):
        rows = x[i:i + 1].tolist()
        body = {"signature_name": "encode", "instances": rows} if i % 2 else \
            {"signature_name": "encode", "inputs": {"x": rows}}
        results = []
        for _ in range(3):
            status, answer = http(url(served, f"/v1/models/{MODEL}:predict"), "POST", body)
            assert status == 200, answer
            loc = answer["predictions"][0]["loc"] if i % 2 else answer["outputs"]["loc"][0]
            results.append(loc)
        return i, results

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        for i, results in pool.map(client, range(64)):
            for loc in results:
                np.testing.assert_allclose(loc, expected["loc"][i], rtol=1e-5, atol=1e-5)
    assert_serving(served)


def test_zoo_client_rest(served):
    from zoo.serving import Client, ClientError

    x = binary_images(2)
    with Client(served[0].rest_url) as client:
        row = client.predict(MODEL, {"x": x}, signature_name="encode", format="row")
        col = client.predict(MODEL, {"x": x}, signature_name="encode")
        single = client.predict(MODEL, {"x": x}, signature_name="reconstruct", version=1)
        assert set(single) == {"probs"} and single["probs"].dtype == np.float32
        for key in ("loc", "scale"):
            np.testing.assert_allclose(row[key], col[key], rtol=1e-6)
        assert client.status(MODEL, 1)["model_version_status"][0]["version"] == "1"
        with pytest.raises(ClientError) as err:
            client.predict("nope", {"x": x})
        assert err.value.code == "NOT_FOUND" and err.value.http_status == 404
    expected = keras_outputs(served[1][max(served[1])], "encode", {"x": x})  # the Keras model, the latest version
    np.testing.assert_allclose(row["loc"], expected["loc"], rtol=1e-5, atol=1e-6)


def test_hostile_bodies(served):
    deep = "[" * 5000 + "]" * 5000
    for body in (deep, '{"inputs": ' + "[" * 900 + "1" + "]" * 900 + "}"):
        status, answer = http(url(served, f"/v1/models/{MODEL}:predict"), "POST", body)
        assert status == 400 and answer["error"], answer
    assert_serving(served)


def test_chunked_request_body(served):
    import http.client

    server, _ = served
    body = json.dumps({"signature_name": "sample", "inputs": {"num_samples": 2, "seed": 1}}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=30)
    conn.request("POST", f"/v1/models/{MODEL}:predict", body=iter([body[:10], body[10:]]),
                 headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 200 and np.shape(json.loads(response.read())["outputs"]["z"]) == (2, 2)
    conn.close()
