"""Large-vocabulary output layers at scale (issue 11's harness, speed part): every ``zoo.layers.softmax`` method
on synthetic Zipf targets, hidden 512, 1,024 positions a step.

For each vocabulary size and method: the output layer's training step (loss forward + backward, ms), the exact
``log_probs`` (ms) and its parameters; for SVD-softmax, top-1 / top-5 agreement with the full softmax and the
speed of ``fast_log_probs`` at several preview widths. Ratios against the full softmax are taken within the same
run (this machine drifts +-15% between runs). Writes ``bench/results/softmax.json``.

    .venv/bin/python bench/softmax.py                  # 10k and 100k words
    .venv/bin/python bench/softmax.py --vocab 800000   # Shim et al.'s size (the full logits are 3.3 GB)
    .venv/bin/python bench/softmax.py --quick

The quality part (the PTB 2x200 LSTM trained with each method, exact test perplexity) is not run yet: it needs
about 35 CPU-minutes per method (the ``lstm_lm_ptb`` recipe with ``softmax=``). SVD-softmax's agreement here is
on freshly initialised (flat-spectrum) weights, which understates it: a trained output matrix's singular values
fall fast. A smoke run (--quick, 2,000 words, loaded machine) showed its batched re-score slower than the full
softmax at that size: gathering top_n rows for each of 1,024 positions costs more than the preview saves.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, machine_info, timestamp, write_json  # noqa: E402

HIDDEN, POSITIONS = 512, 1024


def configs(vocab):
    cutoffs = [c for c in (2000, 10000, 50000) if c < vocab] or [vocab // 5]
    return {"full": {}, "sampled": {"num_sampled": 1024}, "nce": {"num_sampled": 1024},
            "negative_sampling": {"num_sampled": 5, "sampler": "log_uniform"}, "one_vs_each": {"num_sampled": 1024},
            "hierarchical": {}, "adaptive": {"cutoffs": cutoffs}, "svd": {}}


def timed(fn, repeats):
    fn()  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(vocab, repeats):
    import numpy as np
    import tensorflow as tf

    from zoo.layers.softmax import output_layer

    rng = np.random.RandomState(0)
    hidden = tf.constant(rng.normal(size=(POSITIONS, HIDDEN)).astype(np.float32))
    zipf = 1.0 / np.arange(1, vocab + 1)
    targets = tf.constant(rng.choice(vocab, size=POSITIONS, p=zipf / zipf.sum()).astype(np.int32))
    rows = {}
    for kind, config in configs(vocab).items():
        layer = output_layer({"kind": kind, **config}, vocab)
        layer.build((None, HIDDEN))

        @tf.function
        def train_step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(layer.loss(hidden, targets, tf.constant([1, 2])))
            return tape.gradient(loss, layer.trainable_weights)

        @tf.function
        def exact():
            return layer.log_probs(hidden)

        rows[kind] = {"train_step_ms": timed(lambda: [g.numpy() if hasattr(g, "numpy") else g for g in train_step()],
                                             repeats),
                      "log_probs_ms": timed(lambda: exact().numpy(), repeats),
                      "parameters": int(sum(np.prod(w.shape) for w in layer.weights))}
        if kind == "svd":
            full = layer.log_probs(hidden).numpy()
            best, top5 = full.argmax(1), np.argsort(-full, axis=1)[:, :5]
            layer.factorize()
            rows[kind]["previews"] = {}
            for width in (16, 32, 64, 128):
                fast = tf.function(lambda w=width: layer.fast_log_probs(hidden, preview_width=w, top_n=256))
                approx = fast().numpy()
                rows[kind]["previews"][width] = {
                    "ms": timed(lambda: fast().numpy(), repeats),
                    "top1_agreement": float(np.mean(approx.argmax(1) == best)),
                    "top5_agreement": float(np.mean([len(set(a) & set(b)) / 5 for a, b in
                                                     zip(np.argsort(-approx, axis=1)[:, :5], top5)]))}
        print(vocab, kind, json.dumps(rows[kind]), flush=True)
    for row in rows.values():
        row["train_speedup_over_full"] = rows["full"]["train_step_ms"] / row["train_step_ms"]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", type=int, nargs="*", default=[10000, 100000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2,000 words, 2 repeats")
    args = parser.parse_args()
    sizes, repeats = ([2000], 2) if args.quick else (args.vocab, args.repeats)
    result = {"date": timestamp(), "machine": machine_info(), "command": " ".join(sys.argv),
              "hidden": HIDDEN, "positions": POSITIONS, "by_vocabulary": {v: measure(v, repeats) for v in sizes}}
    path = write_json(RESULTS_DIR / ("softmax_quick.json" if args.quick else "softmax.json"), result)
    print(path)


if __name__ == "__main__":
    main()
