"""``make demo`` part: shipped bAbI models answer a few test stories, and each hop's attention over the story's
statements is drawn as a heat map (Sukhbaatar et al. 2015, Figure 2).

    from zoo.demo_memory import main; main("demo")     # or: python -m zoo.demo_memory [OUTPUT_DIR]

For every shipped bAbI model (``memn2n-babi-1k``, ``memn2n-babi-10k``, ``kvmemnn-babi-1k``, ``bilstm-babi-1k``, the
ones present) it prints the card's mean test error; for the memory networks also, on one test story of a few
tasks, the question, predicted and true answer, and every statement with its attention at each hop (``*``
marks the supporting facts), and writes ``<output_dir>/<name>-attention.png``. The stories come from the bAbI
test files in ``../shared/data`` (or ``$ZOO_DATA_DIR``); without them the part is skipped with a message.
"""
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MODELS = ("memn2n-babi-1k", "memn2n-babi-10k", "kvmemnn-babi-1k", "bilstm-babi-1k")
DEMO_TASKS = (1, 2, 3, 15)  # single, two and three supporting facts, basic deduction


def demo_stories(tasks=DEMO_TASKS, index=3):
    """One test question of each task (the ``index``-th of its file): a list of ``zoo.data.babi.Example``."""
    from zoo.data.babi import parse_file, task_file
    return [parse_file(task_file(task, "test"), task)[index] for task in tasks]


def attention_table(example, out):
    """Text lines: each statement (at most the last 12) with its attention per hop; ``*`` = supporting fact."""
    attention, story = out["attention"], [" ".join(s) for s in example.story]
    hops, first = attention.shape[0], max(0, len(story) - 12)
    lines = ["      " + " ".join(f"hop {k + 1}" for k in range(hops))]
    for i in range(first, len(story)):
        mark = "*" if i in example.supporting else " "
        lines.append(f"   {mark}  " + " ".join(f"{attention[k, i]:5.2f}" for k in range(hops)) + f"  {story[i]}")
    return lines


def heat_map(rows, path, title):
    """rows: [(example, out)] -> one PNG: for each story, statements x hops shaded by attention (Figure 2)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 1, figsize=(8.5, 1.2 + sum(min(len(ex.story), 10) * 0.28 + 0.7
                                                                     for ex, _ in rows)), squeeze=False)
    for ax, (ex, out) in zip(axes[:, 0], rows):
        first = max(0, len(ex.story) - 10)
        weights = out["attention"][:, first:].T  # (statements, hops)
        ax.imshow(weights, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ax.set_yticks(range(len(weights)))
        ax.set_yticklabels([("* " if first + i in ex.supporting else "") + " ".join(s)
                            for i, s in enumerate(ex.story[first:])], fontsize=7)
        ax.set_xticks(range(weights.shape[1]))
        ax.set_xticklabels([f"hop {k + 1}" for k in range(weights.shape[1])], fontsize=7)
        for (i, k), w in np.ndenumerate(weights):
            ax.text(k, i, f"{w:.2f}", ha="center", va="center", fontsize=6, color="white" if w > 0.5 else "black")
        ax.set_title(f"task {ex.task}: {' '.join(ex.question)}?  true: {ex.answer}  predicted: {out['answer']} "
                     f"(p={out['probability']:.2f})", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def main(output_dir="demo", names=MODELS):
    import zoo

    present = [n for n in names if n in zoo.list_models()]
    if not present:
        return
    try:
        examples = demo_stories()
    except FileNotFoundError as err:
        print(f"(no bAbI test data: {err}; skipping the memory-network demo)")
        return
    print("\nbAbI question answering (test stories; * = supporting fact; columns = attention per hop):")
    for name in present:
        card = zoo.hub.read_card(name)
        metrics = card.get("metrics", {})
        print(f"{name}: {card.get('model_class')}, mean test error {metrics.get('test_mean_error', float('nan')):.1f}% "
              f"over the 20 tasks, {metrics.get('test_failed_tasks')} failed (> 5%)")
        model = zoo.load(name, compile=False)
        rows = []
        for ex in examples:
            out = model.answer([" ".join(s) for s in ex.story], " ".join(ex.question) + "?")
            verdict = "right" if out["answer"] == ex.answer else "WRONG"
            print(f"  task {ex.task}: {' '.join(ex.question)}? predicted {out['answer']} (p={out['probability']:.2f}), "
                  f"true {ex.answer}: {verdict}")
            if "attention" in out:
                print("\n".join(attention_table(ex, out)))
                rows.append((ex, out))
        if rows:
            path = heat_map(rows, Path(output_dir) / f"{name}-attention.png", f"{name}: attention per hop")
            print(f"  attention heat map: {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
