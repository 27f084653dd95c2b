"""The ``zoo`` command line."""
import json

from zoo.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "recipes" in out and "vae_binarized_mnist" in out


def test_train_toy_then_evaluate_sample_export(tiny_data_dir, tmp_path, zoo_home, capsys):
    models = zoo_home / "models"  # the user's models: zoo.load finds them before the shipped ones
    assert main(["train", "vae_binarized_mnist", "--toy", "--run-dir", str(tmp_path / "run"),
                 "--models-dir", str(models)]) == 0
    assert "artifact:" in capsys.readouterr().out
    assert main(["evaluate", "vae-binarized-mnist", "--limit", "5", "--num-samples", "3"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["examples"] == 5 and metrics["importance_samples"] == 3
    assert main(["sample", "vae-binarized-mnist", "--num", "4", "--output", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    assert main(["export", "vae-binarized-mnist", "--version", "2"]) == 0
    assert (models / "vae-binarized-mnist" / "2" / "saved_model.pb").exists()


def test_errors_are_reported_not_raised(capsys, tmp_path, monkeypatch):
    assert main(["train", "no_such_recipe"]) == 2
    assert "no recipe 'no_such_recipe'" in capsys.readouterr().err
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path))
    assert main(["evaluate", "nothing-here"]) == 2
    assert "no pretrained model" in capsys.readouterr().err
