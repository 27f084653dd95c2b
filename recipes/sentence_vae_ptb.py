"""Sentence VAE on Penn Treebank in the configuration of the later PTB literature (Li et al. 2019; Zhu et al.
2020): 1-layer LSTMs of 256, embeddings 256, 32 latents, z also beside every decoder input, free bits per
dimension and cyclical KL annealing (Fu et al. 2019) against posterior collapse.

    zoo train sentence_vae_ptb

Published for this setting: LSTM LM 100.47 PPL; AE pre-training + free bits 96.86 (KL 6.54, 32 active units).
Goal: PPL <= 96 with KL >= 5, >= 16 active units, and below our own LSTM LM of the same size.
Not trained yet: this recipe has run only at toy size (tests/test_recipes.py); see issue 10.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="sentence-vae-ptb",
        model={"class_name": "SentenceVAE", "config": {
            "vocab_size": None, "latent_dim": 32, "embedding_dim": 256, "hidden_units": 256, "num_layers": 1,
            "z_to_inputs": True, "word_dropout": 0.5, "free_bits": 0.2, "free_bits_mode": "dimension", "seed": 0}},
        data={"loader": "ptb_sentences", "args": {}},
        batch_size=32,
        learning_rate=1e-3,
        epochs=40,
        kl_schedule={"kind": "cyclical", "total_steps": 40 * 1315, "cycles": 4, "ratio": 0.5},
        monitor="val_loss",
        evaluation={"num_samples": 500, "chunk_size": 250, "batch_size": 100},
        expected={"test_perplexity": 96.0, "test_kl": 5.0, "paper_test_perplexity": 96.86},
        toy={"model": {"config": {"latent_dim": 2, "embedding_dim": 8, "hidden_units": 8}},
             "data": {"args": {"limit": 40}}, "batch_size": 8, "epochs": 1, "max_minutes": None,
             "kl_schedule": {"total_steps": 20},
             "evaluation": {"num_samples": 4, "chunk_size": 2, "batch_size": 20}},
    )
