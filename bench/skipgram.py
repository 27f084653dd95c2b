"""Skip-gram on PTB: the zoo's (``recipes/skipgram_ptb.py`` through the training path) against gensim's, back to
back in one run: raw words per second of training (ratio), the WordSim-353 Spearman correlation over the pairs
with both words in the vocabulary, and the accuracy on the Google analogy questions with all four words in it
(3CosAdd), the out-of-vocabulary shares stated. Both files are read from inside the gensim package of the peers
environment (``--peer-python``); gensim is never a dependency of the zoo.
Writes ``bench/results/skipgram.json``; the trained model is published into ``--models-dir``.

    .venv/bin/python bench/skipgram.py --peer-python /work/peers/bin/python --models-dir saved_models
"""
import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, machine_info, timestamp, write_json  # noqa: E402

PEER = Path(__file__).resolve().parent / "peers" / "word2vec_gensim.py"


def read_wordsim(path):
    with open(path, encoding="utf-8") as f:
        rows = [row for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]
    return [(a, b, float(score)) for a, b, score in rows if _is_number(score)]


def read_analogies(path):
    """Mikolov et al.'s questions-words.txt: ": section" headers, then "a b c d" a line -> [(a, b, c, d), ...]."""
    with open(path, encoding="utf-8") as f:
        return [tuple(line.split()) for line in f if line.strip() and not line.startswith(":")]


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer-python", required=True, help="python of a peers venv with gensim installed")
    parser.add_argument("--models-dir", required=True, help="publish the trained model here (saved_models, or "
                        "$ZOO_HOME/models)")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="no training: time gensim, evaluate the model an earlier run published (its fit.json)")
    args = parser.parse_args()

    from zoo.data import data_root
    from zoo.training import load_recipe, train

    recipe = load_recipe("skipgram_ptb")
    corpus = data_root() / "ptb" / "ptb.train.txt"
    peer = subprocess.run([args.peer_python, str(PEER), str(corpus), "--epochs", str(recipe.epochs),
                           "--window", str(recipe.data["window"]), "--subsample", str(recipe.data["subsample"])],
                          capture_output=True, text=True, check=True)
    gensim_result = json.loads(peer.stdout.strip().splitlines()[-1])
    if args.evaluate_only:  # the model of an earlier run of this bench, and that run's fit.json
        from zoo.training.run import default_run_dir
        fit = json.loads((default_run_dir(recipe) / "fit.json").read_text())
        metrics = json.loads((Path(args.models_dir) / recipe.name / "card.json").read_text())["metrics"]
    else:
        result = train(recipe, publish_artifact=True, models_dir=args.models_dir, overwrite=args.overwrite, verbose=2)
        fit, metrics = result["training"], result["metrics"]
    import zoo
    os.environ["ZOO_MODELS_DIR"] = str(Path(args.models_dir).resolve())  # load what this run published
    model = zoo.load(recipe.name, compile=False, origin="shipped")
    ours = model.similarity_correlation(read_wordsim(gensim_result["wordsim353_path"]))
    analogies = model.analogy_accuracy(read_analogies(gensim_result["analogy_questions_path"]))
    words = gensim_result["words"]
    ours_speed = words * fit["epochs_run"] / fit["wall_seconds"]
    report = {"date": timestamp(), "machine": machine_info(), "command": " ".join(sys.argv),
              "zoo": {"words_per_second": ours_speed, "seconds": fit["wall_seconds"], "epochs": fit["epochs_run"],
                      "wordsim353": ours, "analogies": analogies,
              "held_out_pair_loss": metrics.get("test_pair_loss")},
              "gensim": gensim_result, "speed_ratio_zoo_over_gensim": ours_speed / gensim_result["words_per_second"]}
    path = write_json(RESULTS_DIR / "skipgram.json", report)
    print(json.dumps({k: report[k] for k in ("zoo", "gensim", "speed_ratio_zoo_over_gensim")}, indent=2))
    print(path)


if __name__ == "__main__":
    main()
