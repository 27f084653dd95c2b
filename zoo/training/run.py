"""The one training path every recipe uses: data -> model -> ``model.fit`` -> test metrics -> artifact.

    run = train(load_recipe("vae_binarized_mnist"))

A run folder (``$ZOO_HOME/runs/<name>/`` by default, ``<name>-toy`` for a toy run) keeps what a long run
needs to survive: a ``BackupAndRestore`` checkpoint (the same command resumes after a kill), the best weights
by the recipe's validation metric, ``history.csv``, and ``result.json`` at the end.
"""
import json
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo import hub, registry
from zoo.data import DATASETS, as_dataset, data_root, epoch_batches, steps_per_epoch
from zoo.data.pipeline import length_bucketed_batches, length_sorted_batches
from zoo.data.files import sha256_of
from zoo.data.skipgram import epoch_pairs, expected_pairs, keep_probabilities, skipgram_dataset
from zoo.data.streams import contexts_and_targets, stream_batches, stream_rows, stream_steps
from zoo.objectives import KLAnnealing, schedule_from_config
from zoo.export.precision import round_weights
from zoo.training.artifact import destination, publish
from zoo.training.callbacks import (AggressiveUntilInformationPlateaus, Diagnostics, ResumableBackup, StopFile,
                                   StopOnNaN, TimeBudget)
from zoo.training.distribute import is_chief, make_strategy, rank_one_metrics, shard_by_data


def load_data(recipe):
    """The recipe's splits {"train", "valid", "test", ...} and the sha256 of the files they came from."""
    spec = DATASETS.get(recipe.data["loader"])
    if spec is None:
        raise KeyError(f"recipe {recipe.name}: unknown data loader {recipe.data['loader']!r}; known: {sorted(DATASETS)}")
    args = recipe.data.get("args", {})
    splits = spec.load(**args)
    files = {str(p.relative_to(data_root(args.get("data_dir")))): sha256_of(p) for p in spec.files(args.get("data_dir"))}
    return splits, files


def make_pipelines(recipe, splits, global_batch, replicas, seed, first_epoch, multi_worker):
    """(train dataset, steps per epoch, validation dataset) for the recipe's data layout:

    "rows" (default): (N, D) arrays, reshuffled each epoch (``epoch_batches``);
    "stream": token id streams cut into ``global_batch`` rows and windows of ``data["seq_len"]`` tokens for
        stateful truncated BPTT (``zoo.data.streams``), never shuffled;
    "contexts": token id streams as (last ``data["order"]`` tokens, next token) pairs, reshuffled each epoch
        (n-gram models);
    "questions": tuples of arrays (inputs..., answers, tasks) batched like "rows" (bAbI, ``zoo.data.babi``);
    "sentences": (N, L) padded sequences batched like "rows", but sorted by length within pools of batches and
        each batch cut to its longest row (``zoo.data.pipeline.length_bucketed_batches``);
    "skipgram": (centre, context) pairs drawn anew each epoch with ``data["window"]`` and ``data["subsample"]``
        (``zoo.data.skipgram``); validation: 20,000 pairs of the held-out text.
    """
    layout = recipe.data.get("layout", "rows")
    if layout == "contexts":
        boundary = splits["vocabulary"].boundary_id
        train, valid = (contexts_and_targets(splits[s], recipe.data["order"], boundary) for s in ("train", "valid"))
        return (shard_by_data(epoch_batches(train, global_batch, seed, first_epoch, recipe.epochs)),
                steps_per_epoch(len(train[1]), global_batch),
                shard_by_data(as_dataset(valid, 4096 * replicas, shuffle=False)))
    if layout == "skipgram":  # (centre, context) pairs made each epoch in tf.data (zoo.data.skipgram)
        window, subsample = recipe.data["window"], recipe.data["subsample"]
        train = skipgram_dataset(splits, global_batch, window, subsample, seed, first_epoch, recipe.epochs)
        keep = tf.constant(keep_probabilities(splits["counts"], subsample))
        held_out = epoch_pairs(tf.constant(splits["test"]["train"]), tf.constant(splits["test"]["sentence"]), keep,
                               window, seed, 0)
        valid = tf.data.Dataset.from_tensor_slices(held_out).take(20000).batch(4096)
        return train, max(1, expected_pairs(splits, window, subsample) // global_batch), valid
    if layout == "sentences":  # padded sequences, each batch cut to its longest row (zoo.data.pipeline)
        train = length_bucketed_batches(splits["train"], global_batch, seed, first_epoch, recipe.epochs)
        valid = length_sorted_batches(splits["valid"], max(1000 // replicas, 1) * replicas)
        return shard_by_data(train), steps_per_epoch(len(splits["train"]), global_batch), shard_by_data(valid)
    if layout == "stream":
        if multi_worker:
            raise ValueError(f"recipe {recipe.name}: stream (TBPTT) data keeps each row's windows in order on one "
                             "worker; multi-worker sharding would break them; use --strategy mirrored")
        seq_len = recipe.data["seq_len"]
        train = stream_batches(splits["train"], global_batch, seq_len, first_epoch, recipe.epochs)
        valid = stream_batches(splits["valid"], global_batch, seq_len)
        return train, stream_steps(len(splits["train"]), global_batch, seq_len), valid
    train = shard_by_data(epoch_batches(splits["train"], global_batch, seed, first_epoch, recipe.epochs))
    valid = shard_by_data(as_dataset(splits["valid"], max(1000 // replicas, 1) * replicas, shuffle=False))
    return train, steps_per_epoch(_rows(splits["train"]), global_batch), valid


def example_inputs(recipe, splits):
    """A batch of model inputs (build, export checks, diagnostics): B rows, B windows of a stream, or B contexts."""
    layout = recipe.data.get("layout", "rows")
    if layout == "stream":
        return tf.constant(stream_rows(splits["train"], recipe.batch_size)[:, : recipe.data["seq_len"]])
    if layout == "skipgram":
        return tf.constant(splits["train"][: recipe.batch_size])
    if layout == "contexts":
        order, boundary = recipe.data["order"], splits["vocabulary"].boundary_id
        return tf.constant(contexts_and_targets(splits["train"][: recipe.batch_size], order, boundary)[0])
    if layout == "questions":  # bAbI (stories, questions, answers, tasks): the model's inputs are the first two
        return tuple(tf.constant(a[: recipe.batch_size]) for a in splits["train"][:2])
    return tf.constant(splits["train"][: recipe.batch_size], tf.float32)


def make_optimizer(recipe, total_steps=None):
    """``recipe.optimizer`` ({"class_name", "config"}, e.g. SGD with gradient clipping) at the recipe's
    learning rate; Adam by default. ``learning_rate_decay`` "linear" decays it over ``total_steps`` to 1e-4 of
    its start (word2vec's ``min_alpha``), a function of the optimizer's step count, so a resumed run goes on
    where it stopped."""
    spec = recipe.optimizer or {"class_name": "Adam", "config": {}}
    rate = recipe.learning_rate
    if recipe.learning_rate_decay == "linear":
        rate = keras.optimizers.schedules.PolynomialDecay(rate, decay_steps=max(int(total_steps), 1),
                                                          end_learning_rate=rate * 1e-4, power=1.0)
    return keras.optimizers.get({"class_name": spec["class_name"],
                                 "config": {**spec.get("config", {}), "learning_rate": rate}})


def build_model(recipe, example_batch, splits=None):
    """The recipe's model, called once on ``example_batch``; a ``vocab_size`` of None is the data's. With
    ``init_from``: the artifact's weights (and vocabulary, which must be the data's), then the layers named in
    ``reinitialize`` put back to the values their initializers drew when this model was built (Li et al.
    2019's decoder reset)."""
    config = dict(recipe.model.get("config", {}))
    if "vocab_size" in config and config["vocab_size"] is None:
        if not splits or splits.get("vocabulary") is None:
            raise ValueError(f"recipe {recipe.name}: vocab_size None needs a loader that returns a vocabulary")
        config["vocab_size"] = len(splits["vocabulary"])
    model = registry.build_model(recipe.model["class_name"], **config)
    model(example_batch)
    if recipe.init_from:
        fresh = [(layer, [np.array(v) for v in layer.weights]) for layer in _layers_named(model, recipe)]
        source = hub.load(recipe.init_from, compile=False)
        model.set_weights(source.get_weights())
        _take_vocabulary(recipe, model, source, splits)
        for layer, values in fresh:
            for variable, value in zip(layer.weights, values):
                variable.assign(value)
    return model


def _layers_named(model, recipe):
    """The layers ``recipe.reinitialize`` names; a ValueError naming any the model lacks."""
    layers = {layer.name: layer for layer in model.layers}
    unknown = [name for name in recipe.reinitialize if name not in layers]
    if unknown:
        raise ValueError(f"recipe {recipe.name}: reinitialize names {unknown}, not layers of "
                         f"{type(model).__name__}; its layers: {sorted(layers)}")
    return [layers[name] for name in recipe.reinitialize]


def _take_vocabulary(recipe, model, source, splits):
    """A token model started from an artifact keeps the artifact's vocabulary (its embedding rows follow it);
    a loader whose vocabulary differs is refused."""
    vocabulary = getattr(source, "vocabulary", None)
    if vocabulary is None or not hasattr(model, "set_vocabulary"):
        return
    data = (splits or {}).get("vocabulary")
    if data is not None and list(data.tokens) != list(vocabulary.tokens):
        raise ValueError(f"recipe {recipe.name}: init_from {recipe.init_from!r} was trained with another vocabulary "
                         f"({len(vocabulary)} tokens) than the data's ({len(data)} tokens)")
    model.set_vocabulary(vocabulary)


def aggressive_callback(recipe, model, splits, global_batch, seed):
    """For a model built with ``aggressive_steps`` (He et al. 2019, ``zoo.models.aggressive``), None otherwise:
    gives the model its inner-step batches (the recipe's training pipeline, shuffled with seed + 1, repeated)
    and returns the callback that ends the aggressive phase, measuring I(x; z) on the validation split in
    batches of the training size (length-sorted for sentences, as He et al.'s batches)."""
    if not getattr(model, "aggressive_steps", 0):
        return None
    if recipe.jit_compile:
        raise ValueError(f"recipe {recipe.name}: aggressive updates draw their inner batches from a tf.data "
                         "iterator inside the train step, which XLA cannot compile; set jit_compile False")
    inner, _, _ = make_pipelines(recipe, splits, global_batch, 1, seed + 1, 0, False)
    model.inference_batches = BatchSource(inner.repeat())
    valid = splits["valid"]
    if recipe.data.get("layout", "rows") == "sentences":
        batches = length_sorted_batches(valid, recipe.batch_size)
    else:
        batches = as_dataset(valid, recipe.batch_size, shuffle=False)
    return AggressiveUntilInformationPlateaus(batches, seed=seed)


class BatchSource:
    """``next(source)``: the next batch of a tf.data pipeline, in or out of a traced train step. A plain object,
    so the model holding it does not track the iterator as one of its dependencies (saved with it)."""

    def __init__(self, dataset):
        self._iterator = iter(dataset)

    def __next__(self):
        return next(self._iterator)


def callbacks_for(recipe, run_dir, backup, diagnostics_batch, resumed=False):
    """The zoo's callbacks, in order: backup first (it must save before anything reads the epoch).

    resumed: this process continues an interrupted attempt (the backup holds a finished epoch); only then
    does history.csv grow by the new epochs. A run started afresh in a folder an earlier, finished run left
    (whose backup Keras deleted at its end) starts the file again, so the learning curve that ships with the
    artifact is this run's alone.
    """
    best_path = run_dir / "best.weights.h5"
    resume = backup is not None
    callbacks = [
        StopOnNaN(best_path),
        keras.callbacks.ModelCheckpoint(best_path, monitor=recipe.monitor, mode=recipe.monitor_mode,
                                        save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=_best_so_far(run_dir, recipe) if resumed else None),
        keras.callbacks.CSVLogger(run_dir / "history.csv", append=resumed),
        keras.callbacks.TensorBoard(run_dir / "tensorboard", write_graph=False),
        Diagnostics(run_dir / "tensorboard" / "diagnostics", diagnostics_batch),
    ]
    if resume:
        callbacks.insert(0, backup)
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
    callbacks.append(StopFile(run_dir / "STOP"))
    return callbacks, best_path


def default_run_dir(recipe):
    """``$ZOO_HOME/runs/<name>``; a toy run gets ``<name>-toy``, so it never resumes from (or overwrites the
    checkpoints of) the real run."""
    return hub.runs_dir() / (recipe.name + ("-toy" if recipe.is_toy else ""))


def train(recipe, run_dir=None, seed=0, deterministic=False, resume=True, publish_artifact=True,
          models_dir=None, overwrite=False, verbose=2, callbacks=(), strategy="default", cpu_replicas=None,
          scale_batch=True):
    """Trains ``recipe``; returns the run's result (also written to ``<run_dir>/result.json``).

    seed: seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) and the data order.
    deterministic: TF op determinism; with it, two runs on CPU give bitwise-equal weights, and so
        does a run killed and started again (``resume``).
    resume: continue an interrupted run from ``<run_dir>/backup``.
    callbacks: extra Keras callbacks, run after the zoo's own.
    publish_artifact, models_dir, overwrite: where the artifact goes; see ``zoo.training.artifact.destination``
        (checked before training starts, so a refused destination costs nothing).
    strategy, cpu_replicas: see ``zoo.training.distribute.make_strategy``; a name or a strategy.
    scale_batch: with several replicas, ``recipe.batch_size`` is per replica and the global batch is
        ``batch_size * replicas``; False keeps the global batch at ``recipe.batch_size``.
    """
    if isinstance(strategy, str):
        strategy = make_strategy(strategy, cpu_replicas)
    chief = is_chief()
    folder = destination(recipe.name, models_dir, recipe.is_toy, overwrite) if publish_artifact and chief else None
    if publish_artifact and chief and folder is None:
        print(f"toy run of {recipe.name}: not published (a toy run publishes only into an explicit models_dir)")
    run_dir = Path(run_dir or default_run_dir(recipe))
    if not chief:  # every worker of a multi-worker run checkpoints; only the chief keeps the run folder
        run_dir = run_dir / f"worker-{json.loads(os.environ['TF_CONFIG'])['task']['index']}"
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    splits, files = load_data(recipe)
    replicas = strategy.num_replicas_in_sync
    global_batch = recipe.batch_size * replicas if scale_batch else recipe.batch_size
    if global_batch % replicas:
        raise ValueError(f"global batch {global_batch} does not split over {replicas} replicas")
    backup = ResumableBackup(run_dir / "backup") if resume else None
    first_epoch = backup.resume_epoch() if backup else 0
    if first_epoch:
        print(f"resuming {recipe.name} at epoch {first_epoch + 1} from {run_dir / 'backup'}")
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    train_data, steps, valid_data = make_pipelines(recipe, splits, global_batch, replicas, seed, first_epoch,
                                                   multi_worker)
    example_batch = example_inputs(recipe, splits)
    steps_per_execution = recipe.steps_per_execution
    if multi_worker and steps_per_execution > 1:
        # Keras 3.15's multi-step loop under MultiWorkerMirroredStrategy fails ("You must feed a value for
        # placeholder ... while/cond"); one step per call works.
        print(f"multi-worker: steps_per_execution {steps_per_execution} -> 1")
        steps_per_execution = 1
    jit_compile = recipe.jit_compile
    if multi_worker and jit_compile:
        # XLA-compiled steps with MultiWorkerMirroredStrategy's collective all-reduce abort the process here
        # ("double free or corruption" in TF 2.21 on CPU); the strategy's own graph works.
        print("multi-worker: jit_compile True -> False")
        jit_compile = False
    with strategy.scope():
        model = build_model(recipe, example_batch, splits)
        if replicas > 1 and getattr(model, "distribution_unsupported", None):
            raise ValueError(f"{type(model).__name__} cannot train under {type(strategy).__name__}: "
                             f"{model.distribution_unsupported}")
        if hasattr(model, "prepare_for_data") and not recipe.init_from:  # optional hook: vocabulary, data-based init
            model.prepare_for_data(splits)
        model.compile(optimizer=make_optimizer(recipe, steps * recipe.epochs), jit_compile=jit_compile,
                      steps_per_execution=steps_per_execution)
        if multi_worker:
            rank_one_metrics(model)
    own_callbacks, best_path = callbacks_for(recipe, run_dir, backup, example_batch, resumed=first_epoch > 0)
    aggressive = aggressive_callback(recipe, model, splits, global_batch, seed)
    if aggressive is not None:  # before the backup: a resumed run keeps the epoch's decision
        own_callbacks.insert(0, aggressive)
    own_callbacks += getattr(model, "training_callbacks", list)()  # e.g. state resets of stateful TBPTT

    start = time.time()
    history = model.fit(train_data, validation_data=valid_data, epochs=recipe.epochs,
                        steps_per_epoch=steps, callbacks=own_callbacks + list(callbacks), verbose=verbose,
                        shuffle=False)  # the pipeline shuffles (or keeps TBPTT windows in order)
    wall = time.time() - start
    history = history.history
    best_epoch = _best_logged_epoch(run_dir, recipe) if first_epoch else _best_epoch(history, recipe)
    fit = {"epochs_run": len(history.get("loss", [])), "first_epoch": first_epoch + 1,
           "best_epoch": best_epoch, "wall_seconds": round(wall, 1),
           "batch_size": global_batch, "replicas": replicas, "strategy": type(strategy).__name__,
           "deterministic": deterministic, "learning_rate": recipe.learning_rate,
           # the settings the run used, which multi-worker runs lower from the recipe's (recipe_config keeps those)
           "jit_compile": bool(jit_compile), "steps_per_execution": steps_per_execution,
           "examples_per_second": round(len(history.get("loss", [])) * _rows(splits["train"]) / wall, 1) if wall else None,
           "examples": "tokens" if recipe.data.get("layout") == "stream" else "rows",
           "final_validation": {k: _last(v) for k, v in history.items() if k.startswith("val_")}}
    (run_dir / "fit.json").write_text(json.dumps(fit, indent=2) + "\n")  # survives a failed evaluation
    if best_path.exists():
        model.load_weights(best_path)
    return evaluate_and_publish(recipe, model, splits, files, run_dir, fit, seed, example_batch, folder, overwrite)


def publish_run(recipe, run_dir=None, seed=0, models_dir=None, overwrite=False):
    """Evaluates and publishes a finished run from its folder (best checkpoint, fit.json), without
    training again: for a run whose evaluation or export failed after ``fit``."""
    folder = destination(recipe.name, models_dir, recipe.is_toy, overwrite)
    run_dir = Path(run_dir or default_run_dir(recipe))
    best_path, fit_path = run_dir / "best.weights.h5", run_dir / "fit.json"
    for path in (best_path, fit_path):
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: {run_dir} holds no finished run of {recipe.name}")
    splits, files = load_data(recipe)
    example_batch = example_inputs(recipe, splits)
    model = build_model(recipe, example_batch, splits)
    if hasattr(model, "prepare_for_data") and not recipe.init_from:  # vocabularies; data-based inits are overwritten
        model.prepare_for_data(splits)
    model.load_weights(best_path)
    fit = json.loads(fit_path.read_text())
    return evaluate_and_publish(recipe, model, splits, files, run_dir, fit, seed, example_batch, folder, overwrite)


def evaluate_and_publish(recipe, model, splits, files, run_dir, fit, seed, example_batch, folder, overwrite):
    """Test metrics (``model.measure`` with the recipe's evaluation arguments), result.json, and the artifact
    in ``folder`` (None: not published)."""
    # before measuring: the card's figures are those of the weights that ship
    storage = {"weights_dtype": recipe.weights_dtype,
               "max_relative_rounding": round_weights(model, recipe.weights_dtype)}
    metrics = {}
    if recipe.evaluation:
        print(f"evaluating {recipe.name} on the test split: {recipe.evaluation}")
        t0 = time.time()
        extra = measure_arguments(model.measure, labels=splits.get("test_labels"))
        metrics = {f"test_{k}": v for k, v in model.measure(splits["test"], **recipe.evaluation, **extra).items()}
        metrics["evaluation_seconds"] = round(time.time() - t0, 1)
    result = {
        "name": recipe.name, "recipe": recipe.source, "recipe_config": recipe.to_dict(), "seed": seed,
        "data": {"loader": recipe.data["loader"], "sha256": files},
        "training": fit, "metrics": metrics, "expected": recipe.expected, "storage": storage,
    }
    (run_dir / "result.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    if folder is not None:
        artifact = publish(model, example_batch, result, folder=folder, overwrite=overwrite)
        if (run_dir / "history.csv").exists():  # the learning curve ships with the model
            shutil.copy(run_dir / "history.csv", artifact / "history.csv")
        result["artifact"] = str(artifact)
    result["run_dir"] = str(run_dir)
    return result


def _best_so_far(run_dir, recipe):
    """Best monitored value in an earlier attempt's history.csv, so a resumed run never overwrites
    the best checkpoint with a worse epoch."""
    if not (run_dir / "history.csv").exists() or not (run_dir / "backup").exists():
        return None
    _, values = _logged(run_dir, recipe.monitor)
    return values[_best_index(values, recipe)] if values else None


def progress_bar():
    """A ``progress(done, total)`` callable drawing a Keras progress bar of test examples."""
    bar = {}

    def progress(done, total):
        if "bar" not in bar:
            bar["bar"] = keras.utils.Progbar(total, unit_name="example")
        bar["bar"].update(done)

    return progress


def measure_arguments(measure, **candidates):
    """The keyword arguments of ``model.measure`` call sites (training's evaluation, ``zoo evaluate``): the
    candidates that are not None and that ``measure`` accepts, and a progress bar (on stdout) where it takes one
    (importance sampling and AIS take minutes)."""
    arguments = {k: v for k, v in candidates.items() if v is not None and accepts(measure, k)}
    if accepts(measure, "progress"):
        arguments["progress"] = progress_bar()
    return arguments


def accepts(fn, name):
    """Whether ``fn`` takes a keyword argument ``name`` (optional inputs of ``measure``, e.g. labels)."""
    import inspect
    return name in inspect.signature(fn).parameters


def _rows(x):
    """Examples in a split: rows of an array, or of the first array of a tuple ("questions" layout)."""
    return len(x[0]) if isinstance(x, tuple) else len(x)


def _last(values):
    return float(values[-1]) if values else None


def _logged(run_dir, monitor):
    """(0-based epochs, values) of ``monitor`` in the run's history.csv (which the CSV logger appends to across
    attempts), over the rows that logged it."""
    import csv
    with open(run_dir / "history.csv") as f:
        rows = [row for row in csv.DictReader(f) if row.get(monitor)]
    return [int(row["epoch"]) for row in rows], [float(row[monitor]) for row in rows]


def _best_index(values, recipe):
    return int(np.argmax(values) if recipe.monitor_mode == "max" else np.argmin(values))


def _best_epoch(history, recipe):
    """The 1-based epoch of the best monitored value among this process's epochs (``fit``'s history)."""
    values = history.get(recipe.monitor)
    return _best_index(values, recipe) + 1 if values else None


def _best_logged_epoch(run_dir, recipe):
    """The 1-based best epoch of a resumed run over every attempt's epochs, as its best checkpoint keeps it,
    not over the resumed process's epochs alone."""
    epochs, values = _logged(run_dir, recipe.monitor)
    return epochs[_best_index(values, recipe)] + 1 if values else None
