"""Recipes: plain Python files in ``recipes/`` whose ``get_config()`` returns a ``Recipe``.

A recipe names everything a pretrained artifact depends on (data, model config, schedule) and
the number it is expected to reach; ``zoo train NAME`` runs it, and ``Recipe.shrink()`` gives the
toy-size version the test suite runs for one step.
"""
import copy
import dataclasses
import importlib.util
from pathlib import Path
from typing import Optional

from zoo.storage import check_weights_dtype
from zoo.paths import REPO_ROOT

RECIPES_DIR = REPO_ROOT / "recipes"
LEARNING_RATE_DECAYS = (None, "linear")


@dataclasses.dataclass
class Recipe:
    """Everything one training run needs.

    name: the artifact's name (its folder under a models directory).
    model: {"class_name": registered class, "config": constructor arguments}. A latent model's
        ``aggressive_steps`` > 0 also makes the training path end He et al.'s aggressive phase by I(x; z)
        (``zoo.training.run.aggressive_callback``).
    data: {"loader": key of ``zoo.data.DATASETS``, "args": its keyword arguments, "layout": "rows" (default)
        or "stream" with "seq_len" (token streams for stateful TBPTT, see ``zoo.training.run.make_pipelines``)}.
    learning_rate_decay: None (constant, or ``lr_plateau``'s), or "linear": from ``learning_rate`` at the first step
        to 1e-4 of it at the run's last (word2vec's schedule; ``zoo.training.run.make_optimizer``).
    optimizer: {"class_name": a Keras optimizer, "config": its arguments but the learning rate}; Adam if None.
    monitor / monitor_mode: the validation metric that picks the best epoch.
    kl_schedule: a ``zoo.objectives.schedule_from_config`` dict, or None for beta = 1.
    max_minutes: wall-clock budget; training stops at the first epoch end past it.
    init_from: a pretrained artifact whose weights start this run (same architecture; its vocabulary too).
    reinitialize: names of the model's layers whose weights are drawn afresh from their initializers after
        ``init_from`` is loaded (Li et al. 2019: keep a pretrained encoder, reset the decoder); needs init_from.
    evaluation: keyword arguments of ``model.measure`` on the test split.
    weights_dtype: "float32", or "float16" for an artifact over the 20 MB cap at float32: the weights are rounded
        to half precision before the evaluation (the card's figures are those of the shipped weights) and stored
        so (``zoo.export.precision``).
    expected: the metrics this recipe is meant to reach, for the card and the README.
    toy: overrides (nested dicts merge) that shrink the run for tests.
    is_toy: set by ``shrink()``: a toy run never publishes over a real artifact (``zoo.training.artifact``)
        and keeps its own run folder.
    """

    name: str
    model: dict
    data: dict
    batch_size: int = 100
    epochs: int = 100
    learning_rate: float = 1e-3
    learning_rate_decay: Optional[str] = None
    optimizer: Optional[dict] = None
    lr_plateau: Optional[dict] = None
    early_stopping_patience: Optional[int] = None
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    kl_schedule: Optional[dict] = None
    max_minutes: Optional[float] = None
    steps_per_execution: int = 1
    jit_compile: bool = False
    init_from: Optional[str] = None
    reinitialize: list = dataclasses.field(default_factory=list)
    evaluation: dict = dataclasses.field(default_factory=dict)
    weights_dtype: str = "float32"
    expected: dict = dataclasses.field(default_factory=dict)
    toy: dict = dataclasses.field(default_factory=dict)
    source: Optional[str] = None
    is_toy: bool = False

    def __post_init__(self):
        if self.kl_schedule is not None and self.monitor in ("loss", "val_loss"):
            raise ValueError(f"recipe {self.name}: monitor={self.monitor!r} with a kl_schedule would compare bounds "
                             "of different KL weights across epochs (the annealed loss rises as the weight grows, "
                             "so the first epoch would look best); monitor 'val_elbo' with monitor_mode 'max'")
        check_weights_dtype(self.weights_dtype)
        if self.learning_rate_decay not in LEARNING_RATE_DECAYS:
            raise ValueError(f"recipe {self.name}: learning_rate_decay must be one of {LEARNING_RATE_DECAYS}, "
                             f"got {self.learning_rate_decay!r}")
        if self.reinitialize and not self.init_from:
            raise ValueError(f"recipe {self.name}: reinitialize={list(self.reinitialize)} re-draws layers after loading "
                             "init_from, but init_from is None (every layer is freshly drawn already); set both or "
                             "neither (a toy override sets init_from None and reinitialize [])")

    def shrink(self):
        """The toy version: ``toy`` overrides merged into a copy, never touching ``self``."""
        values = copy.deepcopy(dataclasses.asdict(self))
        _merge(values, copy.deepcopy(self.toy))
        values["toy"] = {}
        values["is_toy"] = True
        return Recipe(**values)

    def to_dict(self):
        return dataclasses.asdict(self)


def _merge(base, overrides):
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def recipe_names():
    return sorted(p.stem for p in RECIPES_DIR.glob("*.py") if not p.stem.startswith("_"))


def load_recipe(name_or_path):
    """A recipe by file path or by name in ``recipes/`` ("vae_binarized_mnist" or "vae-binarized-mnist")."""
    path = Path(name_or_path)
    if path.suffix != ".py":
        path = RECIPES_DIR / (str(name_or_path).replace("-", "_") + ".py")
    if not path.exists():
        raise FileNotFoundError(f"no recipe {name_or_path!r}: {path} does not exist; known: {recipe_names()}")
    spec = importlib.util.spec_from_file_location(f"zoo_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise AttributeError(f"{path}: a recipe must define get_config() returning zoo.training.Recipe")
    recipe = module.get_config()
    if not isinstance(recipe, Recipe):
        raise TypeError(f"{path}: get_config() returned {type(recipe).__name__}, expected zoo.training.Recipe")
    recipe.source = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    return recipe
