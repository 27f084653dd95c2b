"""The zoo's two registries: model classes, and pretrained artifacts in ``saved_models/``.

``@register_model`` makes a class Keras-serialisable (package "zoo") and findable by name, so
recipes and cards name a class by string with no if/elif chain. A pretrained artifact is a
folder ``saved_models/<name>/`` holding ``card.json``, ``model.keras`` (unless the card's config builds the
model and the SavedModel's weights fill it) and numbered SavedModel
version folders (TF Serving's layout).
"""
import json
import os
from pathlib import Path

import keras

MODEL_CLASSES = {}

REPO_ROOT = Path(__file__).resolve().parent.parent


def register_model(cls):
    """Class decorator: Keras-serialisable as ``zoo>ClassName`` and listed in ``MODEL_CLASSES``."""
    keras.saving.register_keras_serializable(package="zoo")(cls)
    MODEL_CLASSES[cls.__name__] = cls
    return cls


def model_class(name):
    """The registered class called ``name`` (e.g. "VAE"); a clear error lists the known ones."""
    import zoo.models  # noqa: F401  (importing the families registers them)
    try:
        return MODEL_CLASSES[name]
    except KeyError:
        raise KeyError(f"no model class {name!r} is registered; known: {sorted(MODEL_CLASSES)}") from None


def build_model(class_name, **config):
    return model_class(class_name)(**config)


def models_dir():
    """Where pretrained artifacts live: ``$ZOO_MODELS_DIR`` or the repository's ``saved_models/``."""
    return Path(os.environ.get("ZOO_MODELS_DIR", REPO_ROOT / "saved_models"))


def read_card(name):
    path = models_dir() / name / "card.json"
    if not path.exists():
        known = ", ".join(list_models()) or "none"
        raise KeyError(f"no pretrained model {name!r} in {models_dir()} (no {path.name}); known: {known}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def list_models():
    """Names of the pretrained artifacts found in ``saved_models/*/card.json``, sorted."""
    root = models_dir()
    return sorted(p.parent.name for p in root.glob("*/card.json")) if root.exists() else []


def load(name, compile=True):
    """``zoo.load("vae-binarized-mnist")``: the pretrained Keras model, ready for inference or ``fit``.

    The artifact ships without optimizer state (it stays small); with ``compile=True`` the model
    is compiled with Adam at the learning rate its card records, so ``fit`` continues training.
    """
    import zoo.models  # noqa: F401  (registers the classes before deserialising)
    card = read_card(name)
    path = models_dir() / name / "model.keras"
    if path.exists():
        model = keras.saving.load_model(path, compile=False)
    else:  # weights stored once, in the SavedModel (zoo.training.artifact.built_by_config)
        from zoo.export.archive import weights_from_saved_model
        model = model_class(card["model_class"]).from_config(card["model_config"])
        model.set_weights(weights_from_saved_model(latest_version_dir(name)))
    if compile:
        lr = card.get("training", {}).get("learning_rate", 1e-3)
        model.compile(optimizer=keras.optimizers.Adam(lr))
    return model


def latest_version_dir(name):
    """The highest numbered SavedModel folder of an artifact, as TF Serving picks it."""
    versions = sorted((int(p.name) for p in (models_dir() / name).iterdir() if p.name.isdigit()), reverse=True)
    if not versions:
        raise FileNotFoundError(f"{models_dir() / name} has no numbered SavedModel version folder")
    return models_dir() / name / str(versions[0])
