"""VAE and IWAE training speed as the shipped recipes run it, against PyTorch, timed back to back in one run.

Ours: the recipe's model (``vae_binarized_mnist``: the 784-300-300 gated MLP, 40 latents, the ELBO;
``iwae_binarized_mnist``: the same net on L_50), built and compiled by the training path
(``zoo.training.run.build_model`` / ``make_optimizer``, the recipe's ``jit_compile`` and
``steps_per_execution``) and trained by ``model.fit`` on ``zoo.data.epoch_batches`` of batch 100. The same
model compiled as before (no XLA, one step per call) is the second row. Theirs: ``bench/peers/vae_torch.py``,
the same network and loss in PyTorch (bench-only, from a peers environment given by ``--torch-python``). The
images are random binary vectors: speed does not depend on the pixels.

Rounds alternate recipe / before / PyTorch, so a slow minute hits all three. Writes the "images" part of
``bench/results/speed.json`` (the recurrent part is ``bench/recurrent_speed.py``'s).

    .venv/bin/python bench/image_speed.py --torch-python /work/peers/bin/python
"""
import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, Stopwatch, machine_info, timestamp, write_json  # noqa: E402

PEER = Path(__file__).resolve().parent / "peers" / "vae_torch.py"
RECIPES = {"vae": ("vae_binarized_mnist", 600), "iwae": ("iwae_binarized_mnist", 60)}  # recipe, timed steps
IMAGES = 5000


def ours_examples_per_second(recipe_name, steps, recipe_settings):
    """examples/s of ``model.fit`` for the recipe's model; ``recipe_settings`` True: the recipe's jit_compile and
    steps_per_execution, False: no XLA, one step per call."""
    import keras
    import numpy as np
    import tensorflow as tf

    from zoo.data import epoch_batches
    from zoo.training import load_recipe
    from zoo.training.run import build_model, make_optimizer

    recipe = load_recipe(recipe_name)
    recipe = dataclasses.replace(recipe, init_from=None)  # the IWAE's start does not change its speed
    if not recipe_settings:
        recipe = dataclasses.replace(recipe, jit_compile=False, steps_per_execution=1)
    keras.utils.set_random_seed(0)
    images = (np.random.RandomState(0).rand(IMAGES, 784) < 0.13).astype("float32")
    model = build_model(recipe, tf.constant(images[:recipe.batch_size]))
    model.compile(optimizer=make_optimizer(recipe), jit_compile=recipe.jit_compile,
                  steps_per_execution=recipe.steps_per_execution)
    per_epoch = IMAGES // recipe.batch_size
    batches = epoch_batches(images, recipe.batch_size, 0, 0, 1000).repeat()
    model.fit(batches, steps_per_epoch=per_epoch, epochs=1, verbose=0)  # trace, compile and warm up
    epochs = max(steps // per_epoch, 1)
    watch = Stopwatch()
    model.fit(batches, steps_per_epoch=per_epoch, epochs=epochs, verbose=0)
    reading = watch.read()
    return (epochs * per_epoch * recipe.batch_size / reading["wall_s"], reading["other_cores"],
            {"jit_compile": recipe.jit_compile, "steps_per_execution": recipe.steps_per_execution,
             "num_importance_samples": recipe.model["config"]["num_importance_samples"]})


def torch_examples_per_second(python, k, steps):
    out = subprocess.run([python, str(PEER), "--k", str(k), "--steps", str(steps)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(name, rounds, torch_python):
    recipe_name, steps = RECIPES[name]
    samples, load, settings = {"recipe": [], "before": [], "torch": []}, [], {}
    for r in range(rounds):
        for key, recipe_settings in (("recipe", True), ("before", False)):
            rate, other, used = ours_examples_per_second(recipe_name, steps, recipe_settings)
            samples[key].append(rate)
            settings[key] = used
            load.append(other)
        if torch_python:
            k = settings["recipe"]["num_importance_samples"]
            samples["torch"].append(torch_examples_per_second(torch_python, k, steps)["examples_per_second"])
        print(f"{name} round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in samples.items() if v), flush=True)
    ratios = {"recipe_over_before": [a / b for a, b in zip(samples["recipe"], samples["before"])]}
    if samples["torch"]:
        ratios["recipe_over_torch"] = [a / t for a, t in zip(samples["recipe"], samples["torch"])]
        ratios["before_over_torch"] = [b / t for b, t in zip(samples["before"], samples["torch"])]
    return {"recipe": recipe_name, "settings": settings, "timed_steps": steps, "examples_per_second": samples,
            "median_examples_per_second": {k: statistics.median(v) for k, v in samples.items() if v},
            "ratios_per_round": ratios, "median_ratios": {k: statistics.median(v) for k, v in ratios.items()},
            "other_cores_busy": load}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch-python", default=None, help="python of a peers venv with torch installed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=sorted(RECIPES), choices=sorted(RECIPES))
    args = parser.parse_args()
    images = {"date": timestamp(), "machine": machine_info(), "command": " ".join(sys.argv),
              "batch": 100, "optimizer": "Adam",
              "models": {name: measure(name, args.rounds, args.torch_python) for name in args.models}}
    path = RESULTS_DIR / "speed.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["images"] = images
    write_json(path, result)
    print(json.dumps({n: m["median_ratios"] for n, m in images["models"].items()}, indent=2))
    print(path)


if __name__ == "__main__":
    main()
