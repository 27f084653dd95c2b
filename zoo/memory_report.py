"""The bAbI results table in the layout of Sukhbaatar et al. (2015, Table 1): one row per task, test error (%) of
each shipped bAbI model (from its card) beside the paper's figures, then the mean error and the failed tasks
(error > 5%).

    python -m zoo.memory_report            # markdown, for docs/memory_networks.md and the README
"""
import sys

from zoo.data.babi import TASK_NAMES

# Sukhbaatar et al. (2015), Table 1, 1k training set, "PE LS RN joint" (3 hops): test error (%) per task. Mean 12.4,
# 11 failed tasks.
PAPER_1K_JOINT = [0.0, 11.4, 21.9, 13.4, 14.4, 2.8, 18.3, 9.3, 1.9, 6.5, 0.3, 0.1, 0.2, 6.9, 0.0, 2.7, 40.4, 9.4,
                  88.0, 0.0]
# The official Matlab code (MemN2N-babi-matlab) re-run on 1k, 3 hops PE LS RN, joint (mean 12.4) and per task (13.8),
# from the benchmark page of the MemN2N-babi-python port.
MATLAB_1K_JOINT = [0.0, 13.1, 23.4, 5.9, 12.9, 3.7, 22.9, 9.1, 2.7, 7.2, 0.8, 0.1, 0.1, 4.2, 0.0, 1.2, 43.6, 10.5,
                   86.7, 0.0]
MATLAB_1K_PER_TASK = [0.1, 8.2, 41.8, 4.4, 13.7, 7.9, 20.3, 11.7, 13.6, 9.7, 0.7, 0.0, 0.3, 0.9, 0.0, 0.4, 51.0, 10.5,
                      81.4, 0.0]
REFERENCES = {"paper PE LS RN joint (1k)": PAPER_1K_JOINT, "Matlab re-run joint (1k)": MATLAB_1K_JOINT,
              "Matlab re-run per task (1k)": MATLAB_1K_PER_TASK}
MODELS = ("memn2n-babi-1k", "kvmemnn-babi-1k", "bilstm-babi-1k", "memn2n-babi-10k")


def summary(errors):
    return sum(errors) / len(errors), sum(e > 5.0 for e in errors)


def table(columns):
    """columns: {header: [20 errors]} -> markdown in the paper's layout."""
    headers = list(columns)
    lines = ["| task | " + " | ".join(headers) + " |", "|---|" + "---|" * len(headers)]
    for t in range(1, 21):
        lines.append(f"| {t}: {TASK_NAMES[t]} | " + " | ".join(f"{columns[h][t - 1]:.1f}" for h in headers) + " |")
    means = [summary(columns[h]) for h in headers]
    lines.append("| **mean error (%)** | " + " | ".join(f"**{m:.1f}**" for m, _ in means) + " |")
    lines.append("| failed tasks (error > 5%) | " + " | ".join(str(f) for _, f in means) + " |")
    return "\n".join(lines)


def shipped_columns(names=MODELS):
    import zoo
    columns = {}
    for name in names:
        if name not in zoo.list_models():
            continue
        per_task = zoo.hub.read_card(name).get("metrics", {}).get("test_per_task_error")
        if per_task and len(per_task) == 20:
            columns[name] = [float(per_task[str(t)]) for t in range(1, 21)]
    return columns


def main(names=MODELS):
    text = table({**shipped_columns(names), **REFERENCES})
    print(text)
    return text


if __name__ == "__main__":
    main(*([sys.argv[1:]] if len(sys.argv) > 1 else []))
