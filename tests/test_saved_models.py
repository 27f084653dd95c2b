"""Every shipped artifact in saved_models/: a complete card, a loadable model, an export equal to it."""
import numpy as np
import pytest

import zoo
from zoo import hub
from zoo.export import check_export

SHIPPED = hub.list_models()
CARD_FIELDS = {"name", "recipe", "data", "training", "metrics", "expected", "commit", "versions", "signatures",
               "model_class", "model_config", "seed"}


def test_something_is_shipped():
    assert "vae-binarized-mnist" in SHIPPED and "iwae-binarized-mnist" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_card_is_complete(name):
    card = hub.read_card(name)
    assert CARD_FIELDS <= set(card), f"missing {CARD_FIELDS - set(card)}"
    assert card["name"] == name
    assert all(len(h) == 64 for h in card["data"]["sha256"].values())
    assert card["training"]["wall_seconds"] > 0 and card["training"]["epochs_run"] >= 1
    size = sum(p.stat().st_size for p in (hub.models_dir() / name).rglob("*") if p.is_file())
    assert size < 20e6, f"{name} is {size / 1e6:.1f} MB; artifacts stay under 20 MB"


@pytest.mark.parametrize("name", SHIPPED)
def test_loads_and_matches_its_export(name):
    model = zoo.load(name, compile=False)
    assert type(model).__name__ == hub.read_card(name)["model_class"]
    report = check_export(model, hub.latest_version_dir(name))
    assert "serving_default" in report


@pytest.mark.parametrize("name", [n for n in SHIPPED if hub.read_card(n)["model_class"] == "VAE"])
def test_image_model_metrics_are_recorded(name):
    metrics = hub.read_card(name)["metrics"]
    assert metrics["test_importance_samples"] == 5000 and metrics["test_examples"] == 10000
    assert 60 < metrics["test_nll"] < -metrics["test_elbo"]
    samples = zoo.load(name, compile=False).sample(4).numpy()
    assert samples.shape == (4, 784) and np.isfinite(samples).all()
