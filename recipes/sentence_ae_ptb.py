"""Stage 1 of Li, He, Neubig, Berg-Kirkpatrick & Yang (2019), "A Surprisingly Effective Fix for Deep Latent Variable
Modeling of Text" (EMNLP): the network of ``sentence_vae_ptb`` trained as a plain autoencoder, KL weight 0 (a
constant-0 KL schedule; the KL is still computed and logged), published as ``sentence-ae-ptb``. Its encoder starts
stage 2, ``sentence_vae_ptb`` (``init_from``, decoder re-drawn, free bits).

    zoo train sentence_ae_ptb      # publishes sentence-ae-ptb into the user's models directory
    zoo train sentence_vae_ptb     # stage 2

Their stage 1 (bohanli/vae-pretraining-encoder: ``text_beta.py --beta 0``, ``config/config_ptb.py``): the same
network (1-layer LSTMs of 256, embeddings 256, 32 latents), beta 0, batches of 32, SGD at 0.5 (their README's
command; the script's default is 1.0) with the gradient norm clipped at 5, the rate halved when the validation
loss (with beta 0: the reconstruction) has not improved for 5 epochs, training ended after 5 halvings or 100
epochs, the best validation epoch kept. Here: ReduceLROnPlateau (factor 0.5, patience 5, floor 0.5 / 2^5) and
early stopping after 25 epochs without improvement stand in for their halvings (theirs also reload the best
weights at each halving and start only after epoch 15); their dropout 0.5 on the decoder's input embeddings and
outputs is the model's ``dropout``.
Expected: all 32 units active (an autoencoder has no KL pressure); the test NLL of an autoencoder means little, so
the importance sampling is short.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="sentence-ae-ptb",
        model={"class_name": "SentenceVAE", "config": {  # the architecture of sentence_vae_ptb (init_from needs it)
            "vocab_size": None, "latent_dim": 32, "embedding_dim": 256, "hidden_units": 256, "num_layers": 1,
            "z_to_inputs": True, "dropout": 0.5, "seed": 0}},
        data={"loader": "ptb_sentences", "args": {}, "layout": "sentences"},
        batch_size=32,
        optimizer={"class_name": "SGD", "config": {"global_clipnorm": 5.0}},
        learning_rate=0.5,
        lr_plateau={"factor": 0.5, "patience": 5, "min_lr": 0.5 / 2 ** 5},
        early_stopping_patience=25,
        epochs=100,
        kl_schedule={"kind": "constant", "value": 0.0},
        monitor="val_reconstruction",  # not val_loss (refused with a kl_schedule); with beta 0 they are the same
        monitor_mode="max",
        weights_dtype="float16",  # over the 20 MB cap at float32
        evaluation={"num_samples": 50, "chunk_size": 50, "batch_size": 10},
        expected={"test_active_units": 32},
        toy={"model": {"config": {"latent_dim": 2, "embedding_dim": 8, "hidden_units": 8}},
             "data": {"args": {"limit": 40}}, "batch_size": 8, "epochs": 1,
             "evaluation": {"num_samples": 4, "chunk_size": 2, "batch_size": 20}},
    )
