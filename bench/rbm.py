"""RBM training speed against scikit-learn's BernoulliRBM, and the time of one AIS estimate of log Z.
Writes bench/results/rbm.json.

    .venv/bin/python bench/rbm.py                      # sklearn from /work/peers (or $RBM_BENCH_PEER_PYTHON)
    .venv/bin/python bench/rbm.py --epochs 3 --peer-python /path/to/python

The task of issue 12: the binarised 20 Newsgroups training matrix (NVDM files, train.feat: 11,268 documents x
2,000 words, n_dw > 0 -> 1), 256 hidden units, batch 64, learning rate 0.1, PCD-1 (scikit-learn's algorithm:
one Gibbs sweep per update on a persistent chain of batch size; so the zoo runs PCD-1 with 64 chains, no
momentum, no weight decay). scikit-learn is timed on the dense matrix and on its CSR form (3% non-zeros); the
speed-up is against the faster of the two. Both run back to back in this one process's run, the same number of
epochs, in ``--repeats`` alternating rounds (medians reported, with each round's ``other_cores``: the CPU other
processes took, the peer's own taken out); scikit-learn runs in its own virtualenv (a bench-only peer, never a zoo dependency) as a subprocess that
times its own ``fit``. The zoo's time includes its per-step metrics (free energy, reconstruction error on
16 rows of each batch, pseudo-likelihood). AIS: one estimate with S&M's 14,500 temperatures and M = 100 runs on a 784-500 RBM (the
shipped MNIST model's shape; its weights when it is present).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import RESULTS_DIR, Stopwatch, machine_info, timestamp, write_json  # noqa: E402

SKLEARN_SCRIPT = """
import json, sys, time
import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM
x = np.load(sys.argv[1])
epochs = int(sys.argv[2])
if sys.argv[3] == "csr":  # the sparse matrix a text pipeline hands it (3% non-zeros)
    import scipy.sparse
    x = scipy.sparse.csr_matrix(x)
rbm = BernoulliRBM(n_components=256, learning_rate=0.1, batch_size=64, n_iter=epochs, random_state=0)
start = time.perf_counter()
rbm.fit(x)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "sklearn": sklearn.__version__, "numpy": np.__version__,
                  "pseudo_likelihood": float(rbm.score_samples(x[:2000]).mean())}))
"""


def binarised_train_matrix():
    from zoo.data.newsgroups import load_corpora
    train = load_corpora()["train"]
    return (train.dense() > 0).astype(np.float32)


def zoo_training(x, epochs, steps_per_execution, jit_compile=False):
    import keras
    from zoo.models import RBM
    keras.utils.set_random_seed(0)
    model = RBM(input_size=x.shape[1], hidden_units=256, cd_steps=1, persistent=True, num_chains=64,
                momentum=0.0, initial_momentum=0.0, weight_decay=0.0, seed=0)
    model.prepare_for_data({"train": x})
    model.compile(optimizer=keras.optimizers.SGD(0.1), steps_per_execution=steps_per_execution,
                  jit_compile=jit_compile)
    model.fit(x[:64 * steps_per_execution * 2], batch_size=64, epochs=1, verbose=0)  # trace, warm up
    watch = Stopwatch()
    model.fit(x, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    timing = watch.read()
    pl = float(np.mean(model.pseudo_likelihood(x[:2000], [0, 1]).numpy()))
    return {"seconds": timing["wall_s"], "docs_per_second": len(x) * epochs / timing["wall_s"],
            "other_cores": timing["other_cores"], "pseudo_likelihood": pl}


def sklearn_training(x, epochs, peer_python, layout):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.npy"
        np.save(path, x.astype(np.float64))
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        watch = Stopwatch()
        out = subprocess.run([peer_python, "-c", SKLEARN_SCRIPT, str(path), str(epochs), layout], capture_output=True,
                             text=True, check=True)
        timing = watch.read()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)  # the subprocess's CPU
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["docs_per_second"] = len(x) * epochs / result["seconds"]
    if timing["other_cores"] is not None:  # other processes' cores, the peer's own CPU taken out
        result["other_cores"] = max(timing["other_cores"] - own / timing["wall_s"], 0.0)
    return result


def ais_time(runs=100):
    from zoo.models import RBM
    model = None
    try:
        import zoo
        model = zoo.load("rbm-binarized-mnist", compile=False)
        source = "shipped rbm-binarized-mnist"
    except Exception:  # not trained yet: the same shape, random weights
        model = RBM(input_size=784, hidden_units=500, seed=0)
        source = "784-500, random weights"
    model.estimate_log_partition(runs=runs, temperatures=200)  # trace
    watch = Stopwatch()
    estimate = model.estimate_log_partition(runs=runs)
    timing = watch.read()
    return {"model": source, "runs": runs, "temperatures": estimate.temperatures, "seconds": timing["wall_s"],
            "other_cores": timing["other_cores"], "log_z": float(estimate.log_z),
            "log_z_interval": [float(estimate.lower), float(estimate.upper)]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--peer-python", default=os.environ.get("RBM_BENCH_PEER_PYTHON", "/work/peers/bin/python"))
    parser.add_argument("--output", default=str(RESULTS_DIR / "rbm.json"))
    args = parser.parse_args()
    x = binarised_train_matrix()
    print(f"binarised 20News train: {x.shape}, density {x.mean():.4f}")
    results = {"task": "binarised 20News train.feat, 256 hidden, batch 64, lr 0.1, PCD-1", "documents": len(x),
               "columns": int(x.shape[1]), "epochs": args.epochs, "machine": machine_info(), "date": timestamp(),
               "command": " ".join(["python"] + sys.argv)}
    have_peer = Path(args.peer_python).exists()
    if not have_peer:
        print(f"no peer python at {args.peer_python}: scikit-learn skipped")
    rounds = {"sklearn": {}, "zoo": {}}
    for r in range(args.repeats):  # alternating, so a change of load hits both sides
        if have_peer:
            for layout in ("dense", "csr"):
                out = sklearn_training(x, args.epochs, args.peer_python, layout)
                rounds["sklearn"].setdefault(layout, []).append(out)
                print(f"round {r}: sklearn BernoulliRBM ({layout} input): {out['docs_per_second']:.0f} docs/s, "
                      f"other cores {out.get('other_cores')}")
        for label, spe in (("50_steps_per_call", 50), ("1_step_per_call", 1)):
            out = zoo_training(x, args.epochs, spe)
            rounds["zoo"].setdefault(label, []).append(out)
            print(f"round {r}: zoo RBM ({label}): {out['docs_per_second']:.0f} docs/s, other cores {out['other_cores']}")

    def summary(runs):
        return {"docs_per_second": statistics.median(o["docs_per_second"] for o in runs),
                "rounds": [{k: o[k] for k in ("docs_per_second", "other_cores")} for o in runs], "last": runs[-1]}

    peer = {k: summary(v) for k, v in rounds["sklearn"].items()}
    results["sklearn"] = peer
    results["zoo"] = {k: summary(v) for k, v in rounds["zoo"].items()}
    if peer:
        fastest = max(v["docs_per_second"] for v in peer.values())  # the ratio is against sklearn's faster input
        results["speedup_vs_sklearn"] = {k: v["docs_per_second"] / fastest for k, v in results["zoo"].items()}
        print("speed-up:", results["speedup_vs_sklearn"])
    results["ais"] = ais_time()
    print(f"AIS: {results['ais']['seconds']:.1f} s per estimate ({results['ais']['model']})")
    write_json(Path(args.output), results)


if __name__ == "__main__":
    main()
