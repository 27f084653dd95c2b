"""The LSTM language model of the later PTB sentence-VAE literature (Li et al. 2019; Zhu et al. 2020), the
same-size baseline of ``sentence_vae_ptb``: the VAE's decoder without z, on the same sentence batches.

    zoo train rnnlm_ptb_sentences

One LSTM layer of 256 units, 256-dimensional word embeddings, dropout 0.5 on the LSTM's input and output, each
sentence read from the zero state after ``<eos>``; Adam, batches of 32 sentences, the best epoch by the
validation loss, early stopping after 2 epochs without improvement.
Published for this setting: PPL 100.47 (Li et al. 2019, Table 2). Goal: at most that; the sentence VAE's goal is
to beat this model. Shipped as ``rnnlm-ptb-sentences`` after 14 epochs (a 55-minute budget, still improving): NLL
106.05 per sentence, PPL 126.3 (docs/sentence_vae.md).
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="rnnlm-ptb-sentences",
        model={"class_name": "SentenceLanguageModel", "config": {
            "vocab_size": None, "embedding_dim": 256, "hidden_units": 256, "num_layers": 1, "cell": "lstm",
            "dropout": 0.5, "seed": 0}},
        data={"loader": "ptb_sentences", "args": {}, "layout": "sentences"},
        batch_size=32,
        learning_rate=1e-3,
        epochs=30,
        early_stopping_patience=2,
        monitor="val_loss",
        weights_dtype="float16",  # over the 20 MB cap at float32
        evaluation={"batch_size": 100},
        expected={"test_perplexity": 100.47, "paper_test_perplexity": 100.47},
        toy={"model": {"config": {"embedding_dim": 8, "hidden_units": 8}}, "data": {"args": {"limit": 40}},
             "batch_size": 8, "epochs": 1, "max_minutes": None},
    )
