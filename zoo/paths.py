"""Where the zoo's own files sit: the checkout (or installed tree) that holds ``zoo/``, ``recipes/`` and the
shipped ``saved_models/``. Nothing here is written by a user's run: see ``zoo.hub.zoo_home`` for that."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
