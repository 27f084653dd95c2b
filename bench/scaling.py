"""Training throughput of the VAE recipe on one device, on MirroredStrategy over 2 logical CPU devices,
and on MultiWorkerMirroredStrategy with 2 worker processes over loopback -> bench/results/scaling.json.

    python bench/scaling.py [--quick]

Each configuration runs the real recipe (``recipes/vae_binarized_mnist.py``) through
``zoo.training.train`` in fresh processes, on the first ``--examples`` training images, and reports
the median examples/s over the epochs after the first (which compiles). The per-replica batch is
the recipe's 100, so the global batch doubles with two replicas, as is usual when scaling out.

Caveat, stated in the results: this machine has 2 cores. Two replicas or two workers share the
same two cores that one device already uses through intra-op threads, so the ratios measure the
overhead of tf.distribute (all-reduce, input sharding, coordination), not a speed-up.
"""
import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scaling.json"


def worker(config):
    """Runs inside a child process: trains and prints one JSON line with per-epoch timings."""
    import keras

    from zoo.training import load_recipe, train

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    recipe = load_recipe("vae_binarized_mnist")
    recipe.data = {"loader": "binarized_mnist", "args": {"limit": config["examples"]}}
    recipe.epochs, recipe.max_minutes, recipe.evaluation = config["epochs"], None, {}
    recipe.early_stopping_patience = recipe.lr_plateau = None
    timer = EpochTimer()
    result = train(recipe, run_dir=config["run_dir"], strategy=config["strategy"], cpu_replicas=config.get("cpu_replicas"),
                   publish_artifact=False, resume=False, verbose=0, callbacks=[timer])
    steady = timer.seconds[1:] or timer.seconds
    print("RESULT " + json.dumps({"epoch_seconds": timer.seconds, "replicas": result["training"]["replicas"],
                                  "global_batch": result["training"]["batch_size"],
                                  "examples_per_second": config["examples"] / statistics.median(steady)}))


def run_children(configs, env_extra=None):
    processes = []
    for i, config in enumerate(configs):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env_extra[i] if env_extra else {})}
        processes.append(subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(config)], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=3600)[0] for p in processes]
    for p, out in zip(processes, outputs):
        if p.returncode:
            raise RuntimeError(f"worker failed ({p.returncode}):\n{out[-3000:]}")
    return [json.loads(next(line[7:] for line in out.splitlines() if line.startswith("RESULT "))) for out in outputs]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 examples, 3 epochs (a smoke test)")
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    if args.quick:
        args.examples, args.epochs = 2000, 3
    base = {"examples": args.examples, "epochs": args.epochs}
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"zoo-scaling-{os.getpid()}"
    rows = {}
    rows["one_device"] = run_children([{**base, "strategy": "default", "run_dir": str(tmp / "one")}])[0]
    rows["mirrored_2_cpu_devices"] = run_children(
        [{**base, "strategy": "mirrored", "cpu_replicas": 2, "run_dir": str(tmp / "mirrored")}])[0]
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    tf_configs = [{"TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})}
                  for i in range(2)]
    chief, _ = run_children([{**base, "strategy": "multi_worker", "run_dir": str(tmp / "mw")}] * 2, tf_configs)
    rows["multi_worker_2_processes"] = chief
    single = rows["one_device"]["examples_per_second"]
    for row in rows.values():
        row["ratio_to_one_device"] = round(row["examples_per_second"] / single, 3)
    report = {
        "bench": "scaling", "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
        "caveat": "2 cores: replicas and workers share the cores one device already uses; the ratios measure "
                  "tf.distribute overhead, not speed-up",
        "examples": args.examples, "epochs": args.epochs, "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print("| configuration | replicas | global batch | examples/s | ratio |\n|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['replicas']} | {row['global_batch']} | {row['examples_per_second']:.0f} | "
              f"{row['ratio_to_one_device']:.2f} |")


if __name__ == "__main__":
    main()
