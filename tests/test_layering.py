"""The package's layers stay acyclic (DEVELOPERS.md): data, objectives, layers, decoding, the class registry and
the models never import the training path, the artifact side (``zoo.hub``, ``zoo.card``, ``zoo.storage``), the
CLI, serving or the demos, at module level or inside a function; and only the models import ``zoo.models``, less
the registry's name lookup, which imports the families so that they register."""
import ast
from pathlib import Path

import pytest

from zoo.paths import REPO_ROOT

LOWER = ["zoo/data", "zoo/objectives", "zoo/layers", "zoo/decoding", "zoo/models", "zoo/registry.py", "zoo/paths.py"]
UPPER = ("zoo.training", "zoo.hub", "zoo.card", "zoo.storage", "zoo.cli", "zoo.serving", "zoo.demo", "zoo.answer_cli")
ALLOWED = {("zoo/registry.py", "zoo.models")}  # model_class(name): importing the families registers them


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def lower_files():
    for base in LOWER:
        path = REPO_ROOT / base
        yield from [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


@pytest.mark.parametrize("path", list(lower_files()), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_lower_layers_import_nothing_above_them(path):
    where = str(path.relative_to(REPO_ROOT))
    upward = [f"{where}:{line} imports {name}" for line, name in imported_modules(path)
              if (name.startswith(UPPER) or (name.startswith("zoo.models") and not where.startswith("zoo/models")))
              and (where, name) not in ALLOWED]
    assert not upward, "; ".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from zoo.training.run import train\n")
    assert [name for _, name in imported_modules(module)] == ["zoo.training.run"]
