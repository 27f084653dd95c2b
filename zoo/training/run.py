"""The one training path every recipe uses: data -> model -> ``model.fit`` -> test metrics -> artifact.

    run = train(load_recipe("vae_binarized_mnist"))

A run folder (``runs/<name>/`` by default) keeps what a long run needs to survive: a
``BackupAndRestore`` checkpoint (the same command resumes after a kill), the best weights by
the recipe's validation metric, ``history.csv``, and ``result.json`` at the end.
"""
import json
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo import hub
from zoo.data import DATASETS, as_dataset, data_root
from zoo.data.files import sha256_of
from zoo.objectives import KLAnnealing, schedule_from_config
from zoo.training.artifact import publish
from zoo.training.callbacks import StopOnNaN, TimeBudget


def build_data(recipe, seed):
    spec = DATASETS.get(recipe.data["loader"])
    if spec is None:
        raise KeyError(f"recipe {recipe.name}: unknown data loader {recipe.data['loader']!r}; known: {sorted(DATASETS)}")
    args = recipe.data.get("args", {})
    splits = spec.load(**args)
    files = {str(p.relative_to(data_root(args.get("data_dir")))): sha256_of(p) for p in spec.files(args.get("data_dir"))}
    datasets = {
        "train": as_dataset(splits["train"], recipe.batch_size, shuffle=True, seed=seed),
        "valid": as_dataset(splits["valid"], 1000, shuffle=False),
    }
    return splits, datasets, files


def build_model(recipe, example_batch):
    model = hub.build_model(recipe.model["class_name"], **recipe.model.get("config", {}))
    model(example_batch)
    if recipe.init_from:
        source = hub.load(recipe.init_from, compile=False)
        model.set_weights(source.get_weights())
    return model


def callbacks_for(recipe, run_dir, resume):
    best_path = run_dir / "best.weights.h5"
    callbacks = [
        StopOnNaN(best_path),
        keras.callbacks.ModelCheckpoint(best_path, monitor=recipe.monitor, mode=recipe.monitor_mode,
                                        save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=_best_so_far(run_dir, recipe) if resume else None),
        keras.callbacks.CSVLogger(run_dir / "history.csv", append=resume),
    ]
    if resume:
        callbacks.insert(0, keras.callbacks.BackupAndRestore(run_dir / "backup"))
    if recipe.kl_schedule is not None:
        callbacks.append(KLAnnealing(schedule_from_config(recipe.kl_schedule)))
    if recipe.lr_plateau:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=recipe.monitor, mode=recipe.monitor_mode,
                                                           **recipe.lr_plateau))
    if recipe.early_stopping_patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=recipe.monitor, mode=recipe.monitor_mode,
                                                       patience=recipe.early_stopping_patience))
    if recipe.max_minutes:
        callbacks.append(TimeBudget(recipe.max_minutes))
    return callbacks, best_path


def train(recipe, run_dir=None, seed=0, deterministic=False, resume=True, publish_artifact=True,
          models_dir=None, verbose=2, callbacks=()):
    """Trains ``recipe``; returns the run's result (also written to ``<run_dir>/result.json``).

    resume: continue an interrupted run from ``<run_dir>/backup`` (BackupAndRestore).
    callbacks: extra Keras callbacks, run after the zoo's own.
    """
    run_dir = Path(run_dir or hub.REPO_ROOT / "runs" / recipe.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    splits, datasets, files = build_data(recipe, seed)
    example_batch = tf.constant(splits["train"][: recipe.batch_size], tf.float32)
    model = build_model(recipe, example_batch)
    model.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate), jit_compile=recipe.jit_compile,
                  steps_per_execution=recipe.steps_per_execution)
    own_callbacks, best_path = callbacks_for(recipe, run_dir, resume)

    start = time.time()
    history = model.fit(datasets["train"], validation_data=datasets["valid"], epochs=recipe.epochs,
                        callbacks=own_callbacks + list(callbacks), verbose=verbose, shuffle=False)  # the pipeline shuffles
    wall = time.time() - start
    if best_path.exists():
        model.load_weights(best_path)
    epochs_run = len(history.history.get("loss", []))
    metrics = {}
    if recipe.evaluation:
        print(f"evaluating {recipe.name} on the test split: {recipe.evaluation}")
        t0 = time.time()
        metrics = {f"test_{k}": v for k, v in model.measure(splits["test"], **recipe.evaluation).items()}
        metrics["evaluation_seconds"] = round(time.time() - t0, 1)
    best_epoch = _best_epoch(history.history, recipe)
    result = {
        "name": recipe.name, "recipe": recipe.source, "recipe_config": recipe.to_dict(), "seed": seed,
        "data": {"loader": recipe.data["loader"], "sha256": files},
        "training": {"epochs_run": epochs_run, "best_epoch": best_epoch, "wall_seconds": round(wall, 1),
                     "batch_size": recipe.batch_size, "learning_rate": recipe.learning_rate,
                     "examples_per_second": round(epochs_run * len(splits["train"]) / wall, 1) if wall else None,
                     "final_validation": {k: _last(v) for k, v in history.history.items() if k.startswith("val_")}},
        "metrics": metrics, "expected": recipe.expected,
    }
    (run_dir / "result.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    if publish_artifact:
        destination = Path(models_dir) / recipe.name if models_dir else None
        artifact = publish(model, example_batch, result, destination=destination)
        if (run_dir / "history.csv").exists():  # the learning curve ships with the model
            shutil.copy(run_dir / "history.csv", artifact / "history.csv")
        result["artifact"] = str(artifact)
    result["run_dir"] = str(run_dir)
    return result


def _best_so_far(run_dir, recipe):
    """Best monitored value in an earlier attempt's history.csv, so a resumed run never overwrites
    the best checkpoint with a worse epoch."""
    path = run_dir / "history.csv"
    if not path.exists() or not (run_dir / "backup").exists():
        return None
    import csv
    with open(path) as f:
        values = [float(row[recipe.monitor]) for row in csv.DictReader(f) if row.get(recipe.monitor)]
    if not values:
        return None
    return max(values) if recipe.monitor_mode == "max" else min(values)


def _last(values):
    return float(values[-1]) if values else None


def _best_epoch(history, recipe):
    values = history.get(recipe.monitor)
    if not values:
        return None
    pick = np.argmax if recipe.monitor_mode == "max" else np.argmin
    return int(pick(values)) + 1
