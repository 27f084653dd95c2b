"""bAbI question answering: training speed of MemN2N, the key-value memory network and the BiLSTM reader, and the
time to train all 20 tasks. Writes bench/results/memory_networks.json.

    flock /tmp/zoo-heavy.lock .venv/bin/python bench/memory_networks.py          # about 3 minutes
    .venv/bin/python bench/memory_networks.py --quick                            # a smoke run

Per model (each recipe's model, optimizer, batch, XLA and steps per call, fresh weights, the 1k joint training
split): training examples/s measured over ``--epochs`` epochs of ``model.fit`` after one warm-up epoch, with the
machine's load (other processes' cores) in the same interval. From it, the projected time to train the 20 tasks
in the paper's two regimes: joint (the recipe's epochs over 18,000 questions) and one model per task (100 epochs
over 900 questions, 20 times). The shipped runs' own wall times (their cards) are listed beside the projection.
No peer: there is no maintained memory-network package to time back to back on this machine.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR, Stopwatch, machine_info, markdown_table, timestamp, write_json  # noqa: E402

RESULTS = RESULTS_DIR / "memory_networks.json"
RECIPES = {"memn2n_babi_1k": "memn2n-babi-1k", "kvmemnn_babi_1k": "kvmemnn-babi-1k", "bilstm_babi_1k": "bilstm-babi-1k"}


def measure(recipe_name, splits, examples, epochs):

    from zoo.training import load_recipe
    from zoo.training.run import build_model, example_inputs, make_optimizer

    recipe = load_recipe(recipe_name)
    train = tuple(a[:examples] for a in splits["train"])
    data = {**splits, "train": train}
    model = build_model(recipe, example_inputs(recipe, data), data)
    model.prepare_for_data(data)
    model.compile(optimizer=make_optimizer(recipe), jit_compile=recipe.jit_compile,
                  steps_per_execution=recipe.steps_per_execution)
    from zoo.data import as_dataset
    batches = as_dataset(train, recipe.batch_size, shuffle=True, drop_remainder=True)
    model.fit(batches, epochs=1, verbose=0)  # trace, compile, warm up
    watch = Stopwatch()
    model.fit(batches, epochs=epochs, verbose=0)
    reading = watch.read()
    seen = epochs * (len(train[0]) // recipe.batch_size) * recipe.batch_size
    rate = seen / reading["wall_s"]
    joint = recipe.epochs * len(splits["train"][0]) / rate
    per_task = 20 * 100 * 900 / rate
    return {"recipe": recipe_name, "batch_size": recipe.batch_size, "jit_compile": recipe.jit_compile,
            "steps_per_execution": recipe.steps_per_execution, "examples_timed": seen,
            "examples_per_second": round(rate, 1), "cpu_seconds": round(reading["cpu_s"], 1),
            "other_cores": None if reading["other_cores"] is None else round(reading["other_cores"], 2),
            "projected_joint_minutes": round(joint / 60, 1), "joint_epochs": recipe.epochs,
            "projected_per_task_minutes_all_20": round(per_task / 60, 1)}


def shipped_wall(name):
    import zoo
    try:
        card = zoo.hub.read_card(name)
    except Exception:  # not shipped (yet)
        return None
    training = card.get("training", {})
    return {"wall_minutes": round(training.get("wall_seconds", 0) / 60, 1), "epochs_run": training.get("epochs_run"),
            "examples_per_second": training.get("examples_per_second")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--examples", type=int, default=6400, help="training questions timed per epoch")
    args = parser.parse_args(argv)
    from zoo.data.babi import load_babi

    splits = load_babi(limit=50 if args.quick else None)
    rows = []
    for recipe_name, artifact in RECIPES.items():
        examples = min(args.examples, 320 if args.quick else args.examples)
        if recipe_name.startswith("bilstm"):
            examples //= 4  # a BiLSTM epoch reads every word of every story: keep its timing short
        row = measure(recipe_name, splits, examples, 1 if args.quick else args.epochs)
        row["shipped_run"] = shipped_wall(artifact)
        rows.append(row)
        print(row, flush=True)
    result = {"bench": "memory_networks", "date": timestamp(), "machine": machine_info(), "quick": args.quick,
              "rows": rows,
              "table": markdown_table(rows, [
                  ("recipe", "recipe", None), ("examples/s", "examples_per_second", ",.0f"),
                  ("other cores busy", "other_cores", ".2f"),
                  ("joint run (projected min)", "projected_joint_minutes", ".1f"),
                  ("20 per-task models (projected min)", "projected_per_task_minutes_all_20", ".1f")])}
    if not args.quick:
        write_json(RESULTS, result)
    print(result["table"])


if __name__ == "__main__":
    main()
