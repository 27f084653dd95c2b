"""The model card (``card.json``): its schema, the sha256 manifest of the artifact's files, and the checks
``zoo.load`` and ``zoo serve`` run before trusting an artifact.

A card is a JSON object; the fields every loader relies on, with their types, are ``REQUIRED``. ``files``
``storage`` says how the weights are stored (``weights_dtype``, see ``zoo.export.precision``). ``files``
maps each file of the artifact (path relative to its folder, ``/``-separated) to its sha256; it is written
by ``zoo.training.artifact.publish`` and checked on load, so a truncated ``model.keras`` or a damaged
SavedModel is named as such instead of failing deep inside Keras or TensorFlow.
"""
import json
from pathlib import Path

from zoo.data.files import sha256_of
from zoo.data.reading import excerpt

CARD = "card.json"
REQUIRED = {"name": str, "model_class": str, "model_config": dict}
OPTIONAL = {"metrics": dict, "signatures": dict, "training": dict, "data": dict, "files": dict,
            "expected": dict, "storage": dict}


class ArtifactError(ValueError):
    """An artifact that cannot be trusted: a card that breaks the schema, or a file that is missing
    or damaged. The message names the file."""


def read_card_file(path):
    """The card at ``path`` as a dict, after checking it is a JSON object with the ``REQUIRED`` fields."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ArtifactError(f"{path}: not UTF-8 text (byte {err.start}); a card is JSON") from None
    try:
        card = json.loads(text)
    except json.JSONDecodeError as err:
        raise ArtifactError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    if not isinstance(card, dict):
        raise ArtifactError(f"{path}: a card is a JSON object, found {type(card).__name__}")
    for field, kind in {**REQUIRED, **OPTIONAL}.items():
        if field not in card:
            if field in REQUIRED:
                raise ArtifactError(f"{path}: field {field!r} is missing")
            continue
        if not isinstance(card[field], kind):
            raise ArtifactError(f"{path}: field {field!r} must be a JSON {_json_type(kind)}, found "
                                f"{excerpt(json.dumps(card[field]))}")
    if card["name"] != path.parent.name:
        raise ArtifactError(f"{path}: field 'name' is {excerpt(card['name'])!s} but the folder is "
                            f"{path.parent.name!r}")
    return card


def file_manifest(folder):
    """{relative path: sha256} of every file under ``folder`` except the card itself."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): sha256_of(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != CARD}


def verify_files(folder, card):
    """Raises ``ArtifactError`` naming the first file that is missing or whose sha256 differs from the card's
    ``files`` manifest. Files the manifest does not list (``history.csv`` written later, say) are allowed;
    a card without a manifest (an artifact published before manifests) is not checked."""
    manifest = card.get("files")
    if not manifest:
        return
    folder = Path(folder)
    for relative, expected in manifest.items():
        path = folder / relative
        if not path.is_file():
            raise ArtifactError(f"{path}: missing (listed in {folder / CARD}); the artifact is incomplete")
        if sha256_of(path) != expected:
            raise ArtifactError(f"{path}: damaged: its sha256 differs from the one in {folder / CARD} "
                                f"(truncated or modified after publishing); re-publish or restore it")


def check_card_matches_model(card_path, card, model):
    """Raises ``ArtifactError`` when the loaded model is not of the card's ``model_class``."""
    if type(model).__name__ != card["model_class"]:
        raise ArtifactError(f"{card_path}: model_class is {card['model_class']!r} but the artifact holds a "
                            f"{type(model).__name__}")


def _json_type(kind):
    return {str: "string", dict: "object", list: "array"}.get(kind, kind.__name__)
