"""Publishing a trained model as a zoo artifact: ``<models dir>/<name>/{card.json, <version>/, model.keras}``
(``model.keras`` only for models that their config alone does not build: see ``built_by_config``).

Where an artifact may go (``destination``), so that no run loses anyone's model:

* a real run publishes to ``$ZOO_HOME/models/<name>`` by default, or to ``models_dir/<name>``;
* an existing artifact there (the user's or a shipped one) is never replaced unless ``overwrite=True``
  (``zoo train ... --overwrite``); a new name may be added to any folder, the shipped one included;
* a toy run (``Recipe.shrink()``) never publishes, except into an explicit ``models_dir`` outside the
  shipped models (tests look at toy artifacts there), and never over an existing artifact.

Publishing writes a complete artifact into a temporary sibling folder and renames it into place, so a
failing export leaves the previous artifact untouched.
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo import hub
from zoo.card import CARD, file_manifest
from zoo.export import check_export, export_saved_model, signature_docs
from zoo.paths import REPO_ROOT


class PublishRefused(ValueError):
    """Publishing would replace or damage an artifact; the message says what to do instead."""


def destination(name, models_dir=None, toy=False, overwrite=False):
    """The folder ``name`` is published to, or None when a toy run has nowhere it may publish.

    Raises ``PublishRefused`` when the folder holds an artifact and ``overwrite`` is False, or when a toy run
    would write into the shipped models.
    """
    if toy and models_dir is None:
        return None
    folder = Path(models_dir or hub.user_models_dir()) / name
    if toy and hub.is_shipped_folder(folder):
        raise PublishRefused(f"a toy run never publishes into the shipped models ({folder.parent}); "
                             "give --models-dir a folder of your own")
    if (folder / CARD).exists() and (toy or not overwrite):
        kind = "a shipped artifact" if hub.is_shipped_folder(folder) else "an artifact"
        hint = "" if toy else "; pass --overwrite to replace it, or --models-dir to publish elsewhere"
        raise PublishRefused(f"{folder} already holds {kind}{hint}")
    return folder


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


def publish(model, example_batch, card, version=1, folder=None, overwrite=False):
    """Saves the inference copy, exports SavedModel version ``version``, checks it, writes card.json with the
    sha256 of every file, then moves the finished artifact to ``folder`` (default ``$ZOO_HOME/models/<name>``).

    ``card`` holds the run's facts (recipe, data, training, metrics); this adds the signature docs,
    versions, commit and date. Returns the artifact folder. An existing artifact at ``folder`` is replaced only
    with ``overwrite=True`` (and only once the new one is complete).
    """
    name = card["name"]
    folder = Path(folder or hub.user_models_dir() / name)
    if (folder / CARD).exists() and not overwrite:
        raise PublishRefused(f"{folder} already holds an artifact; pass overwrite=True to replace it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{name}.publishing-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        card = _write_artifact(model, example_batch, card, version, staging)
        _replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    from zoo.serving.config import write_models_config
    write_models_config(folder.parent)
    return folder


def _write_artifact(model, example_batch, card, version, folder):
    name = card["name"]
    shipped = inference_copy(model, example_batch)
    if not built_by_config(shipped):  # else the card's config and the SavedModel's weights restore it
        shipped.save(folder / "model.keras")
    version_dir = folder / str(version)
    export_saved_model(shipped, version_dir, weights_dtype(card))
    from zoo.serving.warmup import write_warmup_requests
    write_warmup_requests(shipped, version_dir, name)
    check = check_export(shipped, version_dir)
    card = {**card, "model_class": type(model).__name__, "model_config": shipped.get_config(),
            "parameters": int(shipped.count_params()), "signatures": signature_docs(shipped),
            "serving": serving_doc(name, version),
            "export_check_max_abs_diff": check, "versions": versions(), "commit": git_commit(),
            "published": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv), "files": file_manifest(folder)}
    (folder / CARD).write_text(json.dumps(card, indent=2, default=_jsonable) + "\n")
    return card


def _replace(staging, folder):
    """Renames the finished ``staging`` folder to ``folder``; an artifact already there is moved aside first and
    deleted only once the new one is in place (put back if the rename fails)."""
    retired = None
    if folder.exists():
        retired = folder.parent / f".{folder.name}.replaced-{os.getpid()}"
        shutil.rmtree(retired, ignore_errors=True)
        folder.rename(retired)
    try:
        staging.rename(folder)
    except OSError:
        if retired is not None:
            retired.rename(folder)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def weights_dtype(card):
    """How the artifact of ``card`` stores its weights ("float32" for cards that predate the field)."""
    return card.get("storage", {}).get("weights_dtype", "float32")


def built_by_config(model):
    """Whether ``from_config`` alone builds every weight of ``model`` (e.g. ``RNNLanguageModel``): then the
    artifact needs no ``model.keras``, ``zoo.load`` rebuilds it from the card and reads the weights from
    the SavedModel (``zoo.export.weights_from_saved_model``), and the artifact holds its weights once."""
    probe = type(model).from_config(model.get_config())
    return probe.built and [tuple(w.shape) for w in probe.weights] == [tuple(w.shape) for w in model.weights]


def write_serving_files(model, version_dir, name):
    """TF Serving extras of an exported version: its warm-up records (one PredictLog per signature, in
    ``assets.extra/``) and the regenerated ``models.config`` of the artifact's parent folder."""
    from zoo.serving.config import write_models_config
    from zoo.serving.warmup import write_warmup_requests

    write_warmup_requests(model, version_dir, name)
    write_models_config(Path(version_dir).parent.parent)


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
