"""Publishing a trained model as a zoo artifact: ``saved_models/<name>/{card.json, <version>/, model.keras}``
(``model.keras`` only for models that their config alone does not build: see ``built_by_config``)."""
import datetime
import json
import platform
import subprocess
import sys

import keras
import numpy as np
import tensorflow as tf

from zoo.export import check_export, export_saved_model, signature_docs
from zoo.hub import REPO_ROOT, models_dir


def inference_copy(model, example_batch):
    """A copy of ``model`` with the same weights and no optimizer state: what ships (small)."""
    clone = model.__class__.from_config(model.get_config())
    clone(example_batch)
    clone.set_weights(model.get_weights())
    return clone


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def versions():
    import tensorflow_probability as tfp
    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "tensorflow_probability": tfp.__version__, "numpy": np.__version__}


def publish(model, example_batch, card, version=1, destination=None):
    """Saves the inference copy, exports SavedModel version ``version``, checks it, writes card.json.

    ``card`` holds the run's facts (recipe, data, training, metrics); this adds the signature docs,
    versions, commit and date. Returns the artifact folder.
    """
    name = card["name"]
    folder = destination or (models_dir() / name)
    folder.mkdir(parents=True, exist_ok=True)
    shipped = inference_copy(model, example_batch)
    keras_file = folder / "model.keras"
    if built_by_config(shipped):  # the card's config and the SavedModel's weights restore it: one copy of the weights
        keras_file.unlink(missing_ok=True)
    else:
        shipped.save(keras_file)
    version_dir = folder / str(version)
    if version_dir.exists():
        import shutil
        shutil.rmtree(version_dir)
    export_saved_model(shipped, version_dir)
    write_serving_files(shipped, version_dir, name)
    check = check_export(shipped, version_dir)
    card = {**card, "model_class": type(model).__name__, "model_config": shipped.get_config(),
            "parameters": int(shipped.count_params()), "signatures": signature_docs(shipped),
            "serving": serving_doc(name, version),
            "export_check_max_abs_diff": check, "versions": versions(), "commit": git_commit(),
            "published": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)}
    (folder / "card.json").write_text(json.dumps(card, indent=2, default=_jsonable) + "\n")
    return folder


def built_by_config(model):
    """Whether ``from_config`` alone builds every weight of ``model`` (e.g. ``RNNLanguageModel``): then the
    artifact needs no ``model.keras``, ``zoo.load`` rebuilds it from the card and reads the weights from
    the SavedModel (``zoo.export.weights_from_saved_model``), and the artifact holds its weights once."""
    probe = type(model).from_config(model.get_config())
    return probe.built and [tuple(w.shape) for w in probe.weights] == [tuple(w.shape) for w in model.weights]


def write_serving_files(model, version_dir, name):
    """TF Serving extras of a published version: its warm-up records (one PredictLog per signature,
    in ``assets.extra/``) and the regenerated ``models.config`` of the artifact's parent folder."""
    from zoo.serving.config import write_models_config
    from zoo.serving.warmup import write_warmup_requests

    write_warmup_requests(model, version_dir, name)
    write_models_config(version_dir.parent.parent)


def serving_doc(name, version):
    """For the card: where TF Serving (or ``zoo serve``) answers this model; see docs/serving.md."""
    return {"version_dir": f"{name}/{version}", "warmup_requests": f"{version}/assets.extra/tf_serving_warmup_requests",
            "rest_predict": f"POST http://HOST:8501/v1/models/{name}[/versions/{version}]:predict",
            "rest_metadata": f"GET http://HOST:8501/v1/models/{name}/metadata",
            "grpc": "tensorflow.serving.PredictionService/Predict on HOST:8500 (model_spec.name "
                    f"{name!r}, signature_name one of the signatures above)",
            "request_body": "each signature's example_request is a REST :predict body (columnar 'inputs')"}


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
