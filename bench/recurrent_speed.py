"""Recurrent training speed, as ratios timed back to back in one run (this machine drifts +-15% between runs):

* the zoo's char-RNN training step (``RNNLanguageModel``: embedding 128, 2 x 512 LSTM, T = 100, B = 64, Adam,
  stateful TBPTT through ``model.fit``) on the fused LSTM path against Keras' generic loop (the path before);
* the same step in PyTorch (``bench/peers/char_lstm_torch.py``), when a peers environment with torch is given
  (``--torch-python``; bench-only, never a dependency of the zoo);
* the shipped LMs evaluated on both paths: the exact figure of each card must not move beyond float noise.

Rounds alternate ours / Keras / PyTorch, so a slow minute hits all three. Writes ``bench/results/speed.json``
(keeping its "images" part, ``bench/image_speed.py``'s).

    .venv/bin/python bench/recurrent_speed.py --torch-python /work/peers/bin/python
    .venv/bin/python bench/recurrent_speed.py --quick
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, Stopwatch, machine_info, timestamp, write_json  # noqa: E402

PEER = Path(__file__).resolve().parent / "peers" / "char_lstm_torch.py"
CONFIG = {"vocab_size": 65, "embedding_dim": 128, "hidden_units": 512, "num_layers": 2, "cell": "lstm"}
BATCH, WINDOW = 64, 100


def ours_chars_per_second(fused, steps):
    """chars/s of ``model.fit`` on random windows with the char-rnn network; ``fused`` picks the LSTM path."""
    import keras
    import numpy as np

    from zoo.data.streams import stream_batches
    from zoo.models import RNNLanguageModel

    keras.utils.set_random_seed(0)
    model = RNNLanguageModel(**CONFIG)
    model.rnn.fused = fused
    model.compile(optimizer=keras.optimizers.Adam(2e-3), jit_compile=False)  # as the recipes train
    ids = np.random.RandomState(0).randint(0, CONFIG["vocab_size"], size=BATCH * (WINDOW * (steps + 4) + 1))
    batches = stream_batches(ids, BATCH, WINDOW, epochs=1)
    model.fit(batches.take(3), verbose=0, callbacks=model.training_callbacks())  # trace and warm up
    watch = Stopwatch()
    model.fit(batches.skip(3).take(steps), verbose=0, callbacks=model.training_callbacks())
    reading = watch.read()
    return steps * BATCH * WINDOW / reading["wall_s"], reading["other_cores"]


def torch_chars_per_second(python, steps):
    out = subprocess.run([python, str(PEER), "--steps", str(steps)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def shipped_figures():
    """Each shipped RNN LM's card figure, re-measured on the fused path and on Keras' loop."""
    import zoo
    from zoo.data import DATASETS

    rows = {}
    for name in zoo.list_models():
        card = zoo.hub.read_card(name)
        if card["model_class"] != "RNNLanguageModel":
            continue
        args = card["recipe_config"]["data"].get("args", {})
        splits = DATASETS[card["data"]["loader"]].load(**args)
        split = "test" if "test" in splits else "valid"
        row = {"card": card["metrics"]["test_nats_per_token"], "split": split}
        for fused in (True, False):
            model = zoo.load(name, compile=False)  # a fresh model per path: measure's tf.function traces once
            model.rnn.fused = fused
            start = time.perf_counter()
            measured = model.measure(splits[split], **card["recipe_config"]["evaluation"])
            row["fused" if fused else "keras"] = {"nats_per_token": measured["nats_per_token"],
                                                   "seconds": round(time.perf_counter() - start, 1)}
        row["fused_minus_card"] = row["fused"]["nats_per_token"] - row["card"]
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch-python", default=None, help="python of a peers venv with torch installed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="1 round of 6 steps, no shipped-model evaluation")
    parser.add_argument("--shipped-only", action="store_true",
                        help="only re-measure the shipped LMs on both paths, into the existing speed.json")
    args = parser.parse_args()
    if args.shipped_only:
        path = RESULTS_DIR / "speed.json"
        result = json.loads(path.read_text())
        result["shipped_language_models"] = {"date": timestamp(), "command": " ".join(sys.argv),
                                             "models": shipped_figures()}
        write_json(path, result)
        print(path)
        return
    rounds, steps = (1, 6) if args.quick else (args.rounds, args.steps)
    samples = {"fused": [], "keras": [], "torch": []}
    load = []
    for r in range(rounds):
        for fused in (True, False):
            rate, other = ours_chars_per_second(fused, steps)
            samples["fused" if fused else "keras"].append(rate)
            load.append(other)
        if args.torch_python:
            samples["torch"].append(torch_chars_per_second(args.torch_python, steps)["chars_per_second"])
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in samples.items() if v), flush=True)
    median = {k: statistics.median(v) for k, v in samples.items() if v}
    ratios = {"fused_over_keras": [f / k for f, k in zip(samples["fused"], samples["keras"])]}
    if samples["torch"]:
        ratios["fused_over_torch"] = [f / t for f, t in zip(samples["fused"], samples["torch"])]
        ratios["keras_over_torch"] = [k / t for k, t in zip(samples["keras"], samples["torch"])]
    result = {"date": timestamp(), "machine": machine_info(), "command": " ".join(sys.argv),
              "network": {**CONFIG, "batch": BATCH, "window": WINDOW, "optimizer": "Adam"},
              "chars_per_second": samples, "median_chars_per_second": median,
              "ratios_per_round": ratios, "median_ratios": {k: statistics.median(v) for k, v in ratios.items()},
              "other_cores_busy": load}
    if not args.quick:
        result["shipped_language_models"] = shipped_figures()
    path = RESULTS_DIR / ("speed_quick.json" if args.quick else "speed.json")
    earlier = json.loads(path.read_text()) if path.exists() else {}
    if "images" in earlier:  # bench/image_speed.py's part stays
        result["images"] = earlier["images"]
    write_json(path, result)
    print(json.dumps(result["median_ratios"], indent=2))
    print(path)


if __name__ == "__main__":
    main()
