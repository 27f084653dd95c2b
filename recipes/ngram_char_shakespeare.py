"""A neural character trigram model (order 2: two characters of context) on tiny Shakespeare, the Markov
model whose most probable continuation Viterbi and A* find exactly (Bengio et al. 2003's architecture).

    zoo train ngram_char_shakespeare

Data: the char-rnn split (first 1,003,854 characters train, the rest validate), as (2 previous characters,
next character) pairs. Model: 32-dimensional character embeddings, one tanh layer of 256 units, softmax over
66 tokens; its (66^2, 66) transition table is 1.1 MB, small enough for exact decoding.
Training: Adam 3e-3, batch 512, a few minutes of CPU.
Reference: an order-2 model cannot approach the LSTM (1.40 nats/char goal); its yardstick is the count-based
trigram with the same two characters of context: interpolated absolute discounting (bench/language_models.py's
ReferenceNGram, order 3, fitted on the training part) scores 2.056 nats/char on the validation part.
Goal: beat it. Measured: 2.042 (12 epochs, 83 s); see saved_models/ngram-char-shakespeare/card.json.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="ngram-char-shakespeare",
        model={"class_name": "NGramLanguageModel", "config": {
            "vocab_size": None, "order": 2, "embedding_dim": 32, "hidden_units": [256], "activation": "tanh"}},
        data={"loader": "tinyshakespeare", "args": {}, "layout": "contexts", "order": 2},
        batch_size=512,
        learning_rate=3e-3,
        lr_plateau={"factor": 0.5, "patience": 0, "min_lr": 1e-5},
        early_stopping_patience=2,
        epochs=12,
        max_minutes=6,
        steps_per_execution=20,
        evaluation={"batch_size": 8192},
        # "test" = the validation 10%; 2.056 = the count-based trigram of the docstring
        expected={"test_nats_per_token": 2.056},
        toy={"model": {"config": {"embedding_dim": 4, "hidden_units": [8]}},
             "data": {"args": {"train_chars": 3600, "limit": 3600}},
             "batch_size": 64, "epochs": 1, "max_minutes": None, "steps_per_execution": 1},
    )
