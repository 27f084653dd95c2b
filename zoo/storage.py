"""How an artifact may store its weights (the card's ``storage.weights_dtype``), checked without TensorFlow so
that recipes can check it on import; ``zoo.export.precision`` does the storing."""

WEIGHTS_DTYPES = ("float32", "float16")


def check_weights_dtype(weights_dtype):
    """``weights_dtype`` if it is one the export can store, else ValueError naming the choices."""
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(f"weights_dtype must be one of {WEIGHTS_DTYPES}, got {weights_dtype!r}")
    return weights_dtype
