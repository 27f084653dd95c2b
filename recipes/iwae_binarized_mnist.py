"""IWAE with k = 50 on statically binarised MNIST (Burda, Grosse & Salakhutdinov 2016).

    zoo train iwae_binarized_mnist

Same network as ``vae_binarized_mnist``; trained on the importance-weighted bound L_50. Burda et
al. train 3,280 epochs from scratch; a k = 50 epoch costs about 25 VAE epochs here (the decoder
runs 50 times per image), which a 2-core CPU cannot afford, so this recipe starts from the
shipped VAE's weights (``init_from``) and continues on L_50: the objective, not the start,
is what makes the IWAE (Burda et al. Sec. 5 show the same bound improving a trained VAE).
Expected: test NLL (k = 5000) <= 86.5 nats; paper 87.10, Pythae 86.82.
"""
from zoo.training import Recipe


def get_config():
    return Recipe(
        name="iwae-binarized-mnist",
        model={"class_name": "VAE", "config": {
            "input_size": 784, "latent_dim": 40, "hidden_units": [300, 300], "activation": None,
            "gated": True, "architecture": "mlp", "num_importance_samples": 50, "seed": 2}},
        data={"loader": "binarized_mnist", "args": {}},
        init_from="vae-binarized-mnist",
        batch_size=100,
        learning_rate=3e-4,
        lr_plateau={"factor": 0.5, "patience": 5, "min_lr": 1e-5},
        early_stopping_patience=15,
        # The IWAE trains on L_50; its validation loss (-L_50) picks the best epoch.
        monitor="val_loss",
        monitor_mode="min",
        epochs=1000,
        max_minutes=45,
        steps_per_execution=10,
        evaluation={"num_samples": 5000, "chunk_size": 500, "batch_size": 100},
        expected={"test_nll": 86.5},
        toy={"model": {"config": {"latent_dim": 2, "hidden_units": [8], "num_importance_samples": 3}},
             "data": {"args": {"limit": 100}}, "init_from": None, "epochs": 1, "max_minutes": None,
             "evaluation": {"num_samples": 4, "chunk_size": 2, "batch_size": 50}},
    )
