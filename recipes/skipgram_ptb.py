"""Skip-gram with negative sampling on PTB's training text (Mikolov et al. 2013).

    zoo train skipgram_ptb

The settings of issue 11's gensim comparison: 100 dimensions, window 5 (dynamic), 5 negatives from unigram^0.75,
subsampling t = 1e-3, 10 epochs; Adam in place of word2vec's linearly decayed SGD. The held-out loss is the
negative-sampling loss per pair on ptb.valid.txt; WordSim-353 (inside the gensim package's test data, never
vendored) is for the bench. Measured with gensim 4.4 on the same corpus (issue 11): Spearman 0.275 with 33% of
pairs out of vocabulary. Not trained yet: this recipe has run only at toy size (tests/test_recipes.py).
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
