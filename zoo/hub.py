"""Pretrained artifacts: where they live, their cards, and ``zoo.load``.

An artifact is a folder ``<models dir>/<name>/`` holding ``card.json``, ``model.keras`` (unless the card's
config builds the model and the SavedModel's weights fill it) and numbered SavedModel version folders (TF
Serving's layout). Two places hold them, searched in this order:

* the user's models, ``$ZOO_HOME/models/`` (``~/.zoo/models`` by default): what ``zoo train`` publishes;
* the shipped models, the checkout's ``saved_models/`` (``$ZOO_MODELS_DIR`` overrides it): read-only to every
  command unless ``--overwrite`` is given (see ``zoo.training.artifact.publish``).

The class registry lives below the models, in ``zoo.registry``; this module sits above them.
"""
import dataclasses
import logging
import os
from pathlib import Path

from zoo.paths import REPO_ROOT

log = logging.getLogger("zoo")

USER = "user"
SHIPPED = "shipped"


def zoo_home():
    """The user's zoo folder: ``$ZOO_HOME`` or ``~/.zoo``; ``runs/`` and ``models/`` go there, never into the
    package."""
    return Path(os.environ.get("ZOO_HOME") or Path.home() / ".zoo").expanduser()


def user_models_dir():
    """Where ``zoo train`` publishes by default: ``$ZOO_HOME/models``."""
    return zoo_home() / "models"


def runs_dir():
    """Where run folders (checkpoints, history, TensorBoard) go by default: ``$ZOO_HOME/runs``."""
    return zoo_home() / "runs"


def shipped_models_dir():
    """The zoo's pretrained artifacts: ``$ZOO_MODELS_DIR`` or the checkout's ``saved_models/``."""
    return Path(os.environ.get("ZOO_MODELS_DIR") or REPO_ROOT / "saved_models")


def models_dir():
    """The folder ``zoo serve`` and ``zoo export`` work on by default: the shipped models."""
    return shipped_models_dir()


def is_shipped_folder(path):
    """Whether ``path`` is (or is inside) a shipped models folder, which nothing overwrites by default."""
    path = Path(path).resolve()
    roots = {shipped_models_dir().resolve(), (REPO_ROOT / "saved_models").resolve()}
    return any(path == root or root in path.parents for root in roots)


@dataclasses.dataclass(frozen=True)
class Artifact:
    """One pretrained artifact: its name, folder and origin ("user" or "shipped")."""

    name: str
    folder: Path
    origin: str

    def describe(self):
        who = "trained by you" if self.origin == USER else "shipped with the zoo"
        return f"{self.name} from {self.folder} ({who})"


def _locations():
    return ((USER, user_models_dir()), (SHIPPED, shipped_models_dir()))


def find(name, origin=None):
    """The artifact called ``name``: the user's if there is one, else the shipped one (``origin`` picks one of
    the two). A ``KeyError`` lists the known names when there is none."""
    if origin not in (None, USER, SHIPPED):
        raise ValueError(f"origin must be {USER!r}, {SHIPPED!r} or None, got {origin!r}")
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise KeyError(f"{name!r} is not a model name (a folder name such as 'vae-binarized-mnist')")
    for where, root in _locations():
        if origin in (None, where) and (root / name / "card.json").is_file():
            return Artifact(name, root / name, where)
    places = " or ".join(str(root) for where, root in _locations() if origin in (None, where))
    known = ", ".join(list_models()) or "none"
    raise KeyError(f"no pretrained model {name!r} in {places} (no card.json); known: {known}")


def list_models():
    """Names of the pretrained artifacts (the user's and the shipped ones), sorted."""
    names = set()
    for _, root in _locations():
        if root.is_dir():
            names.update(p.parent.name for p in root.glob("*/card.json"))
    return sorted(names)


def list_artifacts():
    """Every artifact, the user's first: a name trained by the user hides the shipped one of that name."""
    return [find(name) for name in list_models()]


def read_card(name, origin=None):
    """The card of ``name`` (see ``find`` for which one), checked against the card schema."""
    from zoo.card import read_card_file
    return read_card_file(find(name, origin).folder / "card.json")


def load(name, compile=True, origin=None, verify=True):
    """``zoo.load("vae-binarized-mnist")``: the pretrained Keras model, ready for inference or ``fit``.

    The user's model of that name is loaded if there is one (``origin="shipped"`` forces the zoo's); the
    logger ``zoo`` says which, and the model's ``artifact`` attribute holds the ``Artifact``. With ``verify``
    every file is checked against the sha256 its card lists, so a damaged artifact fails with the file named.
    The artifact ships without optimizer state (it stays small); with ``compile=True`` the model is compiled
    with Adam at the learning rate its card records, so ``fit`` continues training.
    """
    import keras

    import zoo.models  # noqa: F401  (registers the classes before deserialising)
    from zoo.card import check_card_matches_model, read_card_file, verify_files
    from zoo.registry import model_class

    artifact = find(name, origin)
    card = read_card_file(artifact.folder / "card.json")
    if verify:
        verify_files(artifact.folder, card)
    log.info("zoo.load: %s", artifact.describe())
    path = artifact.folder / "model.keras"
    if path.exists():
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as err:  # a truncated or foreign zip: name the file, not Keras' internals
            raise ValueError(f"{path}: cannot be read as a Keras model ({type(err).__name__}: "
                             f"{str(err)[:200]})") from None
    else:  # weights stored once, in the SavedModel (zoo.training.artifact.built_by_config)
        from zoo.export.archive import weights_from_saved_model
        model = model_class(card["model_class"]).from_config(card["model_config"])
        model.set_weights(weights_from_saved_model(_latest_version(artifact.folder)))
    check_card_matches_model(artifact.folder / "card.json", card, model)
    model.artifact = artifact
    if compile:
        lr = card.get("training", {}).get("learning_rate", 1e-3)
        model.compile(optimizer=keras.optimizers.Adam(lr))
    return model


def latest_version_dir(name, origin=None):
    """The highest numbered SavedModel folder of an artifact, as TF Serving picks it."""
    return _latest_version(find(name, origin).folder)


def _latest_version(folder):
    versions = sorted((int(p.name) for p in folder.iterdir() if p.name.isdigit()), reverse=True)
    if not versions:
        raise FileNotFoundError(f"{folder} has no numbered SavedModel version folder")
    return folder / str(versions[0])
