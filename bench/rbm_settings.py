"""Which training setting gives the MNIST RBM (500 hidden) its log-likelihood (issue 12): short runs of
each setting, the rate decayed linearly to 0 over the run, scored every 5 epochs by AIS (S&M's 14,500
temperatures, 100 runs) on the 10,000 test images.

    .venv/bin/python bench/rbm_settings.py [--epochs 20] [--only NAME ...]   -> bench/results/rbm_settings.json

Measured here (2-core CPU, 20 epochs each, 6 to 14 min a setting): PCD-10 at 0.005 reached -100.74 nats,
CD-25 at 0.01 -100.15, CD-10 at 0.01 -112.82, PCD-5 at 0.002 -110.38 (the record holds each
row). The first shipped model (PCD-5 at 0.01 decayed to 2% over 250 epochs, the best pseudo-likelihood epoch
kept) scored -120.45; these runs do not isolate which of its differences (k, rate, decay to 0, kept
epoch) mattered most.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from common import RESULTS_DIR  # noqa: E402

SETTINGS = {  # name: (learning rate, what differs from the recipe's RBM config; the rest is the recipe's)
    "pcd10_lr0.005": (0.005, {"cd_steps": 10, "persistent": True}),
    "cd10_lr0.01": (0.01, {"cd_steps": 10, "persistent": False}),
    "pcd5_lr0.002": (0.002, {"cd_steps": 5, "persistent": True}),
    "cd25_lr0.01": (0.01, {"cd_steps": 25, "persistent": False}),
}


def run(name, epochs, data):
    import keras
    from zoo.models.rbm import RBM
    from zoo.training import load_recipe
    learning_rate, config = SETTINGS[name]
    recipe = load_recipe("rbm_binarized_mnist").model["config"]
    model = RBM(**{**recipe, **config, "decay_steps": 500 * epochs, "final_learning_rate_fraction": 0.0})
    model.prepare_for_data(data)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), steps_per_execution=50)
    start, rows = time.time(), []
    for epoch in range(1, epochs + 1):
        model.fit(data["train"], batch_size=100, epochs=1, verbose=0, shuffle=True)
        if epoch % 5 == 0 or epoch == epochs:
            r = model.measure(data["test"], ais_runs=100)
            rows.append({"epoch": epoch, "minutes": round((time.time() - start) / 60, 1),
                         "log_prob": round(r["log_prob"], 2), "log_prob_lower": round(r["log_prob_lower"], 2),
                         "log_prob_upper": round(r["log_prob_upper"], 2),
                         "mean_free_energy": round(r["mean_free_energy"], 2)})
            print(json.dumps({"setting": name, **rows[-1]}), flush=True)
    return {"setting": name, "learning_rate": learning_rate, **config, "epochs": epochs, "scores": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--only", nargs="*", choices=sorted(SETTINGS), default=None)
    args = parser.parse_args()
    from zoo.data.binarized_mnist import load_binarized_mnist
    data = load_binarized_mnist()
    results = [run(name, args.epochs, data) for name in (args.only or SETTINGS)]
    (RESULTS_DIR / "rbm_settings.json").write_text(json.dumps(
        {"command": "bench/rbm_settings.py", "epochs": args.epochs, "runs": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
