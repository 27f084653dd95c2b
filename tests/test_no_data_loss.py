"""No command or API call overwrites or damages an artifact it was not told to replace (issue 16's data-loss
defect: a toy run once published its model over the shipped vae-binarized-mnist)."""
import json

import numpy as np
import pytest

import zoo
from zoo import hub
from zoo.card import ArtifactError, file_manifest
from zoo.cli import main
from zoo.paths import REPO_ROOT
from zoo.training import load_recipe, recipe_names
from zoo.training.artifact import PublishRefused, destination, publish

SHIPPED = REPO_ROOT / "saved_models"


def shipped_hashes():
    return {name: file_manifest(SHIPPED / name) for name in sorted(p.parent.name for p in SHIPPED.glob("*/card.json"))}


def test_toy_runs_of_every_recipe_leave_every_shipped_file_unchanged(tiny_data_dir, zoo_home, capsys):
    before = shipped_hashes()
    cards = {name: (SHIPPED / name / "card.json").read_bytes() for name in before}
    assert before, "the checkout ships artifacts"
    for name in recipe_names():
        assert main(["train", name, "--toy"]) == 0, capsys.readouterr().err
        assert "not published" in capsys.readouterr().out
        # a toy run may not write into the shipped models even when told to
        assert main(["train", name, "--toy", "--models-dir", str(SHIPPED), "--overwrite"]) == 1
        assert "never publishes into the shipped models" in capsys.readouterr().err
    assert shipped_hashes() == before
    assert {name: (SHIPPED / name / "card.json").read_bytes() for name in before} == cards
    assert not (zoo_home / "models").exists(), "a toy run published into the user's models"
    assert sorted(p.name for p in (zoo_home / "runs").iterdir()) == sorted(
        load_recipe(n).name + "-toy" for n in recipe_names())


def test_destination_rules(zoo_home, tmp_path):
    user = zoo_home / "models"
    assert destination("m") == user / "m"                      # a real run: the user's models
    assert destination("m", toy=True) is None                  # a toy run: nowhere by default
    assert destination("m", tmp_path, toy=True) == tmp_path / "m"
    assert destination("brand-new", SHIPPED) == SHIPPED / "brand-new"   # adding a new name is allowed
    with pytest.raises(PublishRefused, match="already holds a shipped artifact; pass --overwrite"):
        destination("vae-binarized-mnist", SHIPPED)
    assert destination("vae-binarized-mnist", SHIPPED, overwrite=True) == SHIPPED / "vae-binarized-mnist"
    with pytest.raises(PublishRefused, match="toy run never publishes into the shipped models"):
        destination("brand-new", SHIPPED, toy=True, overwrite=True)
    (user / "m").mkdir(parents=True)
    (user / "m" / "card.json").write_text("{}")
    with pytest.raises(PublishRefused, match="already holds an artifact; pass --overwrite"):
        destination("m")


class ExportFails(Exception):
    pass


def test_a_failed_overwrite_keeps_the_previous_artifact(tiny_vae, tmp_path, monkeypatch):
    folder = publish(tiny_vae, np.zeros((2, 784), np.float32), {"name": "tiny"}, folder=tmp_path / "tiny")
    before = file_manifest(folder)
    card = json.loads((folder / "card.json").read_text())
    assert card["files"] == before and any(k.endswith("saved_model.pb") for k in before)
    with pytest.raises(PublishRefused):
        publish(tiny_vae, np.zeros((2, 784), np.float32), {"name": "tiny"}, folder=folder)

    def broken_export(*args, **kwargs):
        raise ExportFails("disk full")

    monkeypatch.setattr("zoo.training.artifact.export_saved_model", broken_export)
    with pytest.raises(ExportFails):
        publish(tiny_vae, np.zeros((2, 784), np.float32), {"name": "tiny"}, folder=folder, overwrite=True)
    assert file_manifest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models.config", "tiny"], "staging folders left behind"


def test_load_prefers_the_users_model_and_says_so(tiny_vae, zoo_home, monkeypatch, caplog):
    shipped = zoo_home.parent / "shipped"
    monkeypatch.setenv("ZOO_MODELS_DIR", str(shipped))
    batch = np.zeros((2, 784), np.float32)
    publish(tiny_vae, batch, {"name": "tiny"}, folder=shipped / "tiny")
    assert zoo.load("tiny").artifact.origin == "shipped"
    publish(tiny_vae, batch, {"name": "tiny"})                  # the default: $ZOO_HOME/models/tiny
    with caplog.at_level("INFO", logger="zoo"):
        model = zoo.load("tiny")
    assert model.artifact.origin == "user" and model.artifact.folder == zoo_home / "models" / "tiny"
    assert "trained by you" in caplog.text
    assert zoo.load("tiny", origin="shipped").artifact.folder == shipped / "tiny"
    assert zoo.list_models() == ["tiny"]


def test_load_names_a_damaged_file(tiny_vae, zoo_home):
    folder = publish(tiny_vae, np.zeros((2, 784), np.float32), {"name": "tiny"})
    keras_file = folder / "model.keras"
    keras_file.write_bytes(keras_file.read_bytes()[:100])      # truncated
    with pytest.raises(ArtifactError, match="model.keras: damaged"):
        zoo.load("tiny")
    (folder / "1" / "saved_model.pb").unlink()
    with pytest.raises(ArtifactError, match="saved_model.pb: missing"):
        zoo.load("tiny")


def test_card_schema_and_class_are_checked(tiny_vae, zoo_home):
    folder = publish(tiny_vae, np.zeros((2, 784), np.float32), {"name": "tiny"})
    card = json.loads((folder / "card.json").read_text())
    for broken, message in ((["a list"], "a card is a JSON object"),
                            ({**card, "model_class": 7}, "field 'model_class' must be a JSON string"),
                            ({k: v for k, v in card.items() if k != "model_config"}, "'model_config' is missing"),
                            ({**card, "name": "other"}, "field 'name' is 'other' but the folder is 'tiny'"),
                            ({**card, "model_class": "NVDM"}, "model_class is 'NVDM' but the artifact holds a VAE")):
        (folder / "card.json").write_text(json.dumps(broken))
        with pytest.raises(ArtifactError, match=message):
            zoo.load("tiny")
    (folder / "card.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(ArtifactError, match="card.json: not UTF-8"):
        hub.read_card("tiny")


def test_cli_export_refuses_to_rewrite_a_shipped_artifact(capsys):
    before = file_manifest(SHIPPED / "vae-binarized-mnist")
    assert main(["export", "vae-binarized-mnist"]) == 1
    assert "is a shipped artifact" in capsys.readouterr().err
    assert file_manifest(SHIPPED / "vae-binarized-mnist") == before
