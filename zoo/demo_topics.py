"""``make demo`` part: the topic table of the shipped NVDM (Miao, Yu & Blunsom 2016, Table 3 style).

    from zoo.demo_topics import main; main()          # or: python -m zoo.demo_topics [NAME]

Prints, for the shipped NVDM (``nvdm-20news-50`` by default), the top words along its most coherent
latent dimensions, with their NPMI on the 20News test documents when ``../shared/data`` (or
``$ZOO_DATA_DIR``) has them, and the test perplexity recorded in the model's card. No download.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(name="nvdm-20news-50", words=10, columns=5, test_documents=None):
    """Prints the topic table of the shipped document model ``name``; returns the table (a string)."""
    import zoo
    from zoo.data.newsgroups import load_corpora

    card = zoo.hub.read_card(name)
    model = zoo.load(name, compile=False)
    counts = None
    try:
        test = load_corpora(allow_download=False)["test"]
        counts = test.dense()[:test_documents]
    except FileNotFoundError as err:
        print(f"(no 20News test data: {err}; the table shows the first dimensions, without NPMI)")
    metrics = card.get("metrics", {})
    print(f"{name}: {card.get('model_class')}, test perplexity {metrics.get('test_perplexity', float('nan')):.0f} "
          f"(per document, ELBO; paper NVDM-50: 836), importance-sampled "
          f"{metrics.get('test_is_perplexity', float('nan')):.0f}")
    print(f"top {words} words of the {columns} most coherent latent dimensions"
          + (" (NPMI on the test documents)" if counts is not None else "") + ":")
    table = model.topic_table(k=words, columns=columns, counts=counts)
    print(table)
    return table


if __name__ == "__main__":
    main(*sys.argv[1:2])
