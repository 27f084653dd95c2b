"""The registry of model classes: the bottom layer every model family imports.

``@register_model`` makes a class Keras-serialisable (package "zoo") and findable by name, so recipes and
cards name a class by string with no if/elif chain. Pretrained artifacts (cards, ``zoo.load``) live one layer
up, in ``zoo.hub``.
"""
import keras

MODEL_CLASSES = {}


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
