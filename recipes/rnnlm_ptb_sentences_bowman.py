"""The LSTM language model of Bowman et al. (2016, Table 2) on Penn Treebank sentences: the same-size baseline
of ``sentence_vae_ptb_bowman`` (the VAE's decoder without z), on the same sentence batches.

    zoo train rnnlm_ptb_sentences_bowman

One LSTM layer of 191 units, 353-dimensional word embeddings, each sentence read from the zero state after
``<eos>``; Adam, batches of 32 sentences, the best epoch by the validation loss (the test set is never looked at).
Paper: test NLL 100 per sentence, PPL 116 (``<eos>`` counted). Goal: the paper's figures or lower.
Measured (``--max-minutes 20``; early stopping after 10 epochs, best at 8): NLL 107.9, PPL 137.7: it overfits
without dropout (docs/sentence_vae.md, bench/results/sentence_vae.json).
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="rnnlm-ptb-sentences-bowman",
        model={"class_name": "SentenceLanguageModel", "config": {
            "vocab_size": None, "embedding_dim": 353, "hidden_units": 191, "num_layers": 1, "cell": "lstm",
            "dropout": 0.3, "seed": 0}},  # as the VAE decoder of sentence_vae_ptb_bowman
        data={"loader": "ptb_sentences", "args": {}, "layout": "sentences"},
        batch_size=32,
        learning_rate=1e-3,
        epochs=20,
        early_stopping_patience=2,
        monitor="val_loss",
        weights_dtype="float16",  # 22 MB at float32, over the 20 MB cap
        evaluation={"batch_size": 100},
        expected={"test_nll": 100.0, "test_perplexity": 116.0, "paper_test_nll": 100.0,
                  "paper_test_perplexity": 116.0},
        toy={"model": {"config": {"embedding_dim": 8, "hidden_units": 8}}, "data": {"args": {"limit": 40}},
             "batch_size": 8, "epochs": 1, "max_minutes": None},
    )
