"""Training past one device and surviving faults: strategies, kill-and-resume, NaN, corrupt checkpoints."""
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import write_tiny_binarized_mnist
from zoo.data import DATASETS, DatasetSpec
from zoo.models import VAE
from zoo.training import load_recipe, train
from zoo.training.callbacks import CorruptCheckpointError
from zoo.training.distribute import make_strategy, per_replica_loss

HERE = Path(__file__).parent
PYTHON = sys.executable


def loss_trajectory(strategy, images, model_fn, learning_rate, steps=12):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = model_fn()
        model(images[:2])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate))
    data = tf.data.Dataset.from_tensor_slices(images).batch(32).repeat()
    return np.array(model.fit(data, steps_per_epoch=1, epochs=steps, verbose=0).history["loss"])


@pytest.mark.parametrize("model_fn, learning_rate", [
    (lambda: VAE(latent_dim=3, hidden_units=(16,), seed=0), 0.01),
    (lambda: VAE(latent_dim=3, hidden_units=(4,), architecture="conv", conv_filters=(4,), num_importance_samples=4,
                 seed=0), 0.001),
], ids=["mlp-vae", "conv-iwae"])
def test_mirrored_over_two_cpus_follows_the_single_device_trajectory(model_fn, learning_rate, binary_images):
    """Same global batch, SGD (which, unlike Adam, would show a wrongly scaled gradient): the losses agree
    to within the Monte Carlo noise of the replicas' different posterior samples (2%)."""
    single = loss_trajectory(tf.distribute.get_strategy(), binary_images, model_fn, learning_rate)
    mirrored = make_strategy("mirrored", cpu_replicas=2)
    assert mirrored.num_replicas_in_sync == 2
    two = loss_trajectory(mirrored, binary_images, model_fn, learning_rate)
    assert single[-1] < single[0] - 5, "the trajectory must move for the comparison to mean anything"
    np.testing.assert_allclose(two, single, rtol=0.02)


def test_per_replica_loss_divides_by_replicas():
    strategy = make_strategy("mirrored", cpu_replicas=2)
    per_replica = strategy.run(lambda: per_replica_loss(tf.constant(10.0)))
    assert [float(v) for v in strategy.experimental_local_results(per_replica)] == [5.0, 5.0]
    assert float(per_replica_loss(tf.constant(10.0))) == 10.0


def test_strategy_errors():
    with pytest.raises(ValueError, match="unknown strategy"):
        make_strategy("horovod")
    with pytest.raises(ValueError, match="TF_CONFIG"):
        os.environ.pop("TF_CONFIG", None)
        make_strategy("multi_worker")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_multi_worker_trains_the_vae_recipe_to_the_end(tmp_path):
    data = write_tiny_binarized_mnist(tmp_path / "data")
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        env = {**os.environ, "ZOO_DATA_DIR": str(data), "TF_CPP_MIN_LOG_LEVEL": "2",
               "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(
            [PYTHON, "-m", "zoo.cli", "train", "vae_binarized_mnist", "--toy", "--strategy", "multi_worker",
             "--run-dir", str(tmp_path / "run"), "--models-dir", str(tmp_path / "models")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    for p, out in zip(processes, outputs):
        assert p.returncode == 0, out[-3000:]
    training = json.loads((tmp_path / "run" / "result.json").read_text())["training"]
    assert training["replicas"] == 2, training
    assert training["strategy"] in ("MultiWorkerMirroredStrategy", "CollectiveAllReduceStrategy"), training
    # the recipe asks for XLA; the run lowered it (XLA with collectives aborts the process) and its record says so
    assert training["jit_compile"] is False and training["steps_per_execution"] == 1, training
    assert (tmp_path / "models" / "vae-binarized-mnist" / "card.json").exists()
    assert (tmp_path / "run" / "worker-1" / "history.csv").exists()


def run_training(run_dir, weights, kill_at_step=None):
    command = [PYTHON, str(HERE / "train_process.py"), str(run_dir), str(weights)]
    if kill_at_step:
        command += ["--kill-at-step", str(kill_at_step)]
    return subprocess.run(command, env=os.environ.copy(), capture_output=True, text=True, timeout=300)


def test_kill_and_resume_equals_the_uninterrupted_run(tiny_data_dir, tmp_path):
    """5 epochs of 5 steps; SIGKILL at step 12 (mid-epoch 3); the same command again resumes at epoch 3
    and ends with bitwise the weights of an uninterrupted run (and two uninterrupted runs agree)."""
    killed = run_training(tmp_path / "a", tmp_path / "a.npz", kill_at_step=12)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert json.loads((tmp_path / "a" / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    resumed = run_training(tmp_path / "a", tmp_path / "a.npz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming vae-binarized-mnist at epoch 3" in resumed.stdout
    for run in ("b", "c"):
        done = run_training(tmp_path / run, tmp_path / f"{run}.npz")
        assert done.returncode == 0, done.stderr[-2000:]
    a, b, c = (np.load(tmp_path / f"{r}.npz") for r in "abc")
    assert len(a.files) == len(b.files) > 4
    for key in b.files:
        np.testing.assert_array_equal(b[key], c[key], err_msg="two runs with one seed differ")
        np.testing.assert_array_equal(a[key], b[key], err_msg="the resumed run differs from the uninterrupted one")


def test_nan_in_the_data_stops_with_step_and_checkpoint(tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    train_x = (rng.uniform(size=(60, 784)) < 0.2).astype(np.float32)
    train_x[45, 3] = np.nan
    splits = {"train": train_x, "valid": train_x[:20], "test": train_x[:20]}
    monkeypatch.setitem(DATASETS, "poisoned", DatasetSpec(lambda: splits, lambda data_dir=None: []))
    recipe = load_recipe("vae_binarized_mnist").shrink()
    recipe.data, recipe.batch_size, recipe.epochs, recipe.steps_per_execution = {"loader": "poisoned"}, 15, 2, 1
    with pytest.raises(FloatingPointError, match=r"loss became nan at optimizer step \d+.*best.weights.h5"):
        train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0)


class CrashAfterEpochTwo(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("crash")


def crashed_run(tmp_path):
    recipe = load_recipe("vae_binarized_mnist").shrink()
    recipe.epochs = 4
    with pytest.raises(RuntimeError, match="crash"):
        train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0, callbacks=[CrashAfterEpochTwo()])
    return recipe, tmp_path / "run" / "backup"


def test_truncated_checkpoint_is_reported_by_name(tiny_data_dir, tmp_path):
    recipe, backup = crashed_run(tmp_path)
    for name in ("latest.weights.h5", "latest.weights.h5.bkp"):
        path = backup / name
        path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptCheckpointError, match=r"latest.weights.h5 is corrupt or truncated.*delete"):
        train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0)


def test_corrupt_latest_checkpoint_falls_back_to_the_previous_one(tiny_data_dir, tmp_path, capsys):
    recipe, backup = crashed_run(tmp_path)
    (backup / "training_metadata.json").write_text("{garbage")
    result = train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0)
    out = capsys.readouterr().out
    assert "training_metadata.json is corrupt or truncated; resuming from the previous checkpoint (epoch 1)" in out
    assert result["training"]["first_epoch"] == 2 and result["training"]["epochs_run"] == 3


@pytest.mark.parametrize("name", ["mixture_20news", "lda_20news_50"])
def test_models_updated_outside_gradients_refuse_several_replicas_with_the_reason(name, tiny_data_dir, tmp_path):
    recipe = load_recipe(name).shrink()
    with pytest.raises(ValueError, match="cannot train under MirroredStrategy: its train_step"):
        train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0, strategy="mirrored",
              cpu_replicas=2)
