"""Writes the playground's test digits (``zoo/serving/playground/digits.json``) from binarised MNIST's test split.

Run once (``python -m zoo.serving.make_playground_digits``); the output is committed. Each digit is a string of
784 '0'/'1' characters, row-major 28x28, taken from fixed test indices so the file is reproducible.
"""
import json
import os
from pathlib import Path

import numpy as np

INDICES = [0, 1300, 2600, 3900, 5200, 6500, 7800, 9100]  # spread over the split (it is ordered by class)
OUT = Path(__file__).parent / "playground" / "digits.json"


def main():
    root = Path(os.environ.get("ZOO_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data"))
    test = np.load(root / "binarized_mnist" / "binarized_mnist.npz")["test"]
    digits = ["".join("1" if v else "0" for v in test[i]) for i in INDICES]
    OUT.write_text(json.dumps({"source": "binarized_mnist test split", "indices": INDICES, "digits": digits}) + "\n")
    print(f"wrote {len(digits)} digits to {OUT}")


if __name__ == "__main__":
    main()
