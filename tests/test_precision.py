"""Half-precision weight storage (``zoo.export.precision``): the weights are rounded before evaluation, stored
as float16 variables read through a cast, and come back bit for bit."""
import numpy as np
import pytest
import tensorflow as tf

from tests.test_sentence_vae import tiny
from zoo.export import check_export, export_saved_model, weights_from_saved_model
from zoo.export.precision import round_weights
from zoo.storage import check_weights_dtype


def stored_dtypes(version_dir):
    reader = tf.train.load_checkpoint(str(version_dir / "variables" / "variables"))
    return {name: dtype for name, dtype in reader.get_variable_to_dtype_map().items()
            if name.startswith("keras_weights/")}


def test_rounding_moves_each_weight_by_at_most_half_an_ulp_of_float16():
    model = tiny()
    before = [w.copy() for w in model.get_weights()]
    worst = round_weights(model, "float16")
    after = model.get_weights()
    for old, new in zip(before, after):
        np.testing.assert_array_equal(new, old.astype(np.float16).astype(np.float32))
    # relative to the weight, or to float16's smallest normal number below it (subnormals keep fewer bits)
    relative = max(float(np.max(np.abs(n - o) / np.maximum(np.abs(o), 2.0 ** -14), initial=0))
                   for o, n in zip(before, after))
    assert 0 < worst <= 2.0 ** -11 and worst == pytest.approx(relative, rel=1e-6)
    assert round_weights(model, "float32") == 0.0


def test_half_precision_export_stores_float16_once_and_reloads_the_same_weights(tmp_path):
    model = tiny()
    round_weights(model, "float16")
    export_saved_model(model, tmp_path / "half" / "1", weights_dtype="float16")
    export_saved_model(model, tmp_path / "full" / "1")
    half, full = stored_dtypes(tmp_path / "half" / "1"), stored_dtypes(tmp_path / "full" / "1")
    assert len(half) == len(full) == len(model.weights)  # every weight stored once, no float32 copy beside it
    floats = [name for name, dtype in full.items() if dtype == tf.float32]
    assert floats and all(half[name] == tf.float16 for name in floats)
    size = {k: (tmp_path / k / "1" / "variables" / "variables.data-00000-of-00001").stat().st_size
            for k in ("half", "full")}
    float_values = sum(w.size for w in model.get_weights() if w.dtype == np.float32)
    assert size["full"] - size["half"] == pytest.approx(2 * float_values, rel=0.02)  # 2 bytes saved a value
    for got, expected in zip(weights_from_saved_model(tmp_path / "half" / "1"), model.get_weights()):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    report = check_export(model, tmp_path / "half" / "1", rtol=0, atol=1e-5)
    assert max(report.values()) <= 1e-5


def test_unrounded_weights_and_unknown_dtypes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not rounded to float16"):
        export_saved_model(tiny(), tmp_path / "1", weights_dtype="float16")
    with pytest.raises(ValueError, match="weights_dtype must be one of"):
        check_weights_dtype("bfloat16")
