"""Serving the zoo the way TensorFlow Serving serves it.

* artifacts in TF Serving's layout with warm-up records (:mod:`zoo.serving.warmup`) and a
  ``models.config`` for all of them (:mod:`zoo.serving.config`);
* ``zoo serve``: a local server speaking TF Serving's REST API and gRPC ``PredictionService``
  (:mod:`zoo.serving.server`, over :mod:`~zoo.serving.registry`, :mod:`~zoo.serving.codec`,
  :mod:`~zoo.serving.rest`, :mod:`~zoo.serving.grpc_service`, :mod:`~zoo.serving.batching`);
* :class:`Client` for both APIs.

See docs/serving.md.
"""
from zoo.serving.client import Client, ClientError
from zoo.serving.errors import ServingError

__all__ = ["Client", "ClientError", "ServingError", "serve", "write_models_config", "write_warmup_requests"]


def serve(*args, **kwargs):
    from zoo.serving.server import serve as _serve
    return _serve(*args, **kwargs)


def write_models_config(*args, **kwargs):
    from zoo.serving.config import write_models_config as _write
    return _write(*args, **kwargs)


def write_warmup_requests(*args, **kwargs):
    from zoo.serving.warmup import write_warmup_requests as _write
    return _write(*args, **kwargs)
