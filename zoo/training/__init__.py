"""The zoo's training path: recipes, the ``fit`` driver, callbacks and artifact publishing."""
from zoo.training.recipe import Recipe, load_recipe, recipe_names

__all__ = ["Recipe", "load_recipe", "recipe_names", "train"]


def train(*args, **kwargs):
    """See ``zoo.training.run.train`` (imported lazily: it pulls in TensorFlow)."""
    from zoo.training.run import train as _train
    return _train(*args, **kwargs)
