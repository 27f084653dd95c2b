"""Bidirectional-LSTM baseline on bAbI 1k, joint over the 20 tasks, with the lecture deck's settings ("Project 3
Results": hidden size 32, batch 16, 10 epochs).

    zoo train bilstm_babi_1k

Data: as memn2n_babi_1k (joint); the BiLSTM reads the 20 most recent statements of the 50 in memory as one word
sequence (a 2-core CPU budget: reading all 50 makes an epoch 2x slower, and an LSTM fails the long-story tasks
anyway).
Model: 32-dimensional embeddings, a BiLSTM of 32 units per direction over the story and another over the
question, the four final states concatenated, softmax over the vocabulary (zoo/models/bilstm_qa.py).
Training: Adam 1e-3, batch 16, 10 epochs, mean cross-entropy; the best epoch by validation accuracy is kept.
Metric: per-task test error, mean, failed tasks (> 5%). Reference: the LSTM of Sukhbaatar et al. (2015, Table 1,
per task) has 51.3% mean error on 1k.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="bilstm-babi-1k",
        model={"class_name": "BiLSTMReader", "config": {
            "vocab_size": None, "memory_size": 20, "embedding_dim": 32, "hidden_units": 32, "dropout": 0.0,
            "loss_reduction": "mean", "seed": 0}},
        data={"loader": "babi_1k", "args": {"tasks": "all"}, "layout": "questions"},
        batch_size=16,
        learning_rate=1e-3,
        monitor="val_accuracy",
        monitor_mode="max",
        epochs=10,
        steps_per_execution=20,
        max_minutes=15,
        evaluation={"batch_size": 500},
        expected={"test_mean_error": 50.0, "paper_lstm_test_mean_error": 51.3},
        toy={"model": {"config": {"embedding_dim": 4, "hidden_units": 4}}, "data": {"args": {"tasks": [1, 8],
             "limit": 20}}, "batch_size": 8, "epochs": 1, "max_minutes": None, "steps_per_execution": 1},
    )
