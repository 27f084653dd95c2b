"""Helpers shared by the benches: machine facts, the float32 matmul peak, CPU clocks and load,
epoch timing in ``model.fit``, and output (JSON + a markdown table).

Nothing here imports TensorFlow at module level, so a bench can set its environment
(``TF_ENABLE_ONEDNN_OPTS``, ``XLA_FLAGS``, thread counts) before TensorFlow starts.
"""
import datetime
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# === Clocks and load ===
def process_cpu_seconds():
    """User + system CPU seconds of this process (all threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def system_busy_seconds():
    """CPU seconds the whole machine has spent busy (all processes, all cores), from /proc/stat;
    None where there is no /proc."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


class Stopwatch:
    """Wall time, this process's CPU time, and the CPU time of every *other* process over an interval.

    ``other_cores`` (other processes' CPU seconds / wall seconds) says how loaded the machine was:
    near 0 on an idle machine; 1.0 means a whole core was taken by someone else.
    """

    def __init__(self):
        self.start()

    def start(self):
        self._wall, self._cpu, self._busy = time.perf_counter(), process_cpu_seconds(), system_busy_seconds()
        return self

    def read(self):
        wall = time.perf_counter() - self._wall
        cpu = process_cpu_seconds() - self._cpu
        busy = system_busy_seconds()
        other = None if busy is None or self._busy is None else max(busy - self._busy - cpu, 0.0)
        return {"wall_s": wall, "cpu_s": cpu, "other_cores": (other / wall) if other is not None and wall > 0 else None}


# === Machine ===
def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info():
    """Facts that decide CPU speed: cores usable by this process, CPU model, load, library versions."""
    import keras
    import numpy as np
    import tensorflow as tf

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": cores,
        "os_cpu_count": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),  # 0: TF picks (= cores)
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),  # unset: oneDNN on (x86 Linux)
        "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
        "devices": [d.name for d in tf.config.list_logical_devices()],
    }


# === Peak ===
def matmul_peak(n=2048, repeats=5, min_seconds=1.0):
    """Float32 GFLOP/s of an n x n by n x n matmul in a ``tf.function``, best of ``repeats`` timed
    runs of at least ``min_seconds`` each (2 n^3 FLOPs per product). Each call is one product whose
    result is read back, so nothing can be hoisted or skipped."""
    import tensorflow as tf

    a = tf.random.stateless_normal([n, n], seed=[1, 2])
    b = tf.random.stateless_normal([n, n], seed=[3, 4])
    product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    product(a, b).numpy()  # trace and warm up
    start = time.perf_counter()
    product(a, b).numpy()
    per_call = max(time.perf_counter() - start, 1e-6)
    calls = max(1, int(min_seconds / per_call))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            product(a, b).numpy()
        samples.append(2.0 * n ** 3 * calls / (time.perf_counter() - start) / 1e9)
    return {"n": n, "gflops": max(samples), "samples_gflops": [round(s, 1) for s in samples],
            "calls_per_sample": calls}


# === Keras timing ===
def epoch_timer():
    """A Keras callback recording, per epoch, wall and CPU seconds and the other processes' load."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs = []
            self._watch = None

        def on_epoch_begin(self, epoch, logs=None):
            self._watch = Stopwatch()

        def on_epoch_end(self, epoch, logs=None):
            reading = self._watch.read()
            reading["loss"] = float(logs["loss"]) if logs and "loss" in logs else None
            self.epochs.append(reading)

    return EpochTimer()


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# === Output ===
def timestamp():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def write_json(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def markdown_table(rows, columns):
    """rows: list of dicts; columns: list of (header, key or callable(row), format spec or None)."""
    def cell(row, key, spec):
        value = key(row) if callable(key) else row.get(key)
        if value is None:
            return "-"
        if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
            return format(value, spec)
        return str(value)

    lines = ["| " + " | ".join(h for h, _, _ in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r, k, s) for _, k, s in columns) + " |" for r in rows]
    return "\n".join(lines)
