"""``make demo`` part: the shipped sentence VAEs and their language-model baselines (Bowman et al. 2016,
"Generating Sentences from a Continuous Space"; issue 10).

    from zoo.demo_sentences import main; main()          # or: python -m zoo.demo_sentences

For each shipped ``SentenceVAE`` (``sentence-vae-ptb-bowman``, ``sentence-vae-ptb``, the ones present): the card's
test NLL, KL and perplexity beside its same-size ``SentenceLanguageModel`` baseline's; sentences decoded (greedy)
from z ~ p(z); the paper's Table 3 for three test sentences: the greedy decoding from the posterior mean and from
two posterior samples (MEAN / SAMP. 1 / SAMP. 2); and one homotopy (Table 8): sentences decoded along the line
between the posterior means of two test sentences. Test sentences come from PTB in ``../shared/data`` (or
``$ZOO_DATA_DIR``); without them, fixed sentences are used. No download.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MAX_TOKENS = 40  # of each decoded sentence shown (PTB's test sentences have at most 78 words)
BASELINES = {"sentence-vae-ptb-bowman": "rnnlm-ptb-sentences-bowman", "sentence-vae-ptb": "rnnlm-ptb-sentences"}
FALLBACK = ["the company said it expects to report a loss", "the market fell sharply in early trading",
            "he said the plan would be approved by the board"]


def test_sentences(count=3, max_words=14):
    """``count`` PTB test sentences of at most ``max_words`` words, evenly spaced in the file, or ``FALLBACK``."""
    from zoo.data.reading import text_lines
    from zoo.data.text import ptb_path
    try:
        lines = [line.strip() for _, line in text_lines(ptb_path("test", allow_download=False), "PTB text file")]
    except FileNotFoundError as err:
        print(f"(no PTB test file: {err}; fixed sentences instead)")
        return FALLBACK[:count]
    short = [line for line in lines if 0 < len(line.split()) <= max_words]
    return short[::max(1, len(short) // count)][:count]


def figures(card):
    m = card.get("metrics", {})
    kl = f", KL {m['test_kl']:.2f}" if "test_kl" in m else ""
    return f"NLL {m.get('test_nll', float('nan')):.1f} nats/sentence{kl}, PPL {m.get('test_perplexity', float('nan')):.1f}"


def posterior_decodes(model, sentence, samples=2, seed=0):
    """[decoding from the posterior mean, then from ``samples`` posterior samples] of one sentence (greedy)."""
    import tensorflow as tf
    posterior = model.posterior(model.encode_text(tf.constant([sentence])))
    z = tf.concat([posterior.mean(), posterior.sample(samples, seed=tf.constant([seed, 5]))[:, 0]], axis=0)
    return [t.decode("utf-8") for t in model.decode_latent(z, "greedy", MAX_TOKENS)["text"].numpy()]


def show_vae(name, shipped):
    import zoo
    card, model = zoo.hub.read_card(name), zoo.load(name, compile=False)
    paper = card.get("expected", {})
    print(f"{name}: {figures(card)} (card, k={card['metrics'].get('test_importance_samples')}; paper: NLL "
          f"{paper.get('paper_test_nll', '-')}, PPL {paper.get('paper_test_perplexity', '-')})")
    baseline = BASELINES.get(name)
    if baseline in shipped:
        print(f"  its same-size LSTM language model {baseline}: {figures(zoo.hub.read_card(baseline))} (card)")
    print("  from the prior, z ~ N(0, I), greedy:")
    for text in model.sample_sentences(4, seed=1, max_tokens=MAX_TOKENS):
        print(f"    {text}")
    sentences = test_sentences()
    print("  test sentences decoded from q(z|x) (Bowman's Table 3): MEAN / SAMP. 1 / SAMP. 2")
    for sentence in sentences:
        mean, *samples = posterior_decodes(model, sentence)
        print(f"    INPUT   {sentence}\n    MEAN    {mean}\n" + "".join(
            f"    SAMP. {i + 1} {text}\n" for i, text in enumerate(samples)))
    first, second = sentences[0], sentences[-1]
    print(f"  homotopy (Table 8) from {first!r} to {second!r}:")
    for text in model.homotopy(first, second, steps=3, max_tokens=MAX_TOKENS):
        print(f"    {text}")


def main():
    import zoo
    shipped = zoo.list_models()
    names = [n for n in shipped if zoo.hub.read_card(n).get("model_class") == "SentenceVAE"]
    if not names:
        print("(no sentence VAE in the shipped models: skipped)")
    for name in names:
        print()
        show_vae(name, shipped)


if __name__ == "__main__":
    main()
