"""DocNADE with 50 hidden units on 20 Newsgroups (Larochelle & Lauly 2012), the NVDM paper's DocNADE-50 row.

    zoo train docnade_20news_50

Exact autoregressive likelihood with a full 2,000-way softmax, a fresh random word order per document
at every step; each step's loss uses a random 20% of the conditionals (an unbiased estimate of the
full log-likelihood's gradient, 5x cheaper; evaluation uses all of them). Adam, batch 64; the best
epoch by the per-document perplexity of 1,268 held-out training documents is kept.
Paper: DocNADE-50 896. Goal of the zoo: <= 896. Measured (this recipe, seed 0): 807.6 (corpus-level 762.8),
exact; still improving when the 9-minute budget ran out (62 epochs).
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="docnade-20news-50",
        model={"class_name": "DocNADE", "config": {
            "vocab_size": 2000, "hidden_units": 50, "activation": "sigmoid", "train_fraction": 0.2, "seed": 5}},
        data={"loader": "20news", "args": {"valid_size": 1268}},
        batch_size=64,
        learning_rate=1e-3,
        lr_plateau={"factor": 0.5, "patience": 2, "min_lr": 1e-5},
        early_stopping_patience=5,
        monitor="val_log_perplexity",
        monitor_mode="min",
        epochs=200,
        max_minutes=9,
        steps_per_execution=20,
        evaluation={"batch_size": 200},
        expected={"test_perplexity": 896.0, "paper_perplexity": 896.0},
        toy={"data": {"args": {"limit": 60, "valid_size": 20}}, "model": {"config": {"hidden_units": 4}},
             "batch_size": 16, "epochs": 1, "max_minutes": None, "steps_per_execution": 1},
    )
