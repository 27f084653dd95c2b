"""Mixture of 20 multinomials on 20 Newsgroups, fitted by EM (the lecture deck's EM for generative models).

    zoo train mixture_20news

One epoch = one exact EM pass over the 10,000 training documents (one batch holds them all), with
Dirichlet smoothing of the word distributions (pseudo-count 0.1) and of the mixing weights (1.0); the
best pass by the exact per-document perplexity of 1,268 held-out training documents is kept.
K = 20, the number of newsgroups, so the clusters can be scored by purity against the labels.
Not in the NVDM paper's table. Measured (this recipe, seed 0): exact test perplexity 945.0 (corpus-level 929.4),
purity 0.462 against the 20 newsgroups; best pass 18 of 23, 11 s.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="mixture-20news",
        model={"class_name": "MixtureOfMultinomials", "config": {
            "vocab_size": 2000, "num_components": 20, "smoothing": 0.1, "mixing_smoothing": 1.0, "seed": 3}},
        data={"loader": "20news", "args": {"valid_size": 1268}},
        batch_size=10000,  # all training documents: one step = one EM pass
        epochs=200,
        early_stopping_patience=5,
        monitor="val_log_perplexity",
        monitor_mode="min",
        max_minutes=5,
        evaluation={"batch_size": 1000},
        expected={"test_perplexity": 1100.0},
        toy={"data": {"args": {"limit": 60, "valid_size": 20}}, "model": {"config": {"num_components": 3}},
             "epochs": 1, "max_minutes": None},
    )
