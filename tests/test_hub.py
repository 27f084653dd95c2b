"""The registries: model classes by name, pretrained artifacts by card."""
import json

import pytest

import zoo
from zoo import hub, registry
from zoo.models import VAE


def test_model_classes_are_registered_by_name():
    assert registry.model_class("VAE") is VAE
    assert isinstance(registry.build_model("VAE", latent_dim=3), VAE)
    with pytest.raises(KeyError, match="known: .*VAE"):
        registry.model_class("GAN")


def test_pretrained_listing_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path))
    assert zoo.list_models() == []
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "card.json").write_text(json.dumps({"name": "m"}))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "card.json").write_text("{not json")
    assert zoo.list_models() == ["broken", "m"]
    with pytest.raises(KeyError, match="no pretrained model 'x'.*known: broken, m"):
        zoo.load("x")
    with pytest.raises(ValueError, match="broken/card.json: not valid JSON"):
        hub.read_card("broken")
    with pytest.raises(FileNotFoundError, match="no numbered SavedModel"):
        hub.latest_version_dir("m")
    for v in ("1", "3", "2"):
        (tmp_path / "m" / v).mkdir()
    assert hub.latest_version_dir("m").name == "3"
