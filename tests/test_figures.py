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
    """docs/sentence_vae.md's measured rows against bench/results/sentence_vae.json, whose shipped run is the card in
    saved_models (the README's row is held to that card by ``test_each_measured_figure_is_in_its_card``)."""
    rows = record_rows("docs/sentence_vae.md", "bench/results/sentence_vae.json",
                       {"sentence VAE, ours, shipped (decoder dropout 0.3)": "sentence-vae-ptb-bowman",
                        "sentence VAE, ours, float32 (decoder dropout 0.3)": "sentence-vae-ptb-bowman-float32",
                        "sentence VAE, ours, no decoder dropout": "sentence-vae-ptb-bowman-no-dropout",
                        "LSTM LM of the same size, ours, no dropout": "rnnlm-ptb-sentences-bowman"})
    assert len(rows) == 4
    shipped = json.loads((REPO_ROOT / "saved_models/sentence-vae-ptb-bowman/card.json").read_text())
    assert rows[0][0]["metrics"] == shipped["metrics"]
    for run, numbers in rows:
        values = [float(v) for v in run["metrics"].values() if isinstance(v, (int, float))]
        missing = [t for t in numbers if not matches(t, values)]
        assert numbers and not missing, f"{run['name']}: figures {missing} are not in its record"


def record(path):
    return json.loads((REPO_ROOT / path).read_text())


def test_the_serving_table_is_its_record():
    """docs/serving.md: in-process p50, p50 / p99 at one client and throughput at 64 clients, per model, against
    bench/results/serving.json at the precision printed; and the examples per request it states."""
    models = record("bench/results/serving.json")["models"]
    text = (REPO_ROOT / "docs/serving.md").read_text()
    rows = 0
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] not in models:
            continue
        m, rows = models[cells[0]], rows + 1
        expected = [[m["in_process"]["p50_ms"]], [m["rest"]["1"]["p50_ms"], m["rest"]["1"]["p99_ms"]],
                    [m["grpc"]["1"]["p50_ms"], m["grpc"]["1"]["p99_ms"]], [m["rest"]["64"]["throughput_rps"]],
                    [m["grpc"]["64"]["throughput_rps"]]]
        for cell, values in zip(cells[1:], expected):
            numbers = figures(cell)
            assert len(numbers) == len(values) and all(matches(t, [v]) for t, v in zip(numbers, values)), \
                f"{cells[0]}: docs/serving.md says {cell}, the record {values}"
    assert rows >= 3
    per_request = {shape[0] for m in models.values() for shape in m["request_shapes"].values()}
    words = {1: "one", 2: "two", 4: "four", 8: "eight"}
    assert len(per_request) == 1
    stated = re.search(r"(\w+) examples? per request", text).group(1)
    assert stated == words.get(per_request.pop()), f"docs/serving.md says {stated} per request"


def test_the_readme_evaluation_times_are_the_cards():
    readme = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"`zoo evaluate NAME`: (\d+) s for the VAE and (\d+) s for the IWAE", readme)
    assert match, "the README states the evaluation time of the MNIST models"
    for seconds, name in zip(match.groups(), ("vae-binarized-mnist", "iwae-binarized-mnist")):
        card = record(f"saved_models/{name}/card.json")
        assert round(card["metrics"]["evaluation_seconds"]) == int(seconds), name


def test_the_readme_estimator_speed_is_the_bench_record():
    readme = (REPO_ROOT / "README.md").read_text()
    ms = re.search(r"The k = 5,000 estimator takes (\d+) ms per test image \((\d+) minutes", readme)
    runs = [r for r in record("bench/results/vae_mnist.json")["evaluation"] if r.get("num_samples") == 5000]
    assert any(round(1000 * r["seconds_per_image"]) == int(ms.group(1))
               and round(r["extrapolated_10000_images_s"] / 60) == int(ms.group(2)) for r in runs)


def test_no_figure_without_a_record():
    """Figures once quoted with no record behind them stay reworded (issue 18)."""
    texts = [(REPO_ROOT / "README.md").read_text()] + [p.read_text() for p in (REPO_ROOT / "docs").glob("*.md")]
    for text in texts:
        assert "2.7x more CPU time" not in text and "about 6 minutes each" not in text
        for line in text.splitlines():
            if "count trigram" in line and "2.056" in line:
                assert "not kept in a record" in line


def test_the_skipgram_figures_are_its_bench_record():
    """The README's skip-gram row and docs/large_vocabularies.md's table against bench/results/skipgram.json."""
    bench = record("bench/results/skipgram.json")
    ours, peer = bench["zoo"], bench["gensim"]
    readme = next(line for line in (REPO_ROOT / "README.md").read_text().splitlines()
                  if line.startswith("| Skip-gram"))
    expected = {f"{ours['wordsim353']['spearman']:.3f}", f"{peer['wordsim353_spearman']:.3f}",
                f"{100 * ours['wordsim353']['out_of_vocabulary_share']:.1f}%",
                f"{100 * ours['analogies']['accuracy']:.1f}%", f"{100 * peer['analogy_accuracy']:.1f}%",
                f"{bench['speed_ratio_zoo_over_gensim']:.2f}x"}
    assert all(figure in readme for figure in expected), (expected, readme)
    docs = (REPO_ROOT / "docs/large_vocabularies.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in docs.splitlines() if line.startswith("| zoo `skipgram")
            or line.startswith("| gensim")}
    for label, side, spearman, accuracy in (("zoo `skipgram-ptb`", ours, ours["wordsim353"]["spearman"],
                                             ours["analogies"]["accuracy"]),
                                            ("gensim 4.4", peer, peer["wordsim353_spearman"],
                                             peer["analogy_accuracy"])):
        assert {f"{spearman:.3f}", f"{100 * accuracy:.1f}%", f"{side['seconds']:.1f} s",
                f"{side['words_per_second']:,.0f}"} <= set(c.strip().strip("*") for c in rows[label].split("|"))
    assert ours["analogies"]["questions_used"] == peer["analogy_questions_used"] == 4716
    assert f"{bench['speed_ratio_zoo_over_gensim']:.2f}x" in docs


def test_the_mutation_table_is_its_record():
    """docs/testing.md's mutation table (per file: mutants, killed, equivalent; and the total) against
    bench/results/mutation.json, and every equivalent mutant named in the doc with its reason."""
    record = json.loads((REPO_ROOT / "bench/results/mutation.json").read_text())
    expected = {}
    for row in record["mutants"].values():
        counts = expected.setdefault(f"`{row['file']}`", [0, 0, 0])
        counts[0] += 1
        counts[1] += int(row["outcome"] == "killed" and not row.get("equivalent"))
        counts[2] += int(bool(row.get("equivalent")))
    totals = record["counts"]
    expected["all"] = [totals["total"], totals["killed"], totals["equivalent"]]
    text = (REPO_ROOT / "docs/testing.md").read_text()
    table = text.split("| file | mutants | killed | equivalent |", 1)[1].split("\n\n", 1)[0]
    stated = {}
    for line in table.strip().splitlines()[1:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        stated[cells[0]] = [int(c) for c in cells[1:]]
    assert stated == expected
    assert totals["survived"] == 0 and totals["not_applied"] == 0
    for name, row in record["mutants"].items():
        if row.get("equivalent"):
            assert f"`{name}`" in text, f"equivalent mutant {name} is not explained in docs/testing.md"


def test_the_nvil_variance_table_is_its_bench_record():
    variants = record("bench/results/nvil_variance.json")["variants"]
    text = (REPO_ROOT / "docs/documents.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "RMS advantage" not in line
            and any(key in line for key in ("REINFORCE", "running mean c", "per document, l", "per word, N_d"))]
    assert len(rows) == 4
    for row, name in zip(rows, ["none", "running mean", "baseline per document", "baseline per word"]):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) == pytest.approx(variants[name]["variance_relative_to_none"], rel=5e-3)
        assert cells[2] == f"{variants[name]['rms_advantage']:.1f}"
