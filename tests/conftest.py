"""Shared fixtures: tiny binary-image data written to a temporary ZOO_DATA_DIR, and tiny models."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def binary_images():
    """(64, 784) float32 in {0, 1} with digit-like structure: a few random strokes per image."""
    rng = np.random.RandomState(0)
    prototypes = (rng.uniform(size=(4, 784)) < 0.2).astype(np.float32)
    flips = rng.uniform(size=(64, 784)) < 0.03
    return np.abs(prototypes[np.arange(64) % 4] - flips).astype(np.float32)


@pytest.fixture
def tiny_data_dir(tmp_path, monkeypatch):
    """A ZOO_DATA_DIR holding binarized_mnist/binarized_mnist.npz with 120/40/40 random images."""
    rng = np.random.RandomState(1)
    folder = tmp_path / "binarized_mnist"
    folder.mkdir()
    arrays = {s: (rng.uniform(size=(n, 784)) < 0.15).astype(np.uint8) for s, n in
              (("train", 120), ("valid", 40), ("test", 40))}
    np.savez_compressed(folder / "binarized_mnist.npz", **arrays)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def tiny_vae():
    from zoo.models import VAE
    model = VAE(latent_dim=2, hidden_units=(8,), seed=0)
    model(np.zeros((1, 784), np.float32))
    return model
