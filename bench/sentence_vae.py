"""The posterior-collapse tricks of the sentence VAE side by side (issue 10): each trick trains the network of
``recipes/sentence_vae_ptb_bowman.py`` (Bowman et al. 2016's sizes) on PTB for the same budget of optimizer
steps, then is measured on the first test sentences: NLL per sentence (importance sampling), KL, I(x; z)
(He et al. 2019's estimator), active units (Burda et al. 2016) and word perplexity, ``<eos>`` counted. Also
recorded: training tokens/s and the importance-sampling time per sentence. Writes
``bench/results/sentence_vae.json`` (key ``tricks``; the trained recipes' cards stay under ``runs``).

    .venv/bin/python bench/sentence_vae.py                      # 600 steps a trick, 300 test sentences, k=100
    .venv/bin/python bench/sentence_vae.py --steps 200 --test-sentences 100 --tricks none logistic   # a quick look

Schedules are scaled to the budget: the logistic weight (Bowman's) crosses 1/2 at a third of it, with the
recipe's steepness scaled alike; the cyclical one (Fu et al. 2019) runs 4 cycles, rising over the first half of
each. Every trick but "none" and "free bits" anneals logistically, as Bowman's recipe does; "aggressive" runs He
et al.'s encoder-only inner steps (at most 10 a decoder step, until I(x; z) stops rising), so its budget counts
decoder steps and its wall time is longer. Decoder dropout is off in every trick, so word dropout is compared alone.
"""
import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, machine_info, markdown_table, timestamp  # noqa: E402

RESULT = RESULTS_DIR / "sentence_vae.json"
BOWMAN_MIDPOINT, BOWMAN_RATE = 10000, 0.0025  # the recipe's logistic schedule, for a 40-epoch run


def logistic(steps):
    midpoint = steps / 3
    return {"kind": "sigmoid", "midpoint": midpoint, "rate": BOWMAN_RATE * BOWMAN_MIDPOINT / midpoint}


def tricks(steps):
    """{name: (model config overrides, KL schedule)}: the issue's table."""
    return {
        "none": ({}, None),
        "logistic": ({}, logistic(steps)),
        "cyclical": ({}, {"kind": "cyclical", "total_steps": steps, "cycles": 4, "ratio": 0.5}),
        "word dropout 0.25": ({"word_dropout": 0.25}, logistic(steps)),
        "word dropout 0.5": ({"word_dropout": 0.5}, logistic(steps)),
        "word dropout 1.0": ({"word_dropout": 1.0}, logistic(steps)),
        "free bits 0.5": ({"free_bits": 0.5}, None),
        "aggressive": ({"aggressive_steps": 10}, logistic(steps)),
    }


def variant(base, overrides, schedule, steps):
    config = {**base.model["config"], "word_dropout": 0.0, "dropout": 0.0, **overrides}
    return dataclasses.replace(base, model={**base.model, "config": config}, kl_schedule=schedule,
                               epochs=max(1, -(-steps // 1315)))


def run_trick(name, recipe, splits, steps, test, num_samples, seed=0):
    import keras

    from zoo.objectives import KLAnnealing, schedule_from_config
    from zoo.training.run import aggressive_callback, build_model, example_inputs, make_optimizer, make_pipelines

    keras.utils.set_random_seed(seed)
    model = build_model(recipe, example_inputs(recipe, splits), splits)
    model.prepare_for_data(splits)  # the vocabulary, as the training path sets it
    model.compile(make_optimizer(recipe))
    train, _, _ = make_pipelines(recipe, splits, recipe.batch_size, 1, seed, 0, False)
    callbacks = [KLAnnealing(schedule_from_config(recipe.kl_schedule))] if recipe.kl_schedule else []
    aggressive = aggressive_callback(recipe, model, splits, recipe.batch_size, seed)
    if aggressive is not None:
        callbacks.insert(0, aggressive)
    tokens = sum(int((batch.numpy() >= 0).sum()) for batch in train.take(steps))
    start = time.perf_counter()
    model.fit(train.take(steps), epochs=1, callbacks=callbacks, verbose=0)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    metrics = model.measure(test, num_samples=num_samples, chunk_size=min(num_samples, 50), batch_size=10)
    measure_seconds = time.perf_counter() - start
    row = {"trick": name, "steps": steps, "train_seconds": round(train_seconds, 1),
           "tokens_per_second": round(tokens / train_seconds, 1),
           "is_seconds_per_sentence": round(measure_seconds / len(test), 4),
           **{k: metrics[k] for k in ("nll", "kl", "mutual_information", "active_units", "perplexity", "elbo")},
           "kl_weight_at_end": float(model.kl_weight.numpy()), "importance_samples": num_samples,
           "test_sentences": len(test), "model_overrides": {k: v for k, v in recipe.model["config"].items()
                                                            if k in ("word_dropout", "free_bits", "aggressive_steps")},
           "kl_schedule": recipe.kl_schedule}
    print(json.dumps(row), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=600, help="optimizer steps a trick (1,315: one epoch)")
    parser.add_argument("--test-sentences", type=int, default=300, help="the first N test sentences")
    parser.add_argument("--num-samples", type=int, default=100, help="importance samples a sentence")
    parser.add_argument("--tricks", nargs="*", help="a subset of the table's rows (default: all)")
    parser.add_argument("--output", default=str(RESULT))
    args = parser.parse_args()

    from zoo.training import load_recipe
    from zoo.training.run import load_data

    base = load_recipe("sentence_vae_ptb_bowman")
    splits, _ = load_data(base)
    test = splits["test"][: args.test_sentences]
    table = tricks(args.steps)
    names = args.tricks or list(table)
    unknown = sorted(set(names) - set(table))
    if unknown:
        parser.error(f"unknown tricks {unknown}; known: {list(table)}")
    rows = [run_trick(name, variant(base, *table[name], args.steps), splits, args.steps, test, args.num_samples)
            for name in names]
    path = Path(args.output)
    record = json.loads(path.read_text()) if path.exists() else {}
    record["tricks"] = {"about": __doc__.split("\n\n")[0].replace("\n", " "), "command": " ".join(sys.argv),
                        "date": timestamp(), "machine": machine_info(), "rows": rows}
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(markdown_table(rows, [("trick", "trick", None), ("NLL", "nll", ".1f"), ("KL", "kl", ".2f"),
                                ("I(x;z)", "mutual_information", ".2f"), ("AU", "active_units", "d"),
                                ("PPL", "perplexity", ".1f"), ("tokens/s", "tokens_per_second", ".0f"),
                                ("train s", "train_seconds", ".0f")]))


if __name__ == "__main__":
    main()
