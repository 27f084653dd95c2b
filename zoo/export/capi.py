"""Runs exported SavedModels the way stock TF Serving does: through the TensorFlow C API, with no Python.

TF Serving loads a version folder with ``SavedModelBundle`` (``tensorflow::LoadSavedModel`` with the
"serve" tag: import the MetaGraphDef, restore ``variables/``, run the init ops) and answers each
Predict request with one ``Session::Run`` that feeds and fetches the graph tensor names the
request's SignatureDef maps its input and output keys to. This module does the same in two halves:

* in this (Python) process, :func:`signature_tensors` reads ``saved_model.pb`` with the
  ``saved_model_pb2`` protobuf and resolves a signature's keys to graph tensor names
  (e.g. ``x`` -> ``encode_x:0``, ``loc`` -> ``StatefulPartitionedCall:0``) and dtypes;
* in a child process, ``zoo/export/capi/run_signature.c`` (a C program linked only against the TF
  wheel's ``libtensorflow_cc.so.2`` and ``libtensorflow_framework.so.2``) calls
  ``TF_LoadSessionFromSavedModel`` (the C wrapper of ``LoadSavedModel``) with tag "serve", then one
  ``TF_SessionRun`` per request on those tensor names.

The child gets an environment with no ``PYTHON*`` variable, its binary is checked to be an ELF
executable that does not link libpython, and after its runs it reports every file mapped into it
(``/proc/self/maps``), which must not include a libpython.

Protocol between the two (see the header of run_signature.c for the full description)::

    run_signature [--tag TAG]... [--maps FILE] EXPORT_DIR RUN [RUN ...]
    RUN := --run [-i TENSOR=FILE]... -o TENSOR=FILE [-o TENSOR=FILE]...

Tensor files (inputs and outputs alike), all integers little-endian::

    b"ZTF1" | uint32 dtype (TF DataType enum) | uint32 rank | int64 dims[rank] | raw C-order data

Supported dtypes: float16/32/64, int8/16/32/64, uint8, bool (scalars, rank 0, included), and
strings (dtype 7: after the dims, each element as uint64 byte length + bytes; numpy object arrays
of bytes, str encoded as UTF-8).

The program is compiled by :func:`build_runner` on first use into ``$ZOO_CACHE_DIR/capi/`` or
``<repo>/build/capi/``, and rebuilt when the C source is newer or the compile command changes.
"""
import importlib.util
import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from zoo.paths import REPO_ROOT

SOURCE = Path(__file__).resolve().parent / "capi" / "run_signature.c"
TF_LIBRARIES = ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2")
MAGIC = b"ZTF1"

# TF DataType enum (tensorflow/core/framework/types.proto, = TF_DataType in c_api.h) <-> numpy.
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
          10: np.bool_, 19: np.float16}
ENUMS = {np.dtype(v): k for k, v in DTYPES.items()}
STRING = 7  # DT_STRING; numpy object arrays of bytes
DTYPES[STRING] = object
ENUMS[np.dtype(object)] = STRING

# Exit statuses of run_signature.c.
EXIT_CODES = {2: "usage error", 3: "tensor file error", 4: "SavedModel load failed", 5: "graph lookup failed",
              6: "Session::Run failed"}


class CApiError(RuntimeError):
    """The C runner (or its build) failed; ``str(err)`` holds its ``run_signature: ...`` line with TF's status
    code name and ``TF_Message``; ``returncode`` and the full ``stderr`` are attributes."""

    def __init__(self, text, returncode=None, stderr=""):
        super().__init__(text)
        self.returncode = returncode
        self.stderr = stderr


# === Building the C program ===
def tensorflow_dirs():
    """(include dir, library dir) of the installed ``tensorflow`` wheel, found without importing it."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise CApiError("the tensorflow package is not installed; its wheel provides the C API headers and libraries")
    tf_dir = Path(list(spec.submodule_search_locations)[0]).resolve()
    include = tf_dir / "include"
    missing = [str(p) for p in [include / "tensorflow" / "c" / "c_api.h", *(tf_dir / lib for lib in TF_LIBRARIES)]
               if not p.exists()]
    if missing:
        raise CApiError(f"the tensorflow wheel at {tf_dir} lacks the C API files {missing}")
    return include, tf_dir


def cache_dir():
    """``$ZOO_CACHE_DIR/capi`` or ``<repo>/build/capi`` (git-ignored)."""
    root = os.environ.get("ZOO_CACHE_DIR")
    return Path(root) / "capi" if root else REPO_ROOT / "build" / "capi"


def compile_command(output):
    """The gcc command line building ``output`` (``$CC`` overrides gcc), linked with an rpath to the wheel."""
    compiler = os.environ.get("CC", "gcc")
    include, lib_dir = tensorflow_dirs()
    return [compiler, "-std=c11", "-O2", "-Wall", "-Wextra", "-I", str(include), str(SOURCE), "-o", str(output),
            "-L", str(lib_dir), *(f"-l:{lib}" for lib in TF_LIBRARIES), f"-Wl,-rpath,{lib_dir}"]


def build_runner(force=False):
    """Path of the compiled ``run_signature`` binary, building it first if it is missing, older than
    its C source, or was built with another command (e.g. another TF install). The build goes to a
    temporary name and is renamed into place, so concurrent callers never see a half-written file."""
    out_dir = cache_dir()
    binary = out_dir / "run_signature"
    stamp = out_dir / "run_signature.cmd"
    command = compile_command(binary)
    recorded = stamp.read_text() if stamp.exists() else None
    if (not force and binary.exists() and binary.stat().st_mtime >= SOURCE.stat().st_mtime
            and recorded == "\n".join(command)):
        return binary
    if shutil.which(command[0]) is None:
        raise CApiError(f"no C compiler: {command[0]!r} is not on PATH (install gcc, e.g. `apt-get install gcc`, "
                        f"or set $CC); it is needed to build {SOURCE.name} against the TensorFlow C API")
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="run_signature.", dir=out_dir)
    os.close(fd)
    try:
        tmp_command = command[:command.index("-o") + 1] + [tmp] + command[command.index("-o") + 2:]
        result = subprocess.run(tmp_command, capture_output=True, text=True)
        if result.returncode != 0:
            raise CApiError(f"compiling {SOURCE} failed (exit {result.returncode}):\n{' '.join(tmp_command)}\n"
                            f"{result.stderr[-4000:]}", result.returncode, result.stderr)
        os.chmod(tmp, 0o755)
        os.replace(tmp, binary)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    stamp.write_text("\n".join(command))
    return binary


def linked_libraries(binary):
    """Shared libraries ``ldd`` resolves for ``binary`` (names), to show no libpython is linked."""
    result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


# === Tensor files ===
def write_tensor(path, array):
    """Writes ``array`` in the ZTF1 format: magic, uint32 dtype enum, uint32 rank, int64 dims, raw data."""
    array = np.asarray(array)
    if array.dtype.kind in "OSU":
        with open(path, "wb") as f:
            f.write(MAGIC + struct.pack("<II", STRING, array.ndim))
            f.write(struct.pack(f"<{array.ndim}q", *array.shape))
            for value in array.reshape(-1).tolist():
                value = value.encode("utf-8") if isinstance(value, str) else bytes(value)
                f.write(struct.pack("<Q", len(value)) + value)
        return
    if array.dtype not in ENUMS:
        raise CApiError(f"{path}: dtype {array.dtype} is not supported by the C runner ({sorted(map(str, ENUMS))})")
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<II", ENUMS[array.dtype], array.ndim))
        f.write(struct.pack(f"<{array.ndim}q", *array.shape))
        f.write(data.tobytes(order="C"))


def read_tensor(path):
    """Reads a ZTF1 tensor file into a numpy array (a 0-d array for a scalar)."""
    raw = Path(path).read_bytes()
    if raw[:4] != MAGIC or len(raw) < 12:
        raise CApiError(f"{path}: not a ZTF1 tensor file")
    dtype_enum, rank = struct.unpack_from("<II", raw, 4)
    if dtype_enum not in DTYPES:
        raise CApiError(f"{path}: unsupported dtype enum {dtype_enum}")
    shape = struct.unpack_from(f"<{rank}q", raw, 12)
    if dtype_enum == STRING:
        values, offset = [], 12 + 8 * rank
        for _ in range(int(np.prod(shape))):
            if offset + 8 > len(raw):
                raise CApiError(f"{path}: truncated string tensor")
            (length,) = struct.unpack_from("<Q", raw, offset)
            values.append(raw[offset + 8:offset + 8 + length])
            offset += 8 + length
        if offset != len(raw):
            raise CApiError(f"{path}: {len(raw) - offset} bytes after the last string")
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    dtype = np.dtype(DTYPES[dtype_enum]).newbyteorder("<")
    data = raw[12 + 8 * rank:]
    if len(data) != int(np.prod(shape)) * dtype.itemsize:
        raise CApiError(f"{path}: {len(data)} data bytes for shape {shape} of {dtype}")
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


# === SignatureDefs, read in this process ===
def read_meta_graph(version_dir, tag="serve"):
    """The MetaGraphDef of ``version_dir/saved_model.pb`` carrying ``tag``, as TF Serving selects it."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = Path(version_dir) / "saved_model.pb"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (not a SavedModel version folder)")
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(path.read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if tag in meta_graph.meta_info_def.tags:
            return meta_graph
    tags = [list(m.meta_info_def.tags) for m in saved_model.meta_graphs]
    raise CApiError(f"{path}: no MetaGraphDef with tag {tag!r} (has {tags})")


def signature_tensors(version_dir, signature_name, meta_graph=None):
    """{"inputs": {key: (tensor name, numpy dtype)}, "outputs": {...}} of one SignatureDef."""
    meta_graph = meta_graph or read_meta_graph(version_dir)
    if signature_name not in meta_graph.signature_def:
        raise KeyError(f"{version_dir}: no signature {signature_name!r} (has {sorted(meta_graph.signature_def)})")
    signature = meta_graph.signature_def[signature_name]

    def resolve(infos, role):
        out = {}
        for key, info in infos.items():
            if info.WhichOneof("encoding") != "name":
                raise CApiError(f"{signature_name}: {role} {key!r} is not a dense tensor (composite tensors "
                                f"are not supported)")
            if info.dtype not in DTYPES:
                raise CApiError(f"{signature_name}: {role} {key!r} has DataType enum {info.dtype}, which the "
                                f"C runner does not support")
            out[key] = (info.name, np.dtype(DTYPES[info.dtype]))
        return out

    return {"inputs": resolve(signature.inputs, "input"), "outputs": resolve(signature.outputs, "output")}


def _as_input(key, value, dtype, signature_name):
    array = np.asarray(value)
    if (dtype.kind == "O") != (array.dtype.kind in "OSU"):
        raise CApiError(f"{signature_name}: input {key!r} has dtype {array.dtype}, the signature wants {dtype}")
    if array.dtype != dtype:
        if not np.can_cast(array.dtype, dtype, casting="same_kind"):
            raise CApiError(f"{signature_name}: input {key!r} has dtype {array.dtype}, the signature wants {dtype}")
        array = array.astype(dtype)
    return array


# === Running ===
def _child_environment():
    """The caller's environment without any PYTHON* variable, quiet TF logs unless asked otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_signatures(version_dir, requests, tag="serve", timeout=600, report=None):
    """Runs several requests in one C process (one load, one Session::Run each, as a server would).

    ``requests``: a list of (signature name, {input key: array}). Returns a list of
    {output key: numpy array}, one per request. Raises ``CApiError`` whose message includes TF's
    status code and message when loading or a run fails, and if a libpython was mapped into the child.
    ``report``: a dict to receive "command", "mapped_files" (of the child, from /proc/self/maps) and
    "stderr".
    """
    version_dir = Path(version_dir).resolve()
    binary = build_runner()
    if binary.read_bytes()[:4] != b"\x7fELF":
        raise CApiError(f"{binary} is not an ELF executable")
    meta_graph = read_meta_graph(version_dir, tag)
    plans = []
    with tempfile.TemporaryDirectory(prefix="zoo-capi-") as tmp:
        tmp = Path(tmp)
        command = [str(binary), "--tag", tag, "--maps", str(tmp / "maps.txt"), str(version_dir)]
        for r, (name, inputs) in enumerate(requests):
            tensors = signature_tensors(version_dir, name, meta_graph)
            if set(inputs) != set(tensors["inputs"]):
                raise CApiError(f"{name}: inputs {sorted(inputs)} do not match the signature's "
                                f"{sorted(tensors['inputs'])}")
            command.append("--run")
            for i, (key, (tensor_name, dtype)) in enumerate(sorted(tensors["inputs"].items())):
                path = tmp / f"r{r}_in{i}.ztf"
                write_tensor(path, _as_input(key, inputs[key], dtype, name))
                command += ["-i", f"{tensor_name}={path}"]
            outputs = {}
            for o, (key, (tensor_name, _)) in enumerate(sorted(tensors["outputs"].items())):
                outputs[key] = tmp / f"r{r}_out{o}.ztf"
                command += ["-o", f"{tensor_name}={outputs[key]}"]
            plans.append((name, outputs))
        result = subprocess.run(command, capture_output=True, text=True, env=_child_environment(), timeout=timeout,
                                cwd=tmp)
        if result.returncode != 0:
            # The last "run_signature: " line and what follows it: TF messages can span lines.
            start = result.stderr.rfind("run_signature: ")
            if start > 0 and result.stderr[start - 1] != "\n":
                start = -1
            detail = (result.stderr[start:] if start >= 0 else result.stderr).strip()[-4000:]
            where = ""
            if detail.startswith("run_signature: run "):
                index = int(detail.split()[2].rstrip(":"))
                where = f" (signature {plans[index][0]!r})"
            kind = EXIT_CODES.get(result.returncode, f"exit status {result.returncode}")
            raise CApiError(f"C API runner on {version_dir}{where}: {kind}: {detail}", result.returncode,
                            result.stderr)
        mapped = (tmp / "maps.txt").read_text().splitlines()
        if report is not None:
            report.update(command=command, mapped_files=mapped, stderr=result.stderr)
        python_libs = [path for path in mapped if "libpython" in Path(path).name]
        if python_libs:
            raise CApiError(f"the C API runner had Python mapped into it: {python_libs}")
        return [{key: read_tensor(path) for key, path in outputs.items()} for _, outputs in plans]


def run_signature(version_dir, signature_name, inputs, tag="serve"):
    """Runs one signature of the SavedModel in ``version_dir`` through the TF C API in a child process
    with no Python: ``inputs`` {key: array} (cast to the SignatureDef's dtypes when the cast is
    same-kind) -> {output key: numpy array}. Raises ``CApiError`` carrying TF's message on failure."""
    return run_signatures(version_dir, [(signature_name, inputs)], tag=tag)[0]


def check_with_c_api(model, version_dir, rtol=1e-4, atol=1e-4, require_warmup=False):
    """Runs every signature of the SavedModel in ``version_dir`` through the TF C API (one C process,
    TF Serving's loading path) and compares the outputs with the Keras model's endpoints on the same inputs.

    The requests are the version's warm-up records (``assets.extra/tf_serving_warmup_requests``, what
    TF Serving replays at load) when it has them, plus each endpoint's ``example`` for any signature
    the records do not cover; with ``require_warmup`` a missing warm-up file or an uncovered
    signature is an error. Returns {signature: max abs difference}; raises ``AssertionError`` (from
    ``compare_outputs``) naming the signature and output on a mismatch, ``CApiError`` if the C side
    fails. Stochastic signatures draw with stateless random ops seeded by an input, so they must
    match too.
    """
    import tensorflow as tf

    from zoo.export.archive import compare_outputs
    from zoo.serving.warmup import read_warmup_requests, warmup_path

    endpoints = model.export_endpoints()
    requests = [(name, inputs) for name, inputs in read_warmup_requests(version_dir)]
    unknown = sorted({name for name, _ in requests} - set(endpoints))
    if unknown:
        raise AssertionError(f"{warmup_path(version_dir)}: warm-up records for signatures {unknown} the model "
                             f"does not export (has {sorted(endpoints)})")
    uncovered = [name for name in endpoints if name not in {n for n, _ in requests}]
    if require_warmup and uncovered:
        raise AssertionError(f"{version_dir}: no warm-up record for signatures {uncovered} "
                             f"(expected {warmup_path(version_dir)} with one per signature)")
    requests += [(name, endpoints[name].example) for name in uncovered]
    results = run_signatures(version_dir, requests)
    report = {}
    for (name, inputs), got in zip(requests, results):
        endpoint = endpoints[name]
        args = [tf.constant(inputs[spec.name], dtype=spec.dtype) for spec in endpoint.input_signature]
        expected = {k: v.numpy() for k, v in endpoint.guarded_fn(*args).items()}
        diff = compare_outputs(expected, got, f"{version_dir}:{name} (C API)", rtol, atol, endpoint.tied_outputs)
        report[name] = max(diff, report.get(name, 0.0))
    return report
