"""``zoo.serving.Client(url)``: one client for TF Serving's REST and gRPC APIs (``zoo serve`` or
stock TF Serving alike).

    client = Client("http://127.0.0.1:8501")   # REST
    client = Client("grpc://127.0.0.1:8500")   # gRPC (official PredictionService stub)
    client.predict("vae-binarized-mnist", {"x": images}, signature_name="encode")  # {"loc": ..., "scale": ...}

``predict`` returns {output name: numpy array} with the dtypes the SignatureDef declares (REST
answers carry no dtypes; the client reads them once from the model's metadata). Failures raise
:class:`ClientError` with the server's status code name and message. Thread-safe: each thread
keeps its own HTTP keep-alive connection; gRPC channels are thread-safe.
"""
import base64
import http.client
import json
import threading
import urllib.parse

import numpy as np

from zoo.serving.errors import HTTP_STATUS, ServingError

_CODE_OF_HTTP = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 409: "ABORTED", 413: "RESOURCE_EXHAUSTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED",
                 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class ClientError(ServingError):
    """A request the server refused: ``code`` (status name), ``message``, and ``http_status`` for REST."""


_NUMPY_OF_DT = {"DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_INT32": np.int32, "DT_INT64": np.int64,
               "DT_INT16": np.int16, "DT_INT8": np.int8, "DT_UINT8": np.uint8, "DT_BOOL": np.bool_,
               "DT_HALF": np.float16, "DT_STRING": object}


def _dtype(enum_name):
    return np.dtype(_NUMPY_OF_DT.get(enum_name, object))


def _to_json(array):
    """numpy -> JSON-able nested lists; bytes become text, or {"b64": ...} when not UTF-8 (TF Serving's rule)."""
    if array.dtype.kind not in "OS":
        return array.tolist()

    def text(value):
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return {"b64": base64.b64encode(value).decode("ascii")}
        return value

    flat = [text(v) for v in array.reshape(-1).tolist()]
    if array.ndim == 0:
        return flat[0]
    nested = np.empty(len(flat), dtype=object)
    nested[:] = flat
    return nested.reshape(array.shape).tolist()


def _from_json(value, dtype):
    if dtype is None or np.dtype(dtype).kind != "O":
        return np.asarray(value, dtype=dtype)
    array = np.array(value, dtype=object)
    flat = [base64.b64decode(v["b64"]) if isinstance(v, dict) else str(v).encode("utf-8")
            for v in array.reshape(-1).tolist()]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(array.shape)


class Client:
    def __init__(self, url, timeout=60.0):
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.timeout = timeout
        self._local = threading.local()
        self._signatures = {}
        if self.scheme == "grpc":
            import grpc
            from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

            self._channel = grpc.insecure_channel(f"{self.host}:{self.port}", options=[
                ("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)])
            self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
            self.model_stub = model_service_pb2_grpc.ModelServiceStub(self._channel)
        elif self.scheme not in ("http",):
            raise ValueError(f"unsupported URL {url!r}: use http://HOST:PORT (REST) or grpc://HOST:PORT")

    # === Public API ===
    def predict(self, model, inputs, signature_name=None, version=None, format="columnar"):
        """Runs one Predict; ``format`` ("columnar" or "row") picks the REST body (ignored for gRPC)."""
        inputs = {k: np.asarray(v) for k, v in inputs.items()}
        if self.scheme == "grpc":
            return self._grpc_predict(model, inputs, signature_name, version)
        return self._rest_predict(model, inputs, signature_name, version, format)

    def metadata(self, model, version=None):
        """The model's signature defs as TF Serving's REST metadata JSON ({"model_spec", "metadata"})."""
        if self.scheme == "grpc":
            from tensorflow_serving.apis import get_model_metadata_pb2

            from zoo.serving.protos import model_metadata_json

            request = get_model_metadata_pb2.GetModelMetadataRequest()
            self._spec(request.model_spec, model, version)
            request.metadata_field.append("signature_def")
            return json.loads(model_metadata_json(self._grpc_call(self.stub.GetModelMetadata, request)))
        return self._rest("GET", self._path(model, version) + "/metadata")

    def status(self, model, version=None):
        """Model status ({"model_version_status": [...]}), as TF Serving's REST API answers it."""
        if self.scheme == "grpc":
            from tensorflow_serving.apis import get_model_status_pb2

            from zoo.serving.protos import model_status_json

            request = get_model_status_pb2.GetModelStatusRequest()
            self._spec(request.model_spec, model, version)
            return json.loads(model_status_json(self._grpc_call(self.model_stub.GetModelStatus, request)))
        return self._rest("GET", self._path(model, version))

    def close(self):
        if self.scheme == "grpc":
            self._channel.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # === REST ===
    @staticmethod
    def _path(model, version):
        path = f"/v1/models/{urllib.parse.quote(model, safe='')}"
        return path + (f"/versions/{int(version)}" if version is not None else "")

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return conn

    def _rest(self, method, path, body=None):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                text = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        try:
            payload = json.loads(text) if text else {}
        except json.JSONDecodeError:
            payload = {"error": text.decode("utf-8", "replace")}
        if response.status != 200:
            message = payload.get("error", "") if isinstance(payload, dict) else str(payload)
            raise ClientError(_CODE_OF_HTTP.get(response.status, "UNKNOWN"), message, http_status=response.status)
        return payload

    def _signature(self, model, version, signature_name):
        key = (model, version, signature_name or "serving_default")
        if key not in self._signatures:
            meta = self.metadata(model, version)
            defs = meta["metadata"]["signature_def"]["signature_def"]
            sig = defs.get(key[2])
            if sig is None:
                raise ClientError("INVALID_ARGUMENT", f'Serving signature name: "{key[2]}" not found in signature def')
            self._signatures[key] = ({name: _dtype(info["dtype"]) for name, info in sig["inputs"].items()},
                                     {name: _dtype(info["dtype"]) for name, info in sig["outputs"].items()})
        return self._signatures[key]

    def _rest_predict(self, model, inputs, signature_name, version, format):
        body = {"signature_name": signature_name} if signature_name else {}
        if format == "row":
            sizes = {v.shape[0] if v.ndim else None for v in inputs.values()}
            if len(sizes) != 1 or None in sizes:
                raise ValueError("row format needs every input to have the same leading (batch) dimension")
            n = sizes.pop()
            if len(inputs) == 1:
                body["instances"] = _to_json(next(iter(inputs.values())))
            else:
                lists = {k: _to_json(v) for k, v in inputs.items()}
                body["instances"] = [{k: lists[k][i] for k in lists} for i in range(n)]
        elif format == "columnar":
            body["inputs"] = {k: _to_json(v) for k, v in inputs.items()}
        else:
            raise ValueError(f"format must be 'row' or 'columnar', not {format!r}")
        payload = self._rest("POST", self._path(model, version) + ":predict", body)
        dtypes = self._signature(model, version, signature_name)[1]
        names = sorted(dtypes)
        if "outputs" in payload:
            values = payload["outputs"]
            values = {names[0]: values} if len(names) == 1 else values
        else:
            rows = payload["predictions"]
            values = {names[0]: rows} if len(names) == 1 else {n: [row[n] for row in rows] for n in names}
        return {k: _from_json(v, dtypes.get(k)) for k, v in values.items()}

    # === gRPC ===
    @staticmethod
    def _spec(spec, model, version, signature_name=None):
        spec.name = model
        if version is not None:
            spec.version.value = int(version)
        if signature_name:
            spec.signature_name = signature_name

    def _grpc_call(self, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise ClientError(err.code().name, err.details() or "",
                              http_status=HTTP_STATUS.get(err.code().name, 500)) from None

    def _grpc_predict(self, model, inputs, signature_name, version):
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, model, version, signature_name)
        try:
            wanted = self._signature(model, version, signature_name)[0]
        except ClientError as err:
            if err.code != "INVALID_ARGUMENT":  # unknown model/version: that is the answer
                raise
            wanted = {}  # unknown signature: let the server say so
        for key, value in inputs.items():
            dtype = wanted.get(key)
            if dtype is not None and value.dtype != dtype and value.dtype.kind == dtype.kind:
                value = value.astype(dtype)  # e.g. Python ints (int64) for an int32 input
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        response = self._grpc_call(self.stub.Predict, request)
        return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}
