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


def record_rows(doc, record_path, first_cells):
    """(run name, figures) of the rows of ``doc``'s tables whose first cell is a key of ``first_cells`` (a row
    label -> the run of ``record_path`` it reports)."""
    runs = json.loads((REPO_ROOT / record_path).read_text())["runs"]
    rows = []
    for line in (REPO_ROOT / doc).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in first_cells:
            rows.append((runs[first_cells[cells[0]]], [t for c in cells[1:] for t in figures(c)]))
    return rows


def test_the_sentence_models_figures_are_in_their_record():
    """docs/sentence_vae.md's measured rows and the README's sentence VAE figures against
    bench/results/sentence_vae.json (the trained models are not shipped, so they have no card in saved_models)."""
    rows = record_rows("docs/sentence_vae.md", "bench/results/sentence_vae.json",
                       {"sentence VAE, ours": "sentence-vae-ptb-bowman",
                        "LSTM LM of the same size, ours": "rnnlm-ptb-sentences-bowman"})
    assert len(rows) == 2
    readme = (REPO_ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("| Sentence VAE"))
    measured = line.split("against the paper's")[0].split("test NLL", 1)[1]
    run = json.loads((REPO_ROOT / "bench/results/sentence_vae.json").read_text())["runs"]["sentence-vae-ptb-bowman"]
    rows.append((run, figures(measured.replace("k=500", ""))))
    assert re.search(r"k=(\d+)", line).group(1) == str(run["metrics"]["test_importance_samples"])
    for run, numbers in rows:
        values = [float(v) for v in run["metrics"].values() if isinstance(v, (int, float))]
        missing = [t for t in numbers if not matches(t, values)]
        assert numbers and not missing, f"{run['name']}: figures {missing} are not in its record"
