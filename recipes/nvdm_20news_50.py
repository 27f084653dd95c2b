"""NVDM with 50 latent dimensions on 20 Newsgroups (Miao, Yu & Blunsom 2016, Table 1).

    zoo train nvdm_20news_50

The paper's network: 2,000-word bag of words -> 500-unit MLP -> Gaussian q(h|d), h in R^50, softmax
decoder over the vocabulary; ELBO with the analytic KL. Training differs from the paper (alternating
updates at Adam 5e-5 for ~1,000 epochs): joint updates with Adam 2e-3 (halved on plateaus), batch 256,
the encoder reading log(1 + counts) (3x faster progress than raw counts in a 90 s comparison:
valid perplexity 948 vs 1096 at batch 64; batch 256 at 2e-3 reached 915), the decoder bias started at
the log unigram frequencies, the best epoch by the per-document perplexity on 1,268 held-out training
documents (the test set is never looked at), within a CPU budget.
Paper: perplexity 836 (per-document, ELBO). Goal of the zoo: <= 800.
Measured (this recipe, seed 0): 860.8 (ELBO, the paper's protocol; corpus-level 819.3), importance-sampled
(k = 500) 790.5; best epoch 138 of 154, 221 s. Goal missed: see docs/documents.md for what would close it.
(A first run with learning-rate patience 4 / early stopping 10 reached 874.8.)
"""
from zoo.training import Recipe

LATENT_DIM = 50


def get_config(latent_dim=LATENT_DIM, name="nvdm-20news-50", seed=1):
    return Recipe(
        name=name,
        model={"class_name": "NVDM", "config": {
            "vocab_size": 2000, "latent_dim": latent_dim, "hidden_units": [500], "activation": "relu",
            "log_input": True, "alternating": False, "seed": seed}},
        data={"loader": "20news", "args": {"valid_size": 1268}},
        batch_size=256,
        learning_rate=2e-3,
        lr_plateau={"factor": 0.5, "patience": 8, "min_lr": 1e-5},
        early_stopping_patience=16,
        monitor="val_log_perplexity",
        monitor_mode="min",
        epochs=500,
        max_minutes=8,
        steps_per_execution=40,
        evaluation={"num_samples": 500, "elbo_samples": 20, "chunk_size": 250, "batch_size": 250},
        expected={"test_perplexity": 800.0, "paper_perplexity": 836.0},
        toy={"model": {"config": {"latent_dim": 2, "hidden_units": [8]}}, "data": {"args": {"limit": 60,
             "valid_size": 20}}, "batch_size": 16, "epochs": 1, "max_minutes": None, "steps_per_execution": 1,
             "evaluation": {"num_samples": 4, "elbo_samples": 2, "chunk_size": 2, "batch_size": 50}},
    )
