"""Skip-gram with negative sampling on PTB's training text (Mikolov et al. 2013).

    zoo train skipgram_ptb

The settings of issue 11's gensim comparison: 100 dimensions, window 5 (dynamic), 5 negatives of each pair's own
from unigram^0.75, subsampling t = 1e-3, 10 epochs; word2vec's plain SGD at 0.025 per pair, decayed linearly to
1e-4 of it, in batches of 4,096 pairs (the loss is their mean, so the rate is 0.025 x 4,096), compiled by XLA.
The held-out loss is the negative-sampling loss per pair on ptb.valid.txt; WordSim-353 and the analogy questions
(inside the gensim package's test data, never vendored) are for the bench.
Measured (``bench/skipgram.py``, gensim 4.4 back to back in the same run, bench/results/skipgram.json):
WordSim-353 Spearman 0.323 against gensim's 0.283 (237 pairs, 32.9% out of vocabulary for both), analogies 4.4%
against 3.8% (the 4,716 questions with all four words in PTB's vocabulary), 142 s for 10 epochs: 0.19x gensim's
words/s (goal 0.5x: missed).
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="skipgram-ptb",
        model={"class_name": "SkipGram", "config": {"vocab_size": None, "dim": 100, "negatives": 5, "seed": 0}},
        data={"loader": "ptb_skipgram", "layout": "skipgram", "window": 5, "subsample": 1e-3, "args": {}},
        batch_size=4096,
        learning_rate=0.025 * 4096,  # word2vec's 0.025 per pair; the loss is the batch's mean
        learning_rate_decay="linear",
        optimizer={"class_name": "SGD", "config": {}},
        epochs=10,
        steps_per_execution=50,  # hundreds of small steps an epoch: one call per 50 of them
        jit_compile=True,
        monitor="val_loss",
        evaluation={"window": 5},
        expected={"test_pair_loss": 2.0, "gensim_wordsim353_spearman": 0.275},
        toy={"model": {"config": {"dim": 8}}, "data": {"args": {"limit": 60}}, "batch_size": 64, "learning_rate": 0.025 * 64, "epochs": 1,
             "max_minutes": None, "steps_per_execution": 1},
    )
