"""Key-value memory network on bAbI 1k, one model trained jointly on all 20 tasks (Miller et al. 2016,
"Key-Value Memory Networks for Directly Reading Documents"; the paper reports no bAbI numbers: this is the
zoo's comparison with MemN2N on the same data and schedule).

    zoo train kvmemnn_babi_1k

Data: as memn2n_babi_1k (joint, 18,000 / 2,000 / 20,000 questions, the 50 most recent statements).
Model: keys = position-encoded statements, values = the same statements (value_feature "sentence"), both with a
temporal encoding; one embedding A for question, keys and values, an answer embedding B, 3 hops with learned
query updates R_j (identity at the start); no key hashing (multi-hop tasks need facts that share no word with
the question; see zoo/models/kvmemnn.py); d = 50.
Training: MemN2N's joint schedule (SGD 0.005, batch 32, summed loss, clipping at 40, RN 10%, rate halved every 15
epochs up to 60), without linear start. The best epoch by validation accuracy is kept.
Metric: per-task test error, mean, failed tasks (> 5%). Goal: a measured table beside MemN2N's.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="kvmemnn-babi-1k",
        model={"class_name": "KeyValueMemoryNetwork", "config": {
            "vocab_size": None, "memory_size": 50, "embedding_dim": 50, "hops": 3, "value_feature": "sentence",
            "temporal": True, "key_hashing": False, "random_noise": 0.1, "lr_halve_every": 15, "lr_halve_until": 60,
            "loss_reduction": "sum", "seed": 0}},
        data={"loader": "babi_1k", "args": {"tasks": "all"}, "layout": "questions"},
        batch_size=32,
        learning_rate=0.005,
        optimizer={"class_name": "SGD", "config": {"global_clipnorm": 40.0}},
        monitor="val_accuracy",
        monitor_mode="max",
        epochs=60,
        steps_per_execution=50,
        jit_compile=True,
        max_minutes=10,
        evaluation={"batch_size": 1000},
        expected={"test_mean_error": 20.0},
        toy={"model": {"config": {"embedding_dim": 8, "hops": 2}}, "data": {"args": {"tasks": [1, 8], "limit": 20}},
             "batch_size": 8, "epochs": 1, "max_minutes": None, "steps_per_execution": 1, "jit_compile": False},
    )
