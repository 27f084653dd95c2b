"""Publishing a trained model as a zoo artifact: ``saved_models/<name>/{model.keras, card.json, <version>/}``."""
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
    shipped.save(folder / "model.keras")
    version_dir = folder / str(version)
    if version_dir.exists():
        import shutil
        shutil.rmtree(version_dir)
    export_saved_model(shipped, version_dir)
    check = check_export(shipped, version_dir)
    card = {**card, "model_class": type(model).__name__, "model_config": shipped.get_config(),
            "parameters": int(shipped.count_params()), "signatures": signature_docs(shipped),
            "export_check_max_abs_diff": check, "versions": versions(), "commit": git_commit(),
            "published": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)}
    (folder / "card.json").write_text(json.dumps(card, indent=2, default=_jsonable) + "\n")
    return folder


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
