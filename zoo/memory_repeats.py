"""Best of N repeats of a bAbI recipe, as the memory-network papers report (Sukhbaatar et al. 2015 keep the best
of 10 runs; the official code keeps the run with the lowest training error).

    python -m zoo.memory_repeats memn2n_babi_1k --repeats 3 --runs-dir runs/memn2n-repeats --models-dir saved_models

Every repeat is the recipe through ``zoo.training.train`` with its own seed (data order and the model's
``seed``: initial weights and noise), in ``<runs-dir>/seed-<k>/``, evaluated on the test split. The repeat
**published** is the one with the lowest validation error (the 10% held out of train; ``--rule valid``), or
with ``--rule train`` the lowest training error of the last epoch (the official code's rule). Both choices
and every repeat's numbers go into ``<runs-dir>/repeats.json`` and into the card (``repeats``, ``selection``).
"""
import argparse
import csv
import json
from pathlib import Path


def history_rows(run_dir):
    with open(Path(run_dir) / "history.csv") as f:
        return list(csv.DictReader(f))


def summarize(result):
    """One repeat's numbers: best validation error, last training error, test mean error and failed tasks."""
    rows = history_rows(result["run_dir"])
    valid = max(float(r["val_accuracy"]) for r in rows)
    return {"seed": result["seed"], "run_dir": result["run_dir"], "valid_error": round(100 * (1 - valid), 2),
            "train_error_last_epoch": round(100 * (1 - float(rows[-1]["accuracy"])), 2),
            "test_mean_error": result["metrics"].get("test_mean_error"),
            "test_failed_tasks": result["metrics"].get("test_failed_tasks"),
            "epochs_run": result["training"]["epochs_run"], "wall_seconds": result["training"]["wall_seconds"]}


def with_seed(recipe, seed):
    import copy
    recipe = copy.deepcopy(recipe)
    recipe.model.setdefault("config", {})["seed"] = seed
    return recipe


def run_repeats(name, repeats, runs_dir, models_dir=None, rule="valid", first_seed=0, overwrite=False, toy=False):
    from zoo.training import load_recipe, train
    from zoo.training.run import publish_run

    recipe = load_recipe(name)
    if toy:
        recipe = recipe.shrink()
    runs_dir = Path(runs_dir)
    summary_path = runs_dir / "repeats.json"
    done = json.loads(summary_path.read_text())["repeats"] if summary_path.exists() else []
    for seed in range(first_seed, first_seed + repeats):
        if any(r["seed"] == seed for r in done):
            continue
        result = train(with_seed(recipe, seed), run_dir=runs_dir / f"seed-{seed}", seed=seed, publish_artifact=False,
                       verbose=2)
        done.append(summarize(result))
        runs_dir.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(json.dumps({"recipe": name, "repeats": done}, indent=2) + "\n")
        print(f"repeat seed {seed}: {done[-1]}", flush=True)
    by_valid = min(done, key=lambda r: r["valid_error"])
    by_train = min(done, key=lambda r: r["train_error_last_epoch"])
    chosen = by_valid if rule == "valid" else by_train
    selection = {"rule": "lowest validation error (10% of train held out)" if rule == "valid"
                 else "lowest training error at the last epoch (the official code's rule)",
                 "chosen_seed": chosen["seed"], "by_validation": by_valid["seed"],
                 "by_training_error": by_train["seed"],
                 "repeats": len(done)}
    summary_path.write_text(json.dumps({"recipe": name, "repeats": done, "selection": selection}, indent=2) + "\n")
    if models_dir is None:
        return {"repeats": done, "selection": selection}
    result = publish_run(with_seed(recipe, chosen["seed"]), run_dir=chosen["run_dir"], seed=chosen["seed"],
                         models_dir=models_dir, overwrite=overwrite)
    card_path = Path(result["artifact"]) / "card.json"
    card = json.loads(card_path.read_text())
    card["repeats"], card["selection"] = done, selection
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return {"repeats": done, "selection": selection, "artifact": result["artifact"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--runs-dir", required=True)
    parser.add_argument("--models-dir", default=None, help="publish the chosen repeat here (default: do not)")
    parser.add_argument("--rule", choices=["valid", "train"], default="valid")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--toy", action="store_true")
    args = parser.parse_args(argv)
    out = run_repeats(args.recipe, args.repeats, args.runs_dir, args.models_dir, args.rule, args.first_seed,
                      args.overwrite, args.toy)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
