"""Character-level LSTM language model on tiny Shakespeare (Karpathy's char-rnn, 2015).

    zoo train char_rnn_shakespeare

Data: the 1,115,394 characters of input.txt, the first 1,003,854 (90%) for training and the last 10% for
validation (nanoGPT's shakespeare_char split; there is no test part, so the reported figure is the validation
loss, as char-rnn reports it). 65 characters plus <unk>.
Model: a 128-dimensional character embedding, 2 LSTM layers of 512 units, dropout 0.25 on the non-recurrent
connections (Zaremba et al. 2014), softmax over the 66 tokens (vocab_size None: taken from the data).
Training: stateful truncated BPTT through model.fit: 64 rows of the training stream, windows of 64 characters,
the state carried across windows and reset each epoch; Adam 2e-3 with global gradient-norm clipping at 5
(char-rnn clips at 5), halved when the validation loss stops falling, within a 2-core CPU budget.
Goal: validation loss <= 1.40 nats/char (char-rnn's README shows 1.395 on its own 95/5 split).
Measured: see saved_models/char-rnn-shakespeare/card.json.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="char-rnn-shakespeare",
        model={"class_name": "RNNLanguageModel", "config": {
            "vocab_size": None, "embedding_dim": 128, "hidden_units": 512, "num_layers": 2, "cell": "lstm",
            "dropout": 0.25, "seed": 1}},
        data={"loader": "tinyshakespeare", "args": {}, "layout": "stream", "seq_len": 64},
        batch_size=64,
        learning_rate=2e-3,
        optimizer={"class_name": "Adam", "config": {"global_clipnorm": 5.0}},
        lr_plateau={"factor": 0.5, "patience": 0, "min_lr": 1e-5},
        early_stopping_patience=4,
        monitor="val_loss",
        monitor_mode="min",
        epochs=60,
        max_minutes=50,
        evaluation={"rows": 1, "chunk_length": 5000},
        # "test" is the validation 10% (the split has no test part)
        expected={"test_nats_per_token": 1.40, "char_rnn_readme_95_5_split": 1.395},
        toy={"model": {"config": {"embedding_dim": 8, "hidden_units": 16}},
             "data": {"args": {"train_chars": 3600, "limit": 3600}, "seq_len": 20}, "batch_size": 8, "epochs": 1,
             "max_minutes": None,
             "evaluation": {"rows": 4, "chunk_length": 100}},
    )
