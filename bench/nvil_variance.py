"""Variance of NVIL's encoder gradient with and without each of its tricks (Mnih & Gregor 2014; issue 13), on a
trained SBN document model (``saved_models/sbn-20news-50`` by default).

The model is frozen. For each way of centring the learning signal l = log p(d, h) - log q(h | d):

* ``none``: l itself (plain REINFORCE);
* ``running mean``: l - c, c the mean of l over training documents;
* ``baseline per document``: l - b(x) - c, NVIL's input-dependent baseline (an MLP over log(1 + counts)) fitted
  to l (Mnih & Gregor's form);
* ``baseline per word``: l - N_d (b(x) + c), the baseline fitted to l / N_d (``SBN(baseline_per_word=True)``);

the baselines are fitted by Adam on training documents (with h drawn from the frozen q) for ``--fit-steps``
steps, and then, on a fixed batch of held-out documents, the encoder's gradient of the batch surrogate
-mean(A log q(h | d)) is drawn ``--draws`` times with fresh h: the total variance (summed over the encoder's
parameters) and the squared norm of the mean of the draws (which holds total_variance / draws of noise besides the true
gradient's norm), and the root mean square of the advantage A in nats. NVIL's last trick, dividing A by a running standard
deviation, rescales the gradient without changing its signal-to-noise ratio, so it is reported as the scale
it would apply. Writes ``bench/results/nvil_variance.json``.

    .venv/bin/python bench/nvil_variance.py                      # sbn-20news-50, 2,000 fit steps, 200 draws
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, machine_info, timestamp, write_json  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="sbn-20news-50")
    parser.add_argument("--fit-steps", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf
    import zoo
    from zoo.data.newsgroups import load_20news
    from zoo.objectives.score_function import NVILBaseline

    model = zoo.load(args.model, compile=False)
    data = load_20news()
    train, held_out = data["train"], data["valid"][: args.batch]
    encoder = model.inference_variables()

    def signal_and_log_q(x, seed):
        posterior = model.posterior_from_params(model(x))
        h = tf.stop_gradient(posterior.sample(seed=seed))
        signal = model.likelihood(h).log_prob(x) + model.prior().log_prob(h) - posterior.log_prob(h)
        return tf.stop_gradient(signal), posterior, h

    def words(x):
        return tf.maximum(tf.reduce_sum(x, axis=-1), 1.0)

    rng = np.random.RandomState(args.seed)
    mean_signal = float(np.mean([float(tf.reduce_mean(signal_and_log_q(
        tf.constant(train[rng.randint(0, len(train), 256)]), tf.constant([args.seed, i]))[0])) for i in range(20)]))

    def fitted(per_word):
        keras.utils.set_random_seed(args.seed)
        baseline = NVILBaseline((100,), 0.9, name="baseline")
        baseline.build((None, train.shape[1]))
        optimizer = keras.optimizers.Adam(1e-3)

        @tf.function
        def step(x, seed):
            signal, posterior, h = signal_and_log_q(x, seed)
            with tf.GradientTape() as tape:
                _, loss = baseline.surrogate(signal, posterior.log_prob(h), tf.math.log1p(x), training=True,
                                             scale=words(x) if per_word else None)
            optimizer.apply_gradients(zip(tape.gradient(loss, baseline.trainable_variables),
                                          baseline.trainable_variables))
            return loss
        for i in range(args.fit_steps):
            step(tf.constant(train[rng.randint(0, len(train), 64)]), tf.constant([args.seed + 1, i]))
        return baseline

    variants = {"none": None, "running mean": None, "baseline per document": fitted(False),
                "baseline per word": fitted(True)}
    x = tf.constant(held_out)
    rows = {}
    for name, baseline in variants.items():
        start = time.time()

        @tf.function
        def gradient(seed):
            signal, _, h = signal_and_log_q(x, seed)
            with tf.GradientTape() as tape:
                log_q = model.posterior_from_params(model(x)).log_prob(h)
                if name == "none":
                    advantage = signal
                elif name == "running mean":
                    advantage = signal - mean_signal
                else:
                    scale = words(x) if name == "baseline per word" else tf.ones_like(signal)
                    advantage = scale * (signal / scale - baseline(tf.math.log1p(x)) - baseline.signal_mean)
                surrogate = -tf.reduce_mean(tf.stop_gradient(advantage) * log_q)
            flat = tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(surrogate, encoder)], 0)
            return flat, tf.sqrt(tf.reduce_mean(tf.square(advantage)))

        draws, scales = zip(*[(g.numpy(), float(s)) for g, s in
                              (gradient(tf.constant([args.seed + 7, i])) for i in range(args.draws))])
        draws = np.stack(draws).astype(np.float64)
        mean = draws.mean(axis=0)
        rows[name] = {"total_variance": float(draws.var(axis=0, ddof=1).sum()),
                      "mean_gradient_squared_norm": float(np.sum(mean ** 2)),
                      "rms_advantage": float(np.mean(scales)), "seconds": round(time.time() - start, 1)}
    reference = rows["none"]["total_variance"]
    for row in rows.values():
        row["variance_relative_to_none"] = row["total_variance"] / reference
    report = {"date": timestamp(), "machine": machine_info(), "command": " ".join(sys.argv), "model": args.model,
              "card_test_perplexity": zoo.hub.read_card(args.model)["metrics"].get("test_perplexity"),
              "held_out_documents": args.batch, "draws": args.draws, "fit_steps": args.fit_steps,
              "mean_signal_nats": mean_signal, "variants": rows}
    path = write_json(RESULTS_DIR / "nvil_variance.json", report)
    print(json.dumps(rows, indent=2))
    print(path)


if __name__ == "__main__":
    main()
