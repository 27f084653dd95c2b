"""``tf.distribute`` for the zoo's one training path: which strategy, and how models scale their loss.

Strategies (``zoo train RECIPE --strategy NAME``):

    default       the current device (one CPU or GPU)
    mirrored      MirroredStrategy: every local GPU, or ``--cpu-replicas N`` logical CPU devices
    multi_worker  MultiWorkerMirroredStrategy over the hosts named in ``$TF_CONFIG``
    tpu           TPUStrategy on the TPU named by ``$TPU_NAME`` (or the local one)

Variables and the optimizer are created under ``strategy.scope()``; Keras splits each global batch
across replicas and all-reduces the gradients.
"""
import json
import os

import tensorflow as tf

from zoo.objectives.replicas import per_replica_loss  # noqa: F401  (re-exported: the models' side of it)

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def configure_cpu_replicas(count):
    """Splits the physical CPU into ``count`` logical devices (must run before TensorFlow starts)."""
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as err:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise RuntimeError(f"cannot split the CPU into {count} devices once TensorFlow has started ({err}); "
                               "configure replicas first thing in the process") from None


def make_strategy(name="default", cpu_replicas=None):
    """The ``tf.distribute.Strategy`` called ``name``; a clear error when its hardware is missing."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {STRATEGIES}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if cpu_replicas:
            configure_cpu_replicas(cpu_replicas)
            # Logical CPU devices share one memory: reducing on one device is all it takes, and it avoids
            # collective ops, whose instance keys clash when a process creates several strategies.
            return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")],
                                                  cross_device_ops=tf.distribute.ReductionToOneDevice())
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy multi_worker needs $TF_CONFIG naming the cluster and this worker's task "
                             '(e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                             '"task": {"type": "worker", "index": 0}})')
        try:
            json.loads(os.environ["TF_CONFIG"])
        except json.JSONDecodeError as err:
            raise ValueError(f"$TF_CONFIG is not valid JSON: {err}") from None
        if cpu_replicas:
            configure_cpu_replicas(cpu_replicas)
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.NotFoundError, RuntimeError) as err:
        raise ValueError(f"--strategy tpu: no TPU found ({err})") from None
    return tf.distribute.TPUStrategy(resolver)


def is_chief():
    """True on the worker that writes artifacts (worker 0, or the only process)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    return task.get("type", "worker") in ("worker", "chief") and task.get("index", 0) == 0


def shard_by_data(dataset):
    """Multi-worker input from in-memory arrays has no files to shard: each worker takes every n-th batch."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def rank_one_metrics(model):
    """Keras 3 reduces each replica's logs with ``strategy.reduce(MEAN, value, axis=0)`` under
    MultiWorkerMirroredStrategy, which fails on scalar metrics ("Invalid reduction dimension 0",
    tensorflow/tensorflow#72388). Wrapping ``train_step`` / ``test_step`` to return shape (1,) values
    sidesteps it for every model: the reduction over replicas and axis 0 gives the scalar back."""
    for name in ("train_step", "test_step"):
        step = getattr(model, name)

        def wrapped(data, step=step):
            return {key: tf.reshape(value, [1]) for key, value in step(data).items()}

        setattr(model, name, wrapped)
    return model
