"""Shared by tests/test_serving_*.py: a tiny exported VAE (two versions) served on free local ports."""
import json
import os
import urllib.error
import urllib.request

import numpy as np

MODEL = "tiny-vae"


def tiny_vae(seed):
    from zoo.models import VAE

    model = VAE(latent_dim=2, hidden_units=(8,), seed=seed)
    model(np.zeros((1, 784), np.float32))
    return model


def export_tiny_models(root):
    """``root/tiny-vae/{1,2}/`` (different weights) with warm-up records and ``root/models.config``;
    returns {version: keras model}."""
    from zoo.export import export_saved_model
    from zoo.training.artifact import write_serving_files

    models = {}
    for version, seed in ((1, 0), (2, 1)):
        model = tiny_vae(seed)
        version_dir = root / MODEL / str(version)
        export_saved_model(model, version_dir)
        write_serving_files(model, version_dir, MODEL)
        models[version] = model
    return models


def start_server(root, max_request_bytes=256 << 10):
    from zoo.serving.registry import ModelRegistry
    from zoo.serving.server import Server

    registry = ModelRegistry.from_models_dir(root)
    return Server(registry, host="127.0.0.1", rest_port=0, grpc_port=0, max_request_bytes=max_request_bytes).start()


def binary_images(n, seed=0):
    return (np.random.RandomState(seed).uniform(size=(n, 784)) < 0.2).astype(np.float32)


def keras_outputs(model, signature, inputs):
    import tensorflow as tf

    endpoint = model.export_endpoints()[signature]
    args = [tf.constant(inputs[s.name], s.dtype) for s in endpoint.input_signature]
    return {k: v.numpy() for k, v in endpoint.guarded_fn(*args).items()}


def http(url, method="GET", body=None, timeout=30):
    """(status, parsed JSON body) of one plain HTTP request; ``body`` bytes, str or a JSON-able object."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        text = err.read()
        return err.code, json.loads(text) if text else None


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
