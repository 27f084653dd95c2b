"""``make demo``: the main job on the shipped pretrained models, with no download.

For every image model in ``saved_models/``: a PNG with prior samples, reconstructions of test
digits and a latent interpolation, written to ``demo/``; and the test NLL estimated by
importance sampling on a fixed random subset of the test split (read from ``../shared/data``
or ``$ZOO_DATA_DIR``; skipped, with a message, when the data is absent). Then the topic table
of the shipped NVDM (``zoo.demo_topics``), and text from the shipped language models with every decoder
(``zoo.demo_text``), and the sentence VAEs' samples, reconstructions and homotopies (``zoo.demo_sentences``).
"""
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def save_grid(images, path, title=None, columns=None, image_shape=(28, 28)):
    """images (N, H*W) in [0, 1] -> one PNG grid at ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = np.asarray(images).reshape((-1,) + tuple(image_shape))
    columns = columns or int(np.ceil(np.sqrt(len(images))))
    rows = int(np.ceil(len(images) / columns))
    canvas = np.ones((rows * (image_shape[0] + 2), columns * (image_shape[1] + 2)))
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * (image_shape[0] + 2) + 1:(r + 1) * (image_shape[0] + 2) - 1,
               c * (image_shape[1] + 2) + 1:(c + 1) * (image_shape[1] + 2) - 1] = image
    fig, ax = plt.subplots(figsize=(columns * 0.45 + 0.4, rows * 0.45 + (0.6 if title else 0.2)))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def test_subset(size, seed=0):
    """A fixed random subset of the binarised MNIST test split (class-sorted on disk), or None."""
    from zoo.data.binarized_mnist import load_split
    try:
        test = load_split("test", allow_download=False)
    except FileNotFoundError as err:
        print(f"no test data ({err}); skipping reconstructions and NLL")
        return None
    return test[np.random.RandomState(seed).permutation(len(test))[:size]].astype(np.float32)


def demo_image_model(name, model, x, output_dir, num_samples, seed=0):
    """Writes ``<output_dir>/<name>.png`` and returns the NLL estimate on ``x`` (or None)."""
    panels = [model.sample(16, seed=seed).numpy()]
    if x is not None:
        originals = x[:8]
        panels += [originals, model.reconstruct(originals).numpy(), model.interpolate(x[0], x[1], steps=8).numpy()]
    path = save_grid(np.concatenate(panels), Path(output_dir) / f"{name}.png", columns=8,
                     title=f"{name}: rows 1-2 prior samples; 3 test digits; 4 reconstructions; 5 interpolation")
    print(f"  wrote {path}")
    if x is None:
        return None
    start = time.time()
    metrics = model.measure(x, num_samples=num_samples, chunk_size=min(num_samples, 500))
    print(f"  test NLL (importance sampling, k={num_samples}, {len(x)} test digits): {metrics['nll']:.2f} nats; "
          f"ELBO {metrics['elbo']:.2f}  [{time.time() - start:.0f} s]")
    return metrics


def main(output_dir="demo", test_examples=500, num_samples=5000):
    import zoo

    start = time.time()
    names = [n for n in zoo.list_models() if zoo.hub.read_card(n).get("model_class") == "VAE"]
    if not names:
        raise FileNotFoundError(f"no pretrained image models in {zoo.hub.models_dir()}")
    x = test_subset(test_examples)
    for name in names:
        card = zoo.hub.read_card(name)
        print(f"{name}: card test NLL {card['metrics'].get('test_nll', float('nan')):.2f} nats "
              f"(k={card['metrics'].get('test_importance_samples')}, full test set)")
        demo_image_model(name, zoo.load(name, compile=False), x, output_dir, num_samples)
    if "nvdm-20news-50" in zoo.list_models():
        from zoo.demo_topics import main as topic_table
        print()
        topic_table()
    from zoo.demo_rbm import main as rbm_demo  # RBM Gibbs samples, AIS log-likelihood, RSM words (issue 12)
    rbm_demo(output_dir)
    from zoo.demo_memory import main as memory_demo  # bAbI answers and attention heat maps (issue 14)
    memory_demo(output_dir)
    from zoo.demo_text import main as text_demo
    print()
    text_demo()
    from zoo.demo_sentences import main as sentence_demo  # the sentence VAEs: prior, MEAN/SAMP, homotopy (issue 10)
    sentence_demo()
    print(f"demo done in {time.time() - start:.0f} s; images in {output_dir}/")


if __name__ == "__main__":
    main()
