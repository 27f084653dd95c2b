"""TF Serving's REST JSON encoding of Predict requests and responses.

Requests (``POST .../models/NAME[/versions/V]:predict``) name an optional ``signature_name``
("serving_default" when absent) and carry the input tensors in one of two formats:

* row: ``"instances": [...]``, one element per batch row; with one named input each element is
  that input's row (a value or nested list), with several it is an object {input name: row}. The
  rows are stacked, so every input gets a leading batch dimension of ``len(instances)``.
* columnar: ``"inputs": value | {input name: value}``, whole tensors in natural nested form (a
  bare value only when the signature has a single input). Scalars are written as plain values.

Responses mirror the request's format: ``{"predictions": [...]}`` (row; a list of values when
the signature has one output, else a list of {output name: row} objects; every output needs the
same leading batch size) or ``{"outputs": value | {output name: value}}`` (columnar).

Values follow TF Serving's JSON mapping: DT_FLOAT/DT_DOUBLE take any JSON number (plus ``NaN``,
``Infinity``, ``-Infinity``), integer dtypes take whole numbers only, DT_BOOL takes ``true``/
``false``, DT_STRING takes strings or ``{"b64": ...}``. Floats are written with the shortest
representation that round-trips the tensor's precision and always with a decimal point or
exponent. Error messages follow TF Serving's wording where it has one.
"""
import base64
import binascii
import json

import numpy as np

from zoo.serving.errors import ServingError, invalid

DEFAULT_SIGNATURE = "serving_default"
MAX_RANK = 32

# numpy dtype -> TF's DataTypeString (used in error messages).
TF_NAMES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double", np.dtype(np.int32): "int32",
            np.dtype(np.int16): "int16", np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8",
            np.dtype(np.int64): "int64", np.dtype(np.bool_): "bool", np.dtype(np.float16): "half",
            np.dtype(np.uint32): "uint32", np.dtype(np.uint64): "uint64", np.dtype(object): "string"}
INT_RANGES = {np.dtype(t): (np.iinfo(t).min, np.iinfo(t).max)
              for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32, np.uint64)}


def tf_name(dtype):
    return TF_NAMES.get(np.dtype(dtype), str(dtype))


def _show(value, limit=200):
    """A JSON value as text for error messages (truncated)."""
    try:
        text = json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _json_type(value):
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def _type_error(value, dtype):
    return invalid(f"JSON Value: {_show(value)} Type: {_json_type(value)} is not of expected type: {tf_name(dtype)}")


def _is_b64(value):
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


# === JSON value -> numpy tensor ===
def json_shape(value):
    """The dense shape implied by descending through first elements, as TF Serving infers it."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _check_leaves(leaves, dtype):
    """Type-checks a list of leaf values (no lists inside) for ``dtype``."""
    kind = np.dtype(dtype).kind
    types = set(map(type, leaves))
    if kind == "f":
        if not types <= {int, float}:
            bad = next(v for v in leaves if type(v) not in (int, float))
            raise _type_error(bad, dtype)
    elif kind in "iu":
        if not types <= {int}:
            bad = next(v for v in leaves if type(v) is not int)
            raise _type_error(bad, dtype)
        low, high = INT_RANGES[np.dtype(dtype)]
        for v in leaves:
            if not low <= v <= high:
                raise _type_error(v, dtype)
    elif kind == "b":
        if not types <= {bool}:
            bad = next(v for v in leaves if type(v) is not bool)
            raise _type_error(bad, dtype)
    elif kind == "O":
        for v in leaves:
            if not (isinstance(v, str) or _is_b64(v)):
                raise _type_error(v, dtype)
    else:
        raise ServingError("UNIMPLEMENTED", f"Conversion of JSON Value: {_show(leaves[:1])} to type: {tf_name(dtype)}")


def _walk(value, level, shape, dtype, leaves_out):
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise invalid(f"JSON Value: {_show(value)} found at incorrect level: {level + 1} in the JSON DOM. "
                          f"Expected at level: {rank}")
        leaves_out.append(value)
        return
    if level >= rank:
        raise invalid(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise invalid(f"Encountered list at unexpected size: {len(value)} at level: {level} "
                      f"expected size: {shape[level]}")
    if level == rank - 1:
        if any(isinstance(v, list) for v in value):
            raise invalid(f"Encountered list at unexpected level: {level + 1} expected < {rank}")
        leaves_out.extend(value)
        return
    for v in value:
        _walk(v, level + 1, shape, dtype, leaves_out)


def json_to_array(value, dtype):
    """A JSON value (scalar or nested lists) -> numpy array of ``dtype``; ServingError(INVALID_ARGUMENT)
    on ragged lists, wrong element types or lossy float conversion."""
    dtype = np.dtype(dtype)
    shape = json_shape(value)
    if len(shape) > MAX_RANK:
        raise invalid(f"JSON value nested {len(shape)} lists deep; tensors have at most {MAX_RANK} dimensions")
    leaves = []
    try:
        _walk(value, 0, shape, dtype, leaves)
    except RecursionError:
        raise invalid(f"JSON value nested {len(shape)} lists deep; too deep for a tensor") from None
    if leaves:
        _check_leaves(leaves, dtype)
    if dtype.kind == "O":
        flat = [_decode_string(v) for v in leaves]
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(shape)
    if dtype.kind == "f":
        try:
            wide = np.array(leaves, dtype=np.float64)
        except OverflowError:  # an integer beyond float64
            bad = next(v for v in leaves if isinstance(v, int) and abs(v) > 1e308)
            raise invalid(f"Cannot convert JSON value: {_show(bad)} to {tf_name(dtype)} without loss of "
                          "precision.") from None
        finite = wide[np.isfinite(wide)]
        if dtype != np.float64 and finite.size and np.abs(finite).max() > np.finfo(dtype).max:
            bad = float(finite[np.argmax(np.abs(finite))])
            raise invalid(f"Cannot convert JSON value: {bad!r} to {tf_name(dtype)} without loss of precision.")
        return wide.astype(dtype).reshape(shape)
    return np.array(leaves, dtype=dtype).reshape(shape)


def _decode_string(value):
    if isinstance(value, str):
        return value.encode("utf-8")
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise invalid("Unable to base64 decode") from None


# === Request parsing ===
def parse_json(body):
    """Bytes -> the top-level JSON object, with TF Serving's error messages."""
    if not body:
        raise invalid("JSON Parse error: The document is empty")
    try:
        text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
        doc = json.loads(text)
    except UnicodeDecodeError as err:
        raise invalid(f"JSON Parse error: Invalid encoding in string. at offset: {err.start}") from None
    except json.JSONDecodeError as err:
        raise invalid(f"JSON Parse error: {err.msg} at offset: {err.pos}") from None
    except RecursionError:
        raise invalid("JSON Parse error: document nested too deeply") from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits (Python's conversion limit)
        raise invalid(f"JSON Parse error: {str(err)[:200]}") from None
    if not isinstance(doc, dict):
        raise invalid(f"JSON Value: {_show(doc)} Is not object")
    return doc


def request_signature_name(doc):
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid(f"JSON Value: {_show(doc)} not formatted correctly. 'signature_name' key must be a string value.")
    return name or DEFAULT_SIGNATURE


def parse_predict_inputs(doc, input_dtypes):
    """``doc`` (parsed request) and {input name: numpy dtype} of the signature -> (format, {name: array}).

    ``format`` is "row" or "columnar". Raises ServingError(INVALID_ARGUMENT) as TF Serving would."""
    if not input_dtypes:
        raise invalid("Failed to get input map for signature")
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise invalid(f"JSON Value: {_show(doc)} Not formatted correctly expecting only one of 'inputs' or "
                      f"'instances' keys to exist ")
    if has_instances:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise invalid(f"JSON Value: {_show(doc)} Expecting 'instances' to be an list/array")
        if not instances:
            raise invalid(f"JSON Value: {_show(doc)} No values in 'instances' array")
        return "row", _rows_to_tensors(instances, input_dtypes)
    if has_inputs:
        return "columnar", _columns_to_tensors(doc["inputs"], input_dtypes)
    raise invalid("Missing 'inputs' or 'instances' key")


def _rows_to_tensors(instances, input_dtypes):
    names = sorted(input_dtypes)
    is_object = lambda v: isinstance(v, dict) and not _is_b64(v)  # noqa: E731
    objects = is_object(instances[0])
    if not objects and len(names) > 1:
        raise invalid("instances is a plain list, but expecting list of objects as multiple input tensors required "
                      "as per tensorinfo_map")
    columns = {name: [] for name in names}
    for i, item in enumerate(instances):
        if objects:
            if not is_object(item):
                raise invalid(f"Expecting object but got list at item {i} of input list")
            for key in item:
                if key not in input_dtypes:
                    raise invalid(f"Failed to process element: {i} key: {key} of 'instances' list. Error: "
                                  f"INVALID_ARGUMENT: JSON object: does not have named input: {key}")
            if set(item) != set(names):
                raise invalid(f"Failed to process element: {i} of 'instances' list. JSON object: {_show(item)} "
                              f"keys must be equal to: {','.join(names)}")
            for key in names:
                columns[key].append(item[key])
        else:
            if is_object(item):
                raise invalid(f"Expecting value/list but got object at item {i} of input list")
            columns[names[0]].append(item)
    tensors = {}
    for name, rows in columns.items():
        first = json_shape(rows[0])
        for i, row in enumerate(rows):
            shape = json_shape(row)
            if shape != first:
                raise invalid(f"Failed to process element: {i} key: {name} of 'instances' list. Error: "
                              f"INVALID_ARGUMENT: Expecting shape [{','.join(map(str, first))}] but got: "
                              f"[{','.join(map(str, shape))}]")
        try:
            tensors[name] = json_to_array(rows, input_dtypes[name])
        except ServingError as err:
            raise invalid(f"Failed to process 'instances' key: {name}. Error: {err.code}: {err.message}") from None
    return tensors


def _columns_to_tensors(value, input_dtypes):
    names = sorted(input_dtypes)
    if not isinstance(value, dict) or _is_b64(value):
        if len(names) > 1:
            raise invalid("inputs is a plain value/list, but expecting an object as multiple input tensors "
                          "required as per tensorinfo_map")
        return {names[0]: json_to_array(value, input_dtypes[names[0]])}
    tensors = {}
    for name in names:
        if name not in value:
            raise invalid(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = json_to_array(value[name], input_dtypes[name])
    return tensors


# === Response encoding ===
_SPECIAL = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _leaf_strings(flat):
    kind = flat.dtype.kind
    if kind == "f":
        if flat.dtype == np.float64:
            out = [repr(v) for v in flat.tolist()]
        else:
            out = [str(v) for v in (flat if flat.dtype == np.float32 else flat.astype(np.float32))]
        if not np.isfinite(flat).all():
            out = [_SPECIAL.get(s, s) for s in out]
        return out
    if kind == "b":
        return ["true" if v else "false" for v in flat.tolist()]
    if kind in "iu":
        return list(map(str, flat.tolist()))
    if kind in "OSU":
        return [json.dumps(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) for v in flat.tolist()]
    raise ServingError("INVALID_ARGUMENT", f"Failed to write JSON value for tensor type: {flat.dtype}")


def array_to_json(array, bytes_output=False):
    """A numpy array -> JSON text in natural nested form (a bare value for a scalar)."""
    array = np.asarray(array)
    flat = array.reshape(-1)
    if bytes_output and array.dtype.kind in "OS":
        leaves = [json.dumps({"b64": base64.b64encode(bytes(v)).decode("ascii")}) for v in flat.tolist()]
    else:
        leaves = _leaf_strings(flat)
    if array.ndim == 0:
        return leaves[0]
    return _nest(leaves, array.shape)


def _nest(leaves, shape):
    if len(shape) == 1:
        return "[" + ",".join(leaves) + "]"
    step = int(np.prod(shape[1:])) if shape[1:] else 1
    return "[" + ",".join(_nest(leaves[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])) + "]"


def encode_predict_response(outputs, fmt):
    """{output name: array} -> the JSON body TF Serving answers a request of format ``fmt`` with."""
    if not outputs:
        raise invalid("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    if fmt == "columnar":
        if len(names) == 1:
            body = array_to_json(outputs[names[0]], names[0].endswith("_bytes"))
        else:
            body = "{" + ",".join(f"{json.dumps(n)}:{array_to_json(outputs[n], n.endswith('_bytes'))}"
                                  for n in names) + "}"
        return '{"outputs":' + body + "}"
    if fmt != "row":
        raise invalid("Invalid request format")
    batch = None
    for name in names:
        array = np.asarray(outputs[name])
        if array.ndim == 0:
            raise invalid(f"Tensor name: {name} has no shape information ")
        if batch is not None and array.shape[0] != batch:
            raise invalid(f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} expecting: {batch}")
        batch = array.shape[0]
    per_output = {n: [array_to_json(row, n.endswith("_bytes")) for row in np.asarray(outputs[n])] for n in names}
    if len(names) == 1:
        rows = per_output[names[0]]
    else:
        rows = ["{" + ",".join(f"{json.dumps(n)}:{per_output[n][i]}" for n in names) + "}" for i in range(batch)]
    return '{"predictions":[' + ",".join(rows) + "]}"


def error_body(message):
    return json.dumps({"error": message})
