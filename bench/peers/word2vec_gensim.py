"""gensim's skip-gram on PTB's training text (bench-only peer; never a dependency of the zoo).

Same corpus (one sentence a line), window, negatives, dimension, subsampling and epochs as recipes/skipgram_ptb.py;
prints one JSON line: raw words/s, seconds, the WordSim-353 Spearman correlation over pairs with both words in
the vocabulary, the out-of-vocabulary share, the accuracy on Mikolov et al.'s analogy questions with all four
words in the vocabulary (3CosAdd, ``evaluate_word_analogies``), and the paths of both files inside the gensim
package (the zoo's bench reads them from there: they are never vendored).

    /work/peers/bin/python bench/peers/word2vec_gensim.py PTB_TRAIN_TXT --epochs 10
"""
import argparse
import json
import os
import time

import gensim
from gensim.models import Word2Vec


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--subsample", type=float, default=1e-3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with open(args.corpus, encoding="utf-8") as f:
        sentences = [line.split() for line in f if line.split()]
    words = sum(len(s) for s in sentences)
    start = time.perf_counter()
    model = Word2Vec(sentences, sg=1, negative=args.negatives, window=args.window, vector_size=args.dim,
                     sample=args.subsample, min_count=1, workers=args.workers, epochs=args.epochs, seed=0)
    seconds = time.perf_counter() - start
    wordsim = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "wordsim353.tsv")
    pearson, spearman, oov = model.wv.evaluate_word_pairs(wordsim)
    questions = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "questions-words.txt")
    accuracy, sections = model.wv.evaluate_word_analogies(questions)  # questions with a word outside: skipped
    total = [s for s in sections if s["section"] == "Total accuracy"][0]
    print(json.dumps({"words_per_second": words * args.epochs / seconds, "seconds": seconds, "words": words,
                      "epochs": args.epochs, "wordsim353_spearman": float(spearman[0]),
                      "out_of_vocabulary_percent": float(oov), "wordsim353_path": wordsim,
                      "analogy_accuracy": float(accuracy),
                      "analogy_questions_used": len(total["correct"]) + len(total["incorrect"]),
                      "analogy_questions_path": questions,
                      "gensim": gensim.__version__}))


if __name__ == "__main__":
    main()
