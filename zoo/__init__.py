"""A Keras 3 / TensorFlow zoo of deep latent-variable generative models and text generators.

    import zoo
    model = zoo.load("vae-binarized-mnist")   # a keras.Model, ready for fit or inference
    zoo.list_models()
"""
from zoo import hub
from zoo.hub import list_models


def load(name, compile=True, origin=None, verify=True):
    """The pretrained model ``name``: yours from ``$ZOO_HOME/models`` if you trained one, else the shipped one
    (``origin="shipped"`` or ``"user"`` picks; see ``zoo.hub.load``)."""
    return hub.load(name, compile=compile, origin=origin, verify=verify)


def __getattr__(name):
    # register_model and the model classes (zoo.VAE, zoo.NVDM, ...) are imported on first use, so ``import zoo``
    # stays light (no TensorFlow: the command line quiets TensorFlow's native logs before it starts).
    if name == "register_model":
        from zoo.registry import register_model
        return register_model
    import zoo.models
    if hasattr(zoo.models, name):
        return getattr(zoo.models, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


__all__ = ["load", "list_models", "register_model", "hub"]
__version__ = "0.1.0"
