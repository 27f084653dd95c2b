"""Every figure of the README's model table traces to its record (issue 18): each number in the "we measured"
column must be one of the metrics in the card of the artifact its recipe publishes, at the precision printed."""
import json
import re
from pathlib import Path

import pytest

from zoo.paths import REPO_ROOT
from zoo.training import load_recipe

NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")


def table_rows():
    """(recipe, measured-column text) of every row of the README's table under "## The zoo"."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## The zoo", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or cells[0] in ("model", "---"):
            continue
        match = re.search(r"`(?:zoo train|python -m zoo\.\w+) (\w+)`", cells[2])
        if match:
            rows.append((match.group(1), cells[4], cells[3]))
    return rows


def figures(cell):
    """The measured numbers of a cell: parentheses (goals, notes) and markup removed."""
    cell = re.sub(r"\([^)]*\)", "", cell).replace("*", "")
    return [token for token in NUMBER.findall(cell)]


def matches(token, values):
    decimals = len(token.split(".")[1]) if "." in token else 0
    number = float(token.replace(",", ""))
    return any(round(v, decimals) == number for v in values)


ROWS = table_rows()


def test_the_table_is_read():
    assert len(ROWS) >= 11 and all(figures(cell) for _, cell, _ in ROWS)


@pytest.mark.parametrize("recipe, cell, metric", ROWS, ids=[r for r, _, _ in ROWS])
def test_each_measured_figure_is_in_its_card(recipe, cell, metric):
    """The figures, and the importance-sample count the metric column states (k=N), against the card."""
    name = load_recipe(recipe).name
    card_path = Path(REPO_ROOT / "saved_models" / name / "card.json")
    assert card_path.exists(), f"README cites {name} but saved_models/{name} is not shipped"
    card = json.loads(card_path.read_text())
    values = [float(v) for v in card["metrics"].values()
              if isinstance(v, (int, float)) and abs(float(v)) != float("inf")]
    missing = [t for t in figures(cell) if not matches(t, values)]
    assert not missing, f"{name}: README figures {missing} are not in its card's metrics"
    for k in re.findall(r"\bk=(\d+)", metric.replace(",", "")):
        evaluated = card.get("recipe_config", {}).get("evaluation", {}).get("num_samples")
        assert int(k) == evaluated, f"{name}: README says k={k}, the card's evaluation used {evaluated}"
