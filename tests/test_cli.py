"""The ``zoo`` command line."""
import json

import numpy as np
import pytest

from zoo.cli import main


def png_cells(path, rows, columns, image_shape=(28, 28)):
    """The images of a ``save_grid`` PNG read back: (rows * columns, H * W) darkness in [0, 1] (the grid is drawn
    with gray_r, so darkness = 1 - gray), sampled at the centre of every canvas pixel. The canvas is located by
    its frame: the 1-pixel borders of the grid's cells have value 1 (black), so its outer lines are the first and
    last of the columns, then rows, that are as dark as the darkest (the title above it is not)."""
    import matplotlib.image
    darkness = 1.0 - matplotlib.image.imread(path)[..., 0].astype(np.float64)
    dark = darkness > 0.9
    frame_cols = np.nonzero(dark.sum(0) >= 0.95 * dark.sum(0).max())[0]        # the frame's vertical lines
    left, right = frame_cols[0], frame_cols[-1] + 1
    inside = dark[:, left:right].sum(1)
    frame_rows = np.nonzero(inside >= 0.95 * inside.max())[0]                   # and its horizontal ones
    top, bottom = frame_rows[0], frame_rows[-1] + 1
    cell_h, cell_w = image_shape[0] + 2, image_shape[1] + 2
    scale_y, scale_x = (bottom - top) / (rows * cell_h), (right - left) / (columns * cell_w)
    cells = []
    for r in range(rows):
        for c in range(columns):
            ys = top + ((r * cell_h + 1 + np.arange(image_shape[0]) + 0.5) * scale_y).astype(int)
            xs = left + ((c * cell_w + 1 + np.arange(image_shape[1]) + 0.5) * scale_x).astype(int)
            cells.append(darkness[np.ix_(ys, xs)].reshape(-1))
    return np.stack(cells)


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "recipes" in out and "vae_binarized_mnist" in out


def test_train_toy_then_evaluate_sample_export(tiny_data_dir, tmp_path, zoo_home, capsys):
    models = zoo_home / "models"  # the user's models: zoo.load finds them before the shipped ones
    assert main(["train", "vae_binarized_mnist", "--toy", "--run-dir", str(tmp_path / "run"),
                 "--models-dir", str(models)]) == 0
    assert "artifact:" in capsys.readouterr().out
    record = tmp_path / "records" / "eval.json"
    assert main(["evaluate", "vae-binarized-mnist", "--limit", "5", "--num-samples", "3", "--record", str(record)]) == 0
    metrics = json.loads(capsys.readouterr().out)  # stdout is the JSON alone (the progress bar is on stderr)
    assert metrics["examples"] == 5 and metrics["importance_samples"] == 3
    written = json.loads(record.read_text())
    # the card's evaluation settings (chunk and batch sizes) with the command line's k
    card_settings = json.loads((models / "vae-binarized-mnist" / "card.json").read_text())["recipe_config"]["evaluation"]
    settings = {**card_settings, "num_samples": 3}
    assert written["metrics"] == metrics and written["limit"] == 5 and written["arguments"] == settings
    assert written["command"] == f"zoo evaluate vae-binarized-mnist --limit 5 --num-samples 3 --record {record}"
    assert written["seconds"] >= 0
    # Issue 18: the printed NLL and ELBO are the Keras model's on the first 5 test rows with k = 3, and not
    # those of other rows or another k.
    import zoo
    from zoo.data import DATASETS
    model = zoo.load("vae-binarized-mnist", compile=False)
    test = DATASETS["binarized_mnist"].load()["test"]
    expected = model.measure(test[:5], **settings)
    assert metrics["nll"] == pytest.approx(expected["nll"], rel=1e-6)
    assert metrics["elbo"] == pytest.approx(expected["elbo"], rel=1e-6)
    assert abs(metrics["nll"] - model.measure(test[5:10], num_samples=3)["nll"]) > 1e-3
    assert abs(metrics["nll"] - model.measure(test[:5], num_samples=50)["nll"]) > 1e-3
    assert main(["sample", "vae-binarized-mnist", "--num", "4", "--output", str(tmp_path / "s.png")]) == 0
    # the PNG's pixels are the model's samples for seed 0 (pixel probabilities, 2 x 2 grid), not seed 1's
    images = model.sample(4, seed=0).numpy()
    drawn = png_cells(tmp_path / "s.png", 2, 2)
    assert np.abs(drawn - images).max() < 0.02, np.abs(drawn - images).max()
    assert np.abs(drawn - model.sample(4, seed=1).numpy()).max() > 0.04  # the toy model varies little
    assert main(["export", "vae-binarized-mnist", "--version", "2"]) == 0
    assert (models / "vae-binarized-mnist" / "2" / "saved_model.pb").exists()


def test_errors_are_reported_not_raised(capsys, tmp_path, monkeypatch):
    assert main(["train", "no_such_recipe"]) == 2
    assert "no recipe 'no_such_recipe'" in capsys.readouterr().err
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path))
    assert main(["evaluate", "nothing-here"]) == 2
    assert "no pretrained model" in capsys.readouterr().err
