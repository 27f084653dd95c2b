"""The TF Serving protos both front ends answer with (official ``tensorflow-serving-api`` classes),
and their JSON forms as TF Serving's REST API prints them."""
import json

import numpy as np
from google.protobuf import json_format

from zoo.serving.errors import ServingError, invalid

SIGNATURE_DEF_FIELD = "signature_def"


def model_status(registry, name, version=None):
    """GetModelStatusResponse: every loaded version (or one) of ``name``, state AVAILABLE."""
    from tensorflow_serving.apis import get_model_status_pb2

    versions = registry.models.get(name)
    if not versions:
        raise ServingError("NOT_FOUND", f"Could not find any versions of model {name}")
    if version is not None and int(version) not in versions:
        raise ServingError("NOT_FOUND", f"Could not find version {version} of model {name}")
    response = get_model_status_pb2.GetModelStatusResponse()
    for v in sorted(versions, reverse=True):
        if version is None or v == int(version):
            status = response.model_version_status.add()
            status.version = v
            status.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
            status.status.SetInParent()  # error_code OK, error_message "" (printed, as TF Serving does)
    return response


def model_metadata(servable, metadata_fields=(SIGNATURE_DEF_FIELD,)):
    """GetModelMetadataResponse with the SignatureDefMap packed under "signature_def"."""
    from tensorflow_serving.apis import get_model_metadata_pb2

    for field in metadata_fields:
        if field != SIGNATURE_DEF_FIELD:
            raise invalid(f"Metadata field {field} is not supported")
    if not metadata_fields:
        raise invalid("GetModelMetadataRequest must specify at least one metadata_field")
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = servable.name
    response.model_spec.version.value = servable.version
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, proto in servable.meta_graph.signature_def.items():
        signature_map.signature_def[key].CopyFrom(proto)
    response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)
    return response


def _to_dict(message, **kwargs):
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True, **kwargs)


def model_status_json(response):
    return json.dumps(_to_dict(response), indent=1)


def model_metadata_json(response):
    """As TF Serving prints it: model_spec and the unpacked SignatureDefMap, proto field names kept."""
    from tensorflow_serving.apis import get_model_metadata_pb2

    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata[SIGNATURE_DEF_FIELD].Unpack(signature_map)
    body = {"model_spec": _to_dict(response.model_spec, preserving_proto_field_name=True),
            "metadata": {"signature_def": _to_dict(signature_map, preserving_proto_field_name=True)}}
    return json.dumps(body, indent=1)


# === Tensors ===
_FIELDS = {np.dtype(np.float32): "float_val", np.dtype(np.float64): "double_val", np.dtype(np.int32): "int_val",
           np.dtype(np.int16): "int_val", np.dtype(np.int8): "int_val", np.dtype(np.uint8): "int_val",
           np.dtype(np.int64): "int64_val", np.dtype(np.bool_): "bool_val", np.dtype(np.uint32): "uint32_val",
           np.dtype(np.uint64): "uint64_val"}


def array_to_proto(array):
    """numpy -> TensorProto with values in the typed repeated field, as TF Serving's Predict answers
    (``Tensor::AsProtoField``)."""
    import tensorflow as tf

    array = np.asarray(array)
    field = _FIELDS.get(array.dtype)
    if field is None:
        return tf.make_tensor_proto(array)
    proto = tf.make_tensor_proto(np.zeros((), array.dtype))
    proto.ClearField(field)
    proto.ClearField("tensor_content")
    proto.tensor_shape.Clear()
    for size in array.shape:
        proto.tensor_shape.dim.add().size = size
    getattr(proto, field).extend(array.ravel().tolist())
    return proto


def proto_to_array(proto, key=""):
    import tensorflow as tf

    try:
        return tf.make_ndarray(proto)
    except Exception as err:  # noqa: BLE001
        raise invalid(f"Unable to parse tensor proto for input {key!r}: {err}") from None
