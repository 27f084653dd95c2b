"""Sentence VAE on Penn Treebank trained with aggressive inference-network updates: He, Spokoyny, Neubig &
Berg-Kirkpatrick (2019), "Lagging Inference Networks and Posterior Collapse in Variational Autoencoders" (ICLR),
Algorithm 1, on the network of ``sentence_vae_ptb`` (Li et al. 2019's PTB configuration), from scratch.

    zoo train sentence_vae_ptb_aggressive

Their text setting (jxhe/vae-lagging-encoder, ``text.py`` and its README's command ``--aggressive 1 --warm_up 10
--kl_start 0.1``): SGD at 1.0 for both networks, gradient norm clipped at 5, batches of 32, the KL weight rising
linearly from 0.1 to 1 over the first 10 epochs; while aggressive, each batch first runs encoder-only steps on
fresh batches until the bound stops improving (``zoo.models.aggressive``, at most ``aggressive_steps``), and the
aggressive phase ends after the first epoch at which I(x; z) on validation data stops rising
(``AggressiveUntilInformationPlateaus``); the rate is halved after 2 epochs without validation improvement, at
most 5 times. The network (1-layer LSTMs of 256, embeddings 256, 32 latents, z beside every decoder input, dropout
0.5 on the decoder's input and output) is Li et al.'s, whose Table 2 reports aggressive training on PTB.

Differences: at most 30 inner steps a batch (theirs 99) to bound the cost on a CPU; ReduceLROnPlateau (factor 0.5,
patience 2, floor 1 / 2^5) and early stopping after 12 epochs without improvement stand in for their halvings
(which reload the best weights and start only after epoch 15).

Published for this setting (Li et al. 2019, Table 2, PTB): PPL 99.83 with KL 0.93, against their LSTM LM's
100.47. Expected here: the paper's figures, a KL above 0 (the point of the method) and a PPL at or below the same-size LM's
(``rnnlm_ptb_sentences``).
Not trained yet: this recipe has run only at toy size (tests/test_recipes.py); see issue 10.
"""
from zoo.training import Recipe

STEPS_PER_EPOCH = 1315  # 42,068 training sentences in batches of 32


def get_config():
    return Recipe(
        name="sentence-vae-ptb-aggressive",
        model={"class_name": "SentenceVAE", "config": {
            "vocab_size": None, "latent_dim": 32, "embedding_dim": 256, "hidden_units": 256, "num_layers": 1,
            "z_to_inputs": True, "dropout": 0.5, "aggressive_steps": 30, "seed": 0}},
        data={"loader": "ptb_sentences", "args": {}, "layout": "sentences"},
        batch_size=32,
        optimizer={"class_name": "SGD", "config": {"global_clipnorm": 5.0}},
        learning_rate=1.0,
        lr_plateau={"factor": 0.5, "patience": 2, "min_lr": 1.0 / 2 ** 5},
        early_stopping_patience=12,
        epochs=100,
        kl_schedule={"kind": "linear", "warmup_steps": 10 * STEPS_PER_EPOCH, "start": 0.1, "end": 1.0},
        monitor="val_elbo",  # not val_loss: its KL weight changes with the annealing schedule
        monitor_mode="max",
        weights_dtype="float16",  # over the 20 MB cap at float32
        evaluation={"num_samples": 500, "chunk_size": 50, "batch_size": 10},
        expected={"test_perplexity": 99.83, "test_kl": 0.93, "paper_test_perplexity": 99.83, "paper_test_kl": 0.93},
        toy={"model": {"config": {"latent_dim": 2, "embedding_dim": 8, "hidden_units": 8, "aggressive_steps": 3}},
             "data": {"args": {"limit": 40}}, "batch_size": 8, "epochs": 1, "max_minutes": None,
             "kl_schedule": {"warmup_steps": 20},
             "evaluation": {"num_samples": 4, "chunk_size": 2, "batch_size": 20}},
    )
