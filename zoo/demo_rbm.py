"""``make demo`` part: the shipped restricted Boltzmann machines (issue 12).

    from zoo.demo_rbm import main; main("demo")          # or: python -m zoo.demo_rbm [OUTPUT_DIR]

* ``rbm-binarized-mnist``: a PNG grid of Gibbs samples (``<output_dir>/rbm-binarized-mnist.png``): chains from
  the base-rate model and from test digits, p(v | h) after 1,000 sweeps; the AIS test log-likelihood with its
  +-3 std interval from the card, and log p(x) = -F(x) - log Z (frozen AIS log Z) of a few test digits.
* ``rsm-20news-50``: the test perplexity by AIS from the card, and the top words of the hidden units whose
  words are the most coherent (NPMI on the test documents).

Either part is skipped, with a message, when its artifact (or the test data) is absent. No download.
"""
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def demo_mnist_rbm(output_dir, name="rbm-binarized-mnist", steps=1000, seed=0):
    import zoo
    from zoo.demo import save_grid, test_subset

    card = zoo.hub.read_card(name)
    model = zoo.load(name, compile=False)
    m = card.get("metrics", {})
    nan = float("nan")
    print(f"{name}: {model.hidden_units} hidden units; test log p(x) by AIS "
          f"{m.get('test_log_prob', nan):.2f} nats, interval [{m.get('test_log_prob_lower', nan):.2f}, "
          f"{m.get('test_log_prob_upper', nan):.2f}] (log Z {m.get('test_log_z', float('nan')):.2f}, "
          f"M = {m.get('test_ais_runs')} runs, {m.get('test_ais_temperatures')} temperatures; S&M 2008: -86.34)")
    start = time.time()
    _, random_start = model.sample(16, steps=steps, seed=seed)
    panels = [random_start]
    x = test_subset(200)
    if x is not None:
        _, data_start = model.sample(8, steps=steps, seed=seed + 1, start=x[:8])
        panels += [x[:8], data_start]
        log_p = model.log_prob(x).numpy()
        print(f"  log p(x) of {len(x)} test digits with the frozen log Z: mean {log_p.mean():.2f} nats")
    path = save_grid(np.concatenate(panels), Path(output_dir) / f"{name}.png", columns=8,
                     title=f"{name}: rows 1-2 Gibbs samples ({steps} sweeps from the base rates); "
                           f"3 test digits; 4 chains started at them")
    print(f"  wrote {path}  [{time.time() - start:.0f} s]")


def demo_rsm(name="rsm-20news-50", words=10, columns=5):
    import zoo
    from zoo.data.newsgroups import load_corpora

    card = zoo.hub.read_card(name)
    model = zoo.load(name, compile=False)
    m = card.get("metrics", {})
    print(f"{name}: test perplexity by AIS {m.get('test_perplexity', float('nan')):.0f} (per document; interval "
          f"[{m.get('test_perplexity_lower', float('nan')):.0f}, {m.get('test_perplexity_upper', float('nan')):.0f}]; "
          f"paper RSM-50: 953)")
    counts = None
    try:
        counts = load_corpora(allow_download=False)["test"].dense()
    except FileNotFoundError as err:
        print(f"(no 20News test data: {err}; the first hidden units, without NPMI)")
    print(f"top {words} words of {columns} hidden units (largest weights W_kj):")
    print(model.topic_table(k=words, columns=columns, counts=counts))


def main(output_dir="demo"):
    import zoo

    shipped = zoo.list_models()
    for name, part in (("rbm-binarized-mnist", lambda: demo_mnist_rbm(output_dir)), ("rsm-20news-50", demo_rsm)):
        if name not in shipped:
            print(f"({name} is not in {zoo.hub.models_dir()}: skipped)")
            continue
        print()
        part()


if __name__ == "__main__":
    main(*sys.argv[1:2])
