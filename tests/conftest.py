"""Shared fixtures: tiny binary-image data written to a temporary ZOO_DATA_DIR, and tiny models."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from zoo.training.distribute import configure_cpu_replicas  # noqa: E402
from tests.babi_fixture import write_tiny_babi  # noqa: E402

# Two logical CPU devices for the whole session (possible only before TensorFlow starts), so
# MirroredStrategy tests can run on this 2-core machine; everything else uses /cpu:0 as usual.
configure_cpu_replicas(2)


@pytest.fixture(autouse=True)
def zoo_home(tmp_path_factory, monkeypatch):
    """Every test gets its own empty $ZOO_HOME: runs and user models never land in ~/.zoo or the checkout."""
    home = tmp_path_factory.mktemp("zoo_home")
    monkeypatch.setenv("ZOO_HOME", str(home))
    return home


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
    write_tiny_binarized_mnist(tmp_path)
    write_tiny_20news(tmp_path / "20news-nvdm")
    write_tiny_text_corpora(tmp_path)
    write_tiny_babi(tmp_path)  # bAbI tasks 1 and 8 (tests/babi_fixture.py)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    return tmp_path


def write_tiny_20news(folder, vocab_size=2000, train=80, test=40, seed=2):
    """20news-nvdm/{train,test}.feat and vocab.new in the NVDM format: 2,000 words, a few documents drawn
    from 3 topics (each on its own block of words), labels 1..3."""
    rng = np.random.RandomState(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.new").write_text("".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)} "
                                              f"{vocab_size - i}\n" for i in range(vocab_size)))
    for name, n in (("train.feat", train), ("test.feat", test)):
        lines = []
        for d in range(n):
            topic = d % 3
            words = rng.choice(np.arange(topic * 10, topic * 10 + 10), size=rng.randint(1, 6), replace=False)
            pairs = [f"{w + 1}:{rng.randint(1, 4)}" for w in words] + [f"{rng.randint(31, vocab_size + 1)}:1"]
            lines.append(f"{topic + 1} " + " ".join(dict.fromkeys(pairs)) + "\n")
        (folder / name).write_text("".join(lines))
    return folder


PLAY = ("FIRST CITIZEN:\nBefore we proceed any further, hear me speak.\n\nALL:\nSpeak, speak.\n\n"
        "ROMEO:\nBut, soft! what light through yonder window breaks?\n\n")
SENTENCES = [" the company said it will sell its shares ", " the market fell N % in new york ",
             " a <unk> said the company is n't for sale ", " shares of the company rose in trading "]


def write_tiny_text_corpora(root, repeats=30):
    """tinyshakespeare/input.txt (a short scene repeated) and ptb/ptb.{train,valid,test}.txt (a few sentences)."""
    (root / "tinyshakespeare").mkdir(parents=True, exist_ok=True)
    (root / "tinyshakespeare" / "input.txt").write_text(PLAY * repeats)
    (root / "ptb").mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 20 * repeats), ("valid", 20), ("test", 20)):
        (root / "ptb" / f"ptb.{split}.txt").write_text("".join(SENTENCES[i % 4] + "\n" for i in range(n)))


@pytest.fixture
def tiny_vae():
    from zoo.models import VAE
    model = VAE(latent_dim=2, hidden_units=(8,), seed=0)
    model(np.zeros((1, 784), np.float32))
    return model


def write_tiny_binarized_mnist(root, seed=1, sizes=(("train", 120), ("valid", 40), ("test", 40))):
    """Writes <root>/binarized_mnist/binarized_mnist.npz with random binary images; returns root."""
    rng = np.random.RandomState(seed)
    folder = root / "binarized_mnist"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "binarized_mnist.npz",
                        **{s: (rng.uniform(size=(n, 784)) < 0.15).astype(np.uint8) for s, n in sizes})
    return root
