"""Every recipe runs at toy size through the real training path, publishes, and reloads through the hub."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.data import DATASETS
from zoo.training import load_recipe, recipe_names, train
from zoo.training.run import make_pipelines

SIGNATURES = {"VAE": {"serving_default", "encode", "score", "decode", "sample"},
              "RNNLanguageModel": {"serving_default", "generate", "generate_greedy", "generate_beam", "score"},
              "NGramLanguageModel": {"serving_default", "viterbi"}}
SIGNATURES.update({c: {"serving_default", "answer"} for c in ("MemN2N", "KeyValueMemoryNetwork", "BiLSTMReader")})  # issue 14
SIGNATURES["RBM"] = {"serving_default", "hidden_probabilities", "free_energy", "sample", "log_prob"}  # issue 12
SIGNATURES["ReplicatedSoftmax"] = SIGNATURES["RBM"] | {"encode", "score", "topics", "text"}  # issue 12
SIGNATURES["SkipGram"] = {"serving_default", "neighbours", "similarity"}  # issue 11
SIGNATURES["SentenceVAE"] = {"serving_default", "encode", "decode", "decode_beam", "sample", "interpolate",
                             "score"}  # issue 10
SIGNATURES["SentenceLanguageModel"] = SIGNATURES["RNNLanguageModel"]  # issue 10: the VAE's baseline


@pytest.mark.parametrize("name", recipe_names())
def test_recipe_runs_at_toy_size_and_publishes(name, tiny_data_dir, tmp_path, monkeypatch):
    recipe = load_recipe(name)
    assert recipe.expected, f"{name} must state the metric it is expected to reach"
    toy = recipe.shrink()
    assert recipe.epochs > 1 and toy.epochs == 1, "shrink() must not modify the recipe itself"
    result = train(toy, run_dir=tmp_path / "run", models_dir=tmp_path / "models", verbose=0)
    assert result["training"]["epochs_run"] == 1
    tested = [key for key in recipe.expected if key.startswith("test_")]
    assert tested, f"{name}: expected must name at least one test_ metric"
    for key in tested:
        assert np.isfinite(result["metrics"][key]), key

    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path / "models"))
    assert zoo.list_models() == [recipe.name]
    card = json.loads((tmp_path / "models" / recipe.name / "card.json").read_text())
    assert card["recipe"] == f"recipes/{name}.py" and card["data"]["sha256"]
    assert set(card["signatures"]) >= SIGNATURES.get(card["model_class"], {"serving_default", "encode", "score"})
    model = zoo.load(recipe.name)
    assert model.optimizer is not None
    if recipe.weights_dtype == "float16":  # stored at half precision (zoo.export.precision), loaded bit for bit
        assert card["storage"]["weights_dtype"] == "float16"
        reader = tf.train.load_checkpoint(str(tmp_path / "models" / recipe.name / "1" / "variables" / "variables"))
        stored = {k: v for k, v in reader.get_variable_to_dtype_map().items() if k.startswith("keras_weights/")}
        assert len(stored) == len(model.weights) and tf.float32 not in stored.values()
        for weight in model.get_weights():
            np.testing.assert_array_equal(weight, weight.astype(np.float16).astype(weight.dtype))
    splits = DATASETS[toy.data["loader"]].load(**toy.data.get("args", {}))
    batches, _, _ = make_pipelines(toy, splits, toy.batch_size, replicas=1, seed=0, first_epoch=0, multi_worker=False)
    model.fit(batches.take(2), epochs=1, verbose=0)  # a loaded model continues training


def test_unknown_recipe_lists_the_known_ones():
    with pytest.raises(FileNotFoundError, match="vae_binarized_mnist"):
        load_recipe("no_such_recipe")


class Crash(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("simulated crash after epoch 2")


def test_interrupted_run_resumes_from_the_backup(tiny_data_dir, tmp_path):
    """A run that dies after epoch 2 of 4 is continued by the same call: 2 more epochs, not 4."""
    recipe = load_recipe("vae_binarized_mnist").shrink()
    recipe.epochs = 4
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0, callbacks=[Crash()])
    assert (tmp_path / "run" / "backup").exists()
    resumed = train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0)
    assert resumed["training"]["epochs_run"] == 2
    with open(tmp_path / "run" / "history.csv") as f:
        assert [line.split(",")[0] for line in f.read().split()[1:]] == ["0", "1", "2", "3"]


def test_a_second_run_in_the_same_folder_starts_its_history_afresh(tiny_data_dir, tmp_path):
    """A finished run's backup is deleted, so training again in its folder is a new run: history.csv (which
    ships with the artifact) holds the new run's epochs only, not both runs' rows."""
    recipe = load_recipe("vae_binarized_mnist").shrink()
    recipe.epochs = 2
    for _ in range(2):
        train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0)
        with open(tmp_path / "run" / "history.csv") as f:
            assert [line.split(",")[0] for line in f.read().split()[1:]] == ["0", "1"]


def test_a_resumed_run_reports_the_best_epoch_of_the_whole_run(tmp_path):
    """The best checkpoint keeps the best epoch of every attempt (its threshold comes from history.csv), so
    fit.json's best_epoch must too: here epoch 2 of the first attempt, not the better of the resumed 3 and 4."""
    from zoo.training.run import _best_epoch, _best_logged_epoch
    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n0,6,5\n1,5,3\n2,4,4\n3,3,4.5\n")
    recipe = load_recipe("vae_binarized_mnist")
    recipe.monitor, recipe.monitor_mode = "val_loss", "min"
    this_process = {"loss": [4.0, 3.0], "val_loss": [4.0, 4.5]}
    assert _best_logged_epoch(tmp_path, recipe) == 2
    assert _best_epoch(this_process, recipe) == 1  # this process's own first epoch


class TouchStop(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            self.path.touch()


def test_stop_file_ends_training_at_the_epoch_end(tiny_data_dir, tmp_path):
    recipe = load_recipe("vae_binarized_mnist").shrink()
    recipe.epochs = 5
    result = train(recipe, run_dir=tmp_path / "run", publish_artifact=False, verbose=0,
                   callbacks=[TouchStop(tmp_path / "run" / "STOP")])
    assert result["training"]["epochs_run"] == 2 and not (tmp_path / "run" / "STOP").exists()


def test_linear_learning_rate_decay_runs_from_the_rate_to_a_ten_thousandth_over_the_run():
    from zoo.training.recipe import Recipe
    from zoo.training.run import make_optimizer
    recipe = Recipe(name="r", model={}, data={}, learning_rate=0.5, learning_rate_decay="linear",
                    optimizer={"class_name": "SGD", "config": {}})
    optimizer = make_optimizer(recipe, total_steps=200)
    rates = []
    for step in (0, 100, 200, 400):  # the rate the optimizer applies at its step count
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    np.testing.assert_allclose(rates, [0.5, 0.5 * (0.5 + 0.5e-4), 0.5e-4, 0.5e-4], rtol=1e-5)
    with pytest.raises(ValueError, match="learning_rate_decay must be one of"):
        Recipe(name="r", model={}, data={}, learning_rate_decay="cosine")
