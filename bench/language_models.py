"""Language models and decoders: training speed, decoding speed eager vs exported graph, perplexities, and
teacher forcing against free running (exposure bias). Writes bench/results/language_models.json.

    .venv/bin/python bench/language_models.py            # every shipped RNNLanguageModel
    .venv/bin/python bench/language_models.py --quick    # fewer prompts and steps (a smoke run)

Per model:
* training: tokens/s of its recipe's stateful TBPTT step in ``model.fit`` measured here (fresh weights, the
  recipe's batch, window and optimizer), next to the figure its card recorded during the real run;
* decoding: ms per generated token for greedy, sampling and width-4 beam search, run eagerly
  (``model.generate``, op by op) and through the exported SavedModel signatures (``generate_greedy``,
  ``generate``, ``generate_beam``: one graph with the ``tf.while_loop``);
* perplexity: from the card (exact, the whole evaluation stream read as one sequence);
* exposure bias (Bengio et al. 2015; Ranzato et al. 2016): P prompts of C tokens cut from the evaluation
  stream, each continued for L tokens. Teacher forcing: the model's loss on the true continuation. Free
  running: the model's own greedy / beam / sampled continuation, scored by the model itself and by a held-out
  reference, a count-based interpolated n-gram model (absolute discounting, Ney et al. 1994) fitted here on
  the training split, which also scores the true continuation. Per-token losses are reported by position
  (deciles of the L tokens), with the repetition rate (the fraction of n-grams of a continuation already seen
  earlier in it) and the mean length.
"""
import argparse
import collections
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import RESULTS_DIR, Stopwatch, machine_info, markdown_table, timestamp, write_json  # noqa: E402

RESULTS = RESULTS_DIR / "language_models.json"
SETTINGS = {"char": {"context": 100, "continuation": 200, "reference_order": 5, "repeat_n": 8},
            "word": {"context": 30, "continuation": 40, "reference_order": 3, "repeat_n": 3}}


class ReferenceNGram:
    """Interpolated absolute-discounting n-gram model over token ids (Ney, Essen & Kneser 1994), D = 0.75:
    p(w | h) = max(c(h w) - D, 0) / c(h) + D N1+(h .) / c(h) p(w | h'), down to an add-one unigram."""

    def __init__(self, ids, order, vocab_size, discount=0.75):
        self.order, self.vocab_size, self.discount = order, vocab_size, discount
        self.counts = [collections.Counter() for _ in range(order + 1)]  # counts[n][(h..., w)] for n-grams
        self.context_totals = [collections.Counter() for _ in range(order + 1)]
        self.context_types = [collections.Counter() for _ in range(order + 1)]
        ids = [int(i) for i in ids]
        for n in range(1, order + 1):
            grams = collections.Counter(zip(*(ids[i:len(ids) - n + 1 + i] for i in range(n))))
            self.counts[n] = grams
            for gram, count in grams.items():
                self.context_totals[n][gram[:-1]] += count
                self.context_types[n][gram[:-1]] += 1

    def prob(self, history, word):
        p = (self.counts[1][(word,)] + 1) / (self.context_totals[1][()] + self.vocab_size)
        for n in range(2, self.order + 1):
            h = tuple(history[len(history) - n + 1:]) if n > 1 else ()
            if len(h) < n - 1 or h not in self.context_totals[n]:
                continue
            total = self.context_totals[n][h]
            kept = max(self.counts[n][h + (word,)] - self.discount, 0)
            p = (kept + self.discount * self.context_types[n][h] * p) / total
        return p

    def nll(self, prefix, continuation):
        """-log p of each token of ``continuation`` after ``prefix`` (lists of ids): (L,)."""
        history, out = list(prefix), []
        for token in continuation:
            out.append(-np.log(self.prob(history, int(token))))
            history.append(int(token))
        return np.array(out)


def repetition_rate(tokens, n):
    """Fraction of the n-grams of ``tokens`` that already occurred earlier in ``tokens``."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    seen, repeats = set(), 0
    for gram in grams:
        repeats += gram in seen
        seen.add(gram)
    return repeats / len(grams) if grams else 0.0


def by_position(losses, buckets=10):
    """(P, L) per-token losses (NaN past a sequence's end) -> mean per bucket of positions (deciles)."""
    edges = np.linspace(0, losses.shape[1], buckets + 1).astype(int)
    return [float(np.nanmean(losses[:, a:b])) for a, b in zip(edges[:-1], edges[1:])]


def prompt_texts(vocabulary, ids):
    return [vocabulary.decode(row) for row in ids]


def exposure_bias(model, splits, num_prompts, seed=0):
    import tensorflow as tf
    vocabulary = model.vocabulary
    setting = SETTINGS[vocabulary.level]
    context, length = setting["context"], setting["continuation"]
    stream = splits["test"]
    starts = np.random.RandomState(seed).choice(len(stream) - context - length, num_prompts, replace=False)
    prompts = np.stack([stream[s:s + context] for s in starts])
    truths = np.stack([stream[s + context:s + context + length] for s in starts])
    t0 = time.time()
    reference = ReferenceNGram(splits["train"], setting["reference_order"], len(vocabulary))
    fit_seconds = time.time() - t0
    prompt_strings = tf.constant(prompt_texts(vocabulary, prompts))
    joined = prompt_texts(vocabulary, np.concatenate([prompts, truths], axis=1))
    forced = -model.score_texts(tf.constant(joined))["log_probs"].numpy()[:, context:context + length]
    eos = vocabulary.boundary_id if vocabulary.level == "word" else None
    rows = {"teacher_forcing (true continuation)": {
        "model_nll_by_position": by_position(forced), "model_nll": float(forced.mean()),
        "reference_nll": float(np.mean([reference.nll(p, t).mean() for p, t in zip(prompts, truths)])),
        "repetition_rate": float(np.mean([repetition_rate(list(t), setting["repeat_n"]) for t in truths])),
        "mean_length": float(length)}}
    decoders = [("greedy", {}), ("beam", {"beam_width": 4}), ("sample", {"seed": seed, "temperature": 1.0}),
                ("sample", {"seed": seed, "top_p": 0.9})]
    for decoder, params in decoders:
        run = tf.function(lambda p: model.decode_prompts(p, decoder, length, length, **params))
        out = {k: v.numpy() for k, v in run(prompt_strings).items()}
        own, ref, repeats = np.full((num_prompts, length), np.nan), np.full((num_prompts, length), np.nan), []
        texts = prompt_texts(vocabulary, np.concatenate([prompts, out["tokens"]], axis=1))
        own_scores = -model.score_texts(tf.constant(texts))["log_probs"].numpy()[:, context:context + length]
        for i in range(num_prompts):
            n = int(out["lengths"][i])
            generated = list(out["tokens"][i, :n])
            own[i, :n] = own_scores[i, :n]
            ref[i, :n] = reference.nll(prompts[i], generated)
            repeats.append(repetition_rate(generated, setting["repeat_n"]))
        label = decoder + "".join(f" {k}={v}" for k, v in params.items() if k != "seed")
        rows[f"free_running {label}"] = {
            "model_nll_by_position": by_position(own), "model_nll": float(np.nanmean(own)),
            "reference_nll_by_position": by_position(ref), "reference_nll": float(np.nanmean(ref)),
            "repetition_rate": float(np.mean(repeats)), "mean_length": float(out["lengths"].mean()),
            "eos_id": eos}
    return {"prompts": num_prompts, "context_tokens": context, "continuation_tokens": length,
            "reference": f"interpolated absolute-discounting {setting['reference_order']}-gram, fitted on the "
                         f"training split in {fit_seconds:.1f} s", "repetition_ngram": setting["repeat_n"],
            "rows": rows}


def decoding_speed(model, version_dir, max_tokens, repeats):
    import tensorflow as tf
    served = tf.saved_model.load(str(version_dir)).signatures
    prompt = "ROMEO:" if model.vocabulary.level == "char" else "the company said"
    cases = [("greedy", {}, "generate_greedy", {}),
             ("sample", {"seed": 1, "temperature": 1.0}, "generate",
              {"temperature": tf.constant(1.0), "top_k": tf.constant(0), "top_p": tf.constant(1.0),
               "seed": tf.constant(1, tf.int64)}),
             ("beam", {"beam_width": model.serving_beam_width}, "generate_beam", {"length_penalty": tf.constant(0.0)})]
    out = {}
    for decoder, params, signature, inputs in cases:
        eager, graph = [], []
        for _ in range(repeats):
            watch = Stopwatch()
            result = model.generate([prompt], decoder, max_tokens=max_tokens, **params)
            eager.append(watch.read()["wall_s"] / max(int(result["lengths"][0]), 1))
        served[signature](prompt=tf.constant([prompt]), max_tokens=tf.constant(max_tokens), **inputs)  # warm-up
        for _ in range(repeats):
            watch = Stopwatch()
            result = served[signature](prompt=tf.constant([prompt]), max_tokens=tf.constant(max_tokens), **inputs)
            graph.append(watch.read()["wall_s"] / max(int(result["lengths"][0]), 1))
        out[decoder] = {"eager_ms_per_token": 1000 * min(eager), "exported_graph_ms_per_token": 1000 * min(graph),
                        "speedup": min(eager) / min(graph), "tokens": max_tokens}
    return out


def training_speed(name, steps):
    from zoo import registry
    from zoo.data.streams import stream_batches
    from zoo.training import load_recipe
    from zoo.training.run import load_data, make_optimizer
    recipe = load_recipe(name.replace("-", "_"))
    splits, _ = load_data(recipe)
    config = {**recipe.model["config"], "vocab_size": len(splits["vocabulary"])}
    model = registry.build_model(recipe.model["class_name"], **config)
    model.compile(optimizer=make_optimizer(recipe))
    batches = stream_batches(splits["train"], recipe.batch_size, recipe.data["seq_len"], epochs=1)
    model.fit(batches.take(5), verbose=0)  # trace and warm up
    watch = Stopwatch()
    model.fit(batches.skip(5).take(steps), verbose=0)
    reading = watch.read()
    tokens = steps * recipe.batch_size * recipe.data["seq_len"]
    return {"tokens_per_second": tokens / reading["wall_s"], "steps": steps, "batch_rows": recipe.batch_size,
            "window": recipe.data["seq_len"], "other_cores_busy": reading["other_cores"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import zoo
    from zoo.data import DATASETS

    results = {"date": timestamp(), "machine": machine_info(), "command": " ".join(sys.argv), "models": {}}
    names = [n for n in zoo.list_models() if zoo.hub.read_card(n).get("model_class") == "RNNLanguageModel"]
    for name in names:
        print(f"== {name}", flush=True)
        card, model = zoo.hub.read_card(name), zoo.load(name, compile=False)
        splits = DATASETS[card["data"]["loader"]].load(vocabulary=model.vocabulary)
        entry = {"card_metrics": card["metrics"], "card_training_tokens_per_second":
                 card["training"].get("examples_per_second"), "parameters": card.get("parameters")}
        entry["training"] = training_speed(name, 10 if args.quick else 60)
        print(f"  training: {entry['training']['tokens_per_second']:.0f} tokens/s", flush=True)
        entry["decoding"] = decoding_speed(model, zoo.hub.latest_version_dir(name), 50 if args.quick else 200,
                                           2 if args.quick else 3)
        for decoder, row in entry["decoding"].items():
            print(f"  {decoder}: eager {row['eager_ms_per_token']:.2f} ms/token, exported graph "
                  f"{row['exported_graph_ms_per_token']:.2f} ms/token", flush=True)
        entry["exposure_bias"] = exposure_bias(model, splits, 8 if args.quick else 64)
        table = markdown_table([{"setting": k, **v} for k, v in entry["exposure_bias"]["rows"].items()],
                               [("continuation", "setting", None), ("model NLL/token", "model_nll", ".3f"),
                                ("reference NLL/token", "reference_nll", ".3f"),
                                ("repeated n-grams", "repetition_rate", ".3f"), ("length", "mean_length", ".1f")])
        entry["exposure_bias"]["table"] = table
        print(table, flush=True)
        results["models"][name] = entry
    write_json(RESULTS, results)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
