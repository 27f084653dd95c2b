"""Loaded models and versions: what ``zoo serve`` answers from.

Each version folder is loaded once with ``tf.saved_model.load`` (the signatures run as
``ConcreteFunction``s); its SignatureDefs are read from ``saved_model.pb`` with the protobuf,
as TF Serving reads them, for metadata and request validation. At load every warm-up record is
replayed (as TF Serving does); a failing record fails the load. A request without a version
gets the highest loaded version.
"""
import dataclasses
import logging
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from zoo.serving import config as config_lib
from zoo.serving.batching import Batcher
from zoo.serving.codec import DEFAULT_SIGNATURE, tf_name
from zoo.serving.errors import ServingError, from_tf_error, invalid

log = logging.getLogger("zoo.serving")


@dataclasses.dataclass
class TensorInfo:
    dtype: np.dtype
    shape: Optional[list]  # dims with -1 for unknown; None for unknown rank

    def describe(self):
        return "[?]" if self.shape is None else "[" + ",".join(map(str, self.shape)) + "]"


@dataclasses.dataclass
class Signature:
    name: str
    inputs: Dict[str, TensorInfo]
    outputs: Dict[str, TensorInfo]
    proto: object  # tensorflow.SignatureDef
    batchable: bool = False  # every input and output has a leading unknown (batch) dimension
    batched: bool = False  # batching is on for it (batchable and the warm-up probe agreed)

    @property
    def input_dtypes(self):
        return {k: v.dtype for k, v in self.inputs.items()}


def _tensor_info(info):
    import tensorflow as tf

    dtype = np.dtype(tf.dtypes.as_dtype(info.dtype).as_numpy_dtype)
    shape = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
    return TensorInfo(dtype, shape)


def _same(a, b):
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "OSU" or b.dtype.kind in "OSU":
        return a.tolist() == b.tolist()
    return bool(np.allclose(a, b, rtol=1e-5, atol=1e-5, equal_nan=True))


def _batchable(signature):
    infos = list(signature.inputs.values()) + list(signature.outputs.values())
    return bool(signature.inputs) and all(t.shape and t.shape[0] == -1 for t in infos)


class Servable:
    """One loaded version of one model."""

    def __init__(self, name, version, path, batching=True, max_batch_size=64, batch_timeout_s=0.0, warmup=True):
        import tensorflow as tf

        from zoo.export.capi import read_meta_graph
        from zoo.serving.warmup import read_warmup_requests

        self.name, self.version, self.path = name, int(version), Path(path)
        self.meta_graph = read_meta_graph(self.path)
        self.loaded = tf.saved_model.load(str(self.path))
        self.signatures = {}
        for key, proto in self.meta_graph.signature_def.items():
            if key.startswith("__"):  # e.g. __saved_model_init_op
                continue
            sig = Signature(key, {k: _tensor_info(v) for k, v in proto.inputs.items()},
                            {k: _tensor_info(v) for k, v in proto.outputs.items()}, proto)
            sig.batchable = _batchable(sig)
            self.signatures[key] = sig
        self._batchers = {}
        self.warmup_requests = read_warmup_requests(self.path) if warmup else []
        for signature, inputs in self.warmup_requests:
            # As TF Serving: a failing warm-up record fails the load.
            try:
                self.run(signature, self.validate(self.signature(signature), inputs))
            except ServingError as err:
                raise ServingError(err.code, f"{self.path}: warm-up request for signature {signature!r} failed: "
                                   f"{err.message}") from None
        if batching:
            for signature, inputs in self.warmup_requests:
                sig = self.signatures.get(signature)
                if sig is not None and sig.batchable and not sig.batched and self._batch_safe(signature, inputs):
                    sig.batched = True
                    self._batchers[signature] = Batcher(lambda x, s=signature: self.run(s, x), max_batch_size,
                                                        batch_timeout_s, name=f"batch-{name}-{version}-{signature}")

    def signature(self, signature_name):
        signature_name = signature_name or DEFAULT_SIGNATURE
        try:
            return self.signatures[signature_name]
        except KeyError:
            raise ServingError("FAILED_PRECONDITION", f'Serving signature key "{signature_name}" not found.') from None

    def _batch_safe(self, signature, inputs):
        """Rows give the same outputs alone and inside a bigger batch (no cross-row coupling, no
        batch-shape-dependent random draws), checked on the warm-up request run twice stacked."""
        try:
            alone = self.run(signature, inputs)
            twice = self.run(signature, {k: np.concatenate([v, v]) for k, v in inputs.items()})
            n = next(iter(inputs.values())).shape[0]
            for key, value in alone.items():
                both = twice[key]
                if both.shape[0] != 2 * n or not (_same(both[:n], value) and _same(both[n:], value)):
                    return False
            return n > 0
        except Exception:  # noqa: BLE001  (any failure: serve this signature unbatched)
            return False

    def validate(self, signature, inputs):
        """Checks input names, dtypes and shapes against the SignatureDef; returns the inputs cast to
        the signature's dtypes where that is lossless (e.g. gRPC int32 tensors for an int64 input)."""
        expected, sent = set(signature.inputs), set(inputs)
        if len(sent) > len(expected) or (len(sent) < len(expected) and not signature.proto.defaults):
            raise invalid(f"input size does not match signature: {len(sent)}!={len(expected)} "
                          f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(expected))}}}). "
                          f"Sent extra: {{{','.join(sorted(sent - expected))}}}. "
                          f"Missing but required: {{{','.join(sorted(expected - sent))}}}.")
        if sent - expected:
            raise invalid(f"input tensor alias not found in signature: {sorted(sent - expected)[0]}. Inputs expected "
                          f"to be in the set {{{','.join(sorted(expected))}}}.")
        checked = {}
        for key, value in inputs.items():
            info = signature.inputs[key]
            value = np.asarray(value)
            if info.dtype.kind == "O" and value.dtype.kind in "SU":  # numpy text -> TF strings (UTF-8 bytes)
                value = np.vectorize(lambda v: v.encode("utf-8") if isinstance(v, str) else bytes(v),
                                     otypes=[object])(value) if value.size else value.astype(object)
            if value.dtype != info.dtype:
                if value.dtype.kind in "OSU" or info.dtype.kind == "O" or not np.can_cast(value.dtype, info.dtype):
                    raise invalid(f"Input '{key}' of signature '{signature.name}' has dtype {tf_name(value.dtype)} "
                                  f"but the signature expects {tf_name(info.dtype)}")
                value = value.astype(info.dtype)
            if info.shape is not None and (value.ndim != len(info.shape) or any(
                    d != -1 and d != s for d, s in zip(info.shape, value.shape))):
                raise invalid(f"Input '{key}' of signature '{signature.name}' has shape "
                              f"[{','.join(map(str, value.shape))}] but the signature expects {info.describe()}")
            checked[key] = value
        return checked

    def run(self, signature_name, inputs):
        """Runs a signature on already validated numpy inputs -> {output: numpy array}."""
        import tensorflow as tf

        fn = self.loaded.signatures[signature_name]
        try:
            outputs = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        except tf.errors.OpError as err:
            raise from_tf_error(err) from None
        except (TypeError, ValueError) as err:
            raise invalid(str(err).strip().splitlines()[0]) from None
        # as TF does for non-scalars: strings are object arrays (a scalar string's numpy() is plain bytes)
        return {k: np.asarray(v.numpy(), dtype=object if v.dtype == tf.string else None) for k, v in outputs.items()}

    def predict(self, signature_name, inputs, output_filter=()):
        """Validates and runs one request (batched with concurrent ones where the signature allows)."""
        signature = self.signature(signature_name)
        inputs = self.validate(signature, inputs)
        for alias in output_filter:
            if alias not in signature.outputs:
                raise invalid(f"output tensor alias not found in signature: {alias} Outputs expected to be in the set "
                              f"{{{','.join(sorted(signature.outputs))}}}.")
        if len(set(output_filter)) != len(output_filter):
            raise invalid("duplicate output tensor alias: " + next(a for a in output_filter
                                                                   if list(output_filter).count(a) > 1))
        batcher = self._batchers.get(signature.name)
        outputs = batcher.submit(inputs) if batcher else self.run(signature.name, inputs)
        if output_filter:
            outputs = {k: outputs[k] for k in output_filter}
        return signature.name, outputs

    def close(self):
        for batcher in self._batchers.values():
            batcher.close()


def check_integrity(base, version):
    """Checks the files of ``base/version`` against the sha256 manifest of ``base/card.json`` when there is one
    (zoo artifacts have it; a bare TF Serving model folder has no card and is loaded as it is)."""
    from zoo.card import ArtifactError, read_card_file, verify_files

    card_path = base / "card.json"
    if not card_path.exists():
        return
    card = read_card_file(card_path)
    prefix = f"{version}/"
    manifest = {k: v for k, v in (card.get("files") or {}).items() if k.startswith(prefix)}
    if card.get("files") and not manifest:
        raise ArtifactError(f"{base / str(version)}: not listed in {card_path} (a version published without it)")
    verify_files(base, {"files": manifest})


def _load_failure(err):
    """One line saying why a version did not load (no protobuf or TensorFlow traceback)."""
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    first = message.strip().splitlines()[0] if message.strip() else type(err).__name__
    return f"{type(err).__name__}: {first[:300]}"


class ModelRegistry:
    """Models by name, each with its loaded versions.

    ``models``: {name: base path holding numbered version folders}. ``latest_only`` loads only the
    highest version of each (TF Serving's default policy); otherwise every version (the policy
    ``models.config`` declares)."""

    def __init__(self, models, latest_only=False, batching=True, max_batch_size=64, batch_timeout_s=0.0,
                 warmup=True):
        """A version that does not load (a damaged SavedModel or warm-up file, a file whose sha256 differs
        from its card's) is skipped and its reason kept in ``skipped`` ({"name/version": reason}), so one bad
        artifact never stops the others; a registry with nothing loaded is an error listing the reasons."""
        self.models, self.skipped = {}, {}
        for name, base in models.items():
            versions = config_lib.servable_versions(base)
            if not versions:
                self.skipped[name] = f"{base} has no numbered SavedModel version folder"
                continue
            if latest_only:
                versions = versions[-1:]
            for version in versions:
                log.info("loading %s version %d from %s", name, version, base)
                try:
                    check_integrity(Path(base), version)
                    servable = Servable(name, version, Path(base) / str(version), batching=batching,
                                        max_batch_size=max_batch_size, batch_timeout_s=batch_timeout_s, warmup=warmup)
                except Exception as err:  # noqa: BLE001  (any failure to load skips this version, with the reason)
                    reason = _load_failure(err)
                    log.warning("skipping %s version %d: %s", name, version, reason)
                    self.skipped[f"{name}/{version}"] = reason
                    continue
                self.models.setdefault(name, {})[version] = servable
        if not self.models:
            reasons = "; ".join(f"{k}: {v}" for k, v in self.skipped.items()) or "no model was given"
            raise ServingError("FAILED_PRECONDITION", f"no model could be loaded ({reasons})")

    @classmethod
    def from_models_dir(cls, models_dir=None, names=None, **kwargs):
        """Every servable artifact in ``models_dir`` (default: the zoo's saved_models/), or ``names``."""
        from zoo.hub import models_dir as default_models_dir

        root = Path(models_dir or default_models_dir())
        available = config_lib.servable_models(root)
        names = list(names) if names else available
        missing = [n for n in names if n not in available]
        if missing:
            raise FileNotFoundError(f"no servable model {missing} in {root}; servable: {available or 'none'}")
        if not names:
            raise FileNotFoundError(f"no servable model in {root} (no <name>/<version>/saved_model.pb)")
        return cls({n: root / n for n in names}, **kwargs)

    def names(self):
        return sorted(self.models)

    def versions(self, name):
        if name not in self.models:
            raise ServingError("NOT_FOUND", f"Could not find any versions of model {name}")
        return self.models[name]

    def get(self, name, version=None):
        """The servable for ``name`` at ``version`` (None: the latest); NOT_FOUND as TF Serving words it."""
        versions = self.models.get(name)
        if version is None:
            if not versions:
                raise ServingError("NOT_FOUND", f"Servable not found for request: Latest({name})")
            return versions[max(versions)]
        if not versions or int(version) not in versions:
            raise ServingError("NOT_FOUND", f"Servable not found for request: Specific({name}, {version})")
        return versions[int(version)]

    def close(self):
        for versions in self.models.values():
            for servable in versions.values():
                servable.close()
