"""TF Serving's gRPC API: the official ``PredictionService`` (Predict, GetModelMetadata) and
``ModelService.GetModelStatus``, servicers generated from ``tensorflow-serving-api``, answering
from the same :class:`~zoo.serving.registry.ModelRegistry` as the REST API."""
import logging
from concurrent import futures

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, predict_pb2, prediction_service_pb2_grpc

from zoo.serving import protos
from zoo.serving.errors import ServingError

log = logging.getLogger("zoo.serving")


def _version(model_spec):
    """The requested version: None for latest; version labels are not supported."""
    choice = model_spec.WhichOneof("version_choice")
    if choice == "version":
        return model_spec.version.value
    if choice == "version_label":
        raise ServingError("INVALID_ARGUMENT", f"Version labels are not supported by zoo serve "
                           f"(got {model_spec.version_label!r}); ask for a version number")
    return None


def _guard(method):
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except ServingError as err:
            context.abort(err.grpc_code, err.message)
        except Exception as err:  # noqa: BLE001  (never let a request take the server down)
            log.exception("gRPC %s failed", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"{type(err).__name__}: {err}")
    wrapper.__name__ = method.__name__
    return wrapper


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, registry):
        self.registry = registry

    @_guard
    def Predict(self, request, context):  # noqa: N802
        if not request.model_spec.name:
            raise ServingError("INVALID_ARGUMENT", "Missing ModelSpec")
        servable = self.registry.get(request.model_spec.name, _version(request.model_spec))
        inputs = {key: protos.proto_to_array(proto, key) for key, proto in request.inputs.items()}
        signature_name, outputs = servable.predict(request.model_spec.signature_name, inputs,
                                                   tuple(request.output_filter))
        response = predict_pb2.PredictResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature_name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(protos.array_to_proto(value))
        return response

    @_guard
    def GetModelMetadata(self, request, context):  # noqa: N802
        if not request.model_spec.name:
            raise ServingError("INVALID_ARGUMENT", "Missing model_spec")
        servable = self.registry.get(request.model_spec.name, _version(request.model_spec))
        return protos.model_metadata(servable, tuple(request.metadata_field))


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, registry):
        self.registry = registry

    @_guard
    def GetModelStatus(self, request, context):  # noqa: N802
        return protos.model_status(self.registry, request.model_spec.name, _version(request.model_spec))


def make_grpc_server(registry, host, port, max_request_bytes, max_workers=64):
    """A started-ready (not started) grpc.Server bound to host:port; returns (server, bound port)."""
    options = [("grpc.max_receive_message_length", max_request_bytes),
               ("grpc.max_send_message_length", 256 << 20), ("grpc.so_reuseport", 0)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="zoo-grpc"),
                         options=options)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServicer(registry), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(registry), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"cannot bind gRPC to {host}:{port}")
    return server, bound

