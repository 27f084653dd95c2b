"""``make demo`` part: text from the shipped language models with every decoder of ``zoo.decoding``.

    from zoo.demo_text import main; main()          # or: python -m zoo.demo_text

For each shipped ``RNNLanguageModel`` (char-rnn-shakespeare, lstm-lm-ptb): its card's measured metric, then
the continuation of a prompt by greedy decoding, beam search (width 4, with its n-best log-probabilities),
and sampling at two temperatures and with top-p; for the shipped n-gram model, the exact most probable
continuation by Viterbi and by A* (with the nodes A* expanded) next to greedy's; for the shipped skip-gram
vectors, the nearest neighbours of a few words by cosine. No data, no download.
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROMPTS = {"char": "ROMEO:", "word": "the company said"}
DECODERS = [("greedy", {}), ("beam", {"beam_width": 4}), ("sample", {"temperature": 0.7, "seed": 1}),
            ("sample", {"temperature": 1.0, "seed": 1}), ("sample", {"top_p": 0.9, "seed": 1})]


def _label(decoder, params):
    shown = {k: v for k, v in params.items() if k != "seed"}
    return decoder + (" " + " ".join(f"{k}={v}" for k, v in shown.items()) if shown else "")


def show_rnn(name, max_tokens):
    import zoo
    card, model = zoo.hub.read_card(name), zoo.load(name, compile=False)
    metrics = card.get("metrics", {})
    unit = "char" if model.vocabulary.level == "char" else "word"
    split = "validation 10%" if unit == "char" else "test set"
    print(f"{name}: {metrics.get('test_nats_per_token', float('nan')):.3f} nats/{unit}, perplexity "
          f"{metrics.get('test_perplexity', float('nan')):.1f} on the {split} (card)")
    prompt = PROMPTS[model.vocabulary.level]
    for decoder, params in DECODERS:
        start = time.time()
        out = model.generate(prompt, decoder, max_tokens=max_tokens, **params)
        text = out["text"][0].replace("\n", "\n    ")
        joiner = " " if unit == "word" else ""
        per_token = 1000 * (time.time() - start) / max(int(out["lengths"][0]), 1)
        print(f"  [{_label(decoder, params)}] log p = {out['log_prob'][0]:.1f}, {out['lengths'][0]} {unit}s, "
              f"{per_token:.1f} ms/{unit} (eager)\n    {prompt}{joiner}{text}")
    print()


NEIGHBOUR_WORDS = ["stock", "president", "monday", "japan", "computer", "million"]


def show_skipgram(name, k=6):
    import tensorflow as tf
    import zoo
    model = zoo.load(name, compile=False)
    print(f"{name}: nearest words by cosine of {model.dim}-dimensional skip-gram vectors")
    near = model.neighbours(tf.constant(NEIGHBOUR_WORDS), k=k)
    for word, found, cosine in zip(NEIGHBOUR_WORDS, near["words"].numpy(), near["cosine"].numpy()):
        shown = ", ".join(f"{w.decode()} {c:.2f}" for w, c in zip(found, cosine))
        print(f"  {word:10s} {shown}")
    print()


def show_ngram(name, length=40):
    import zoo
    model = zoo.load(name, compile=False)
    table = model.transition_log_probs()
    prompt = PROMPTS["char"]
    greedy = model.generate(prompt, "greedy", max_tokens=length)
    print(f"{name}: order-{model.order} Markov model; the most probable {length}-character continuation of {prompt!r}")
    print(f"  [greedy]  log p = {greedy['log_prob']:.2f}: {greedy['text']!r}")
    for method in ("viterbi", "astar"):
        start = time.time()
        best = model.best_sequence(prompt, length, method, table=table)
        extra = f", {best['expanded']} nodes expanded" if method == "astar" else ""
        print(f"  [{method}] log p = {best['log_prob']:.2f}: {best['text']!r}  [{time.time() - start:.1f} s{extra}]")
    print()


def main(max_tokens=120):
    import zoo
    names = zoo.list_models()
    for name in names:
        model_class = zoo.hub.read_card(name).get("model_class")
        if model_class == "RNNLanguageModel":
            show_rnn(name, max_tokens if "char" in name else max_tokens // 4)
        elif model_class == "NGramLanguageModel":
            show_ngram(name)
        elif model_class == "SkipGram":
            show_skipgram(name)


if __name__ == "__main__":
    main()
