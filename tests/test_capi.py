"""Exported SavedModels run through the TensorFlow C API in a process with no Python, as stock TF
Serving runs them (SavedModelBundle load with tag "serve", then Session::Run on the SignatureDef's
tensor names). See zoo/export/capi.py and zoo/export/capi/run_signature.c."""
import subprocess
from pathlib import Path

import numpy as np
import pytest

from zoo import hub
from zoo.export import capi, export_saved_model


@pytest.fixture(scope="module")
def vae_export(tmp_path_factory):
    from zoo.models import VAE

    model = VAE(latent_dim=2, hidden_units=(8,))
    model((np.random.RandomState(0).uniform(size=(4, 784)) < 0.5).astype(np.float32))
    version_dir = tmp_path_factory.mktemp("vae") / "1"
    export_saved_model(model, version_dir)
    return model, version_dir


def test_tensor_file_roundtrip(tmp_path):
    cases = [np.float32(1.5), np.int32(-3), np.int64(2**40), np.arange(6, dtype=np.float32).reshape(2, 3),
             np.zeros((0, 4), np.int32), np.array([[True, False]]), np.arange(24, dtype=np.float64).reshape(2, 3, 4)]
    for i, value in enumerate(cases):
        path = tmp_path / f"{i}.ztf"
        capi.write_tensor(path, value)
        back = capi.read_tensor(path)
        assert back.dtype == np.asarray(value).dtype and back.shape == np.shape(value)
        np.testing.assert_array_equal(back, value)
    raw = (tmp_path / "1.ztf").read_bytes()  # the int32 scalar: magic, dtype 3, rank 0, 4 data bytes
    assert raw == b"ZTF1" + (3).to_bytes(4, "little") + (0).to_bytes(4, "little") + (-3).to_bytes(4, "little", signed=True)


def test_signature_tensor_names_come_from_the_signature_def(vae_export):
    _, version_dir = vae_export
    tensors = capi.signature_tensors(version_dir, "score")
    assert set(tensors["inputs"]) == {"x", "num_samples", "seed"}
    assert set(tensors["outputs"]) == {"elbo", "log_likelihood"}
    assert tensors["inputs"]["x"] == ("score_x:0", np.dtype(np.float32))
    assert tensors["inputs"]["seed"][1] == np.int32
    with pytest.raises(KeyError, match="no signature 'nope'"):
        capi.signature_tensors(version_dir, "nope")


def test_all_signatures_match_keras_through_the_c_api(vae_export):
    model, version_dir = vae_export
    report = capi.check_with_c_api(model, version_dir)
    assert set(report) == set(model.export_endpoints()) == {"serving_default", "encode", "decode", "reconstruct",
                                                             "sample", "score"}
    assert all(diff <= 1e-4 for diff in report.values()), report


def test_runner_is_a_native_binary_without_python(vae_export, monkeypatch):
    _, version_dir = vae_export
    binary = capi.build_runner()
    assert binary.read_bytes()[:4] == b"\x7fELF"
    libs = capi.linked_libraries(binary)
    assert any("libtensorflow_cc" in lib for lib in libs), libs
    assert not any("python" in lib for lib in libs), libs
    monkeypatch.setenv("PYTHONPATH", "/nonexistent")
    assert not any(key.startswith("PYTHON") for key in capi._child_environment())
    # At run time too: the child's /proc/self/maps holds the TF C API library and no libpython.
    report = {}
    got = capi.run_signatures(version_dir, [("sample", {"num_samples": 2, "seed": 5})], report=report)[0]
    assert got["probs"].shape == (2, 784) and got["z"].shape == (2, 2)
    assert any(Path(p).name == "libtensorflow_cc.so.2" for p in report["mapped_files"])
    assert not any("python" in Path(p).name for p in report["mapped_files"])


@pytest.mark.parametrize("x, tf_message", [
    (np.full((2, 784), 0.5, np.float32), "must hold only 0 and 1"),  # the graph's tf.debugging.Assert
    (np.zeros((2, 100), np.float32), "Matrix size-incompatible"),     # wrong feature size
])
def test_bad_input_fails_with_tf_message(vae_export, x, tf_message):
    _, version_dir = vae_export
    with pytest.raises(capi.CApiError, match="INVALID_ARGUMENT") as err:
        capi.run_signature(version_dir, "encode", {"x": x})
    assert tf_message in str(err.value)
    assert "signature 'encode'" in str(err.value) and err.value.returncode == 6


def test_python_side_input_errors(vae_export):
    _, version_dir = vae_export
    with pytest.raises(capi.CApiError, match="do not match"):
        capi.run_signature(version_dir, "encode", {"z": np.zeros((1, 2), np.float32)})
    with pytest.raises(capi.CApiError, match="dtype float64, the signature wants int32"):
        capi.run_signature(version_dir, "sample", {"num_samples": 2.5, "seed": 1})


def test_c_program_reports_load_and_graph_errors(vae_export, tmp_path):
    _, version_dir = vae_export
    binary = str(capi.build_runner())
    env = capi._child_environment()
    out = f"no_such_op:0={tmp_path / 'out.ztf'}"
    missing = subprocess.run([binary, str(tmp_path / "missing"), "--run", "-o", out], capture_output=True, text=True,
                             env=env)
    assert missing.returncode == 4
    assert "run_signature: TF_LoadSessionFromSavedModel" in missing.stderr
    no_op = subprocess.run([binary, str(version_dir), "--run", "-o", out], capture_output=True, text=True, env=env)
    assert no_op.returncode == 5
    assert "the graph has no operation named 'no_such_op'" in no_op.stderr
    usage = subprocess.run([binary], capture_output=True, text=True, env=env)
    assert usage.returncode == 2 and "usage:" in usage.stderr


def _shipped_artifacts():
    names = []
    for name in hub.list_models():
        folder = hub.models_dir() / name
        if any(p.is_dir() and p.name.isdigit() for p in folder.iterdir()):
            names.append(name)
    return names


@pytest.mark.parametrize("name", _shipped_artifacts() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no artifact in saved_models/ with a numbered version folder yet"))])
def test_shipped_artifacts_run_through_the_c_api(name):
    import zoo

    model = zoo.load(name, compile=False)
    report = capi.check_with_c_api(model, hub.latest_version_dir(name))
    assert set(report) == set(model.export_endpoints())
