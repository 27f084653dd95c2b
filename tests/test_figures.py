"""Every figure of the README's model table traces to its record (issue 18): each number in the "we measured"
column must be one of the metrics in the card of the artifact its recipe publishes, at the precision printed."""
import csv
import functools
import json
import math
import re
from pathlib import Path

import pytest

from zoo.paths import REPO_ROOT
from zoo.training import load_recipe, recipe_names

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


def test_the_babi_tables_are_the_memory_report():
    """The bAbI tables of the README and docs/memory_networks.md are exactly what ``python -m zoo.memory_report``
    prints: the shipped models' per-task errors from their cards, the paper's and the Matlab re-runs' columns from
    the constants of ``zoo/memory_report.py`` (which cite their sources), and the means and failed counts of both."""
    from zoo import memory_report
    expected = memory_report.table({**memory_report.shipped_columns(), **memory_report.REFERENCES})
    for doc in ("README.md", "docs/memory_networks.md"):
        assert expected in (REPO_ROOT / doc).read_text(), f"{doc}: the bAbI table is not zoo.memory_report's"


# Every decimal figure of README.md and docs/*.md against the pooled records (issue 18). The tests above hold whole
# tables row by row; this one holds the rest: each figure written with a decimal point must be some record value at
# the printed precision (sign ignored, since texts quote NLLs of recorded log-likelihoods), a percentage may be a
# recorded fraction, and otherwise the figure is derived (DERIVED, checked) or allowlisted with its reason
# (UNRECORDED). Pooled matching cannot tell which record a figure came from, and short figures match some value by
# chance, so it catches a figure that is nowhere in the records rather than one taken from the wrong record.

DECIMAL = re.compile(r"(?<![\w.\-\u2212])([-\u2212]?\d[\d,]*\.\d+(?:e[-+]?\d+)?)(x|%| M\b|k\b)?(?![\w.]*\d)")
# history.csv rows are quoted as learning curves; only lines that speak of one may match them (the curves hold
# thousands of values, which would otherwise match nearly any short figure).
CURVE_LINE = re.compile(r"epoch|curve|training loss|history", re.I)
# Numeric lists longer than this (example requests, word counts) are inputs, not figures.
LONGEST_LIST = 64

PAPER = "paper figure, "
PEER = "peer's published figure"
EARLIER = "figure of an earlier run not kept in a record (the text says so)"
HISTORY = "figure of an earlier run whose record is in git history only (the text says so)"
UNRECORDED = {
    ("README.md", "88.71"): PAPER + "Burda et al. 2016 (VAE), as the README's row cites it",
    ("README.md", "88.56"): PAPER + "Tomczak & Welling 2018 (VAE), as the README's row cites it",
    ("README.md", "87.10"): PAPER + "Burda et al. 2016 (IWAE, k = 50)",
    ("README.md", "89.78"): PEER + " (Pythae's VAE on binarised MNIST)",
    ("README.md", "86.82"): PEER + " (Pythae's IWAE on binarised MNIST)",
    ("README.md", "-100.9"): EARLIER + ": the plain 784-500-500-50 MLP before the recipe changed",
    # The RBM part of the README: the log p(x) of the first shipped RBM and of the 50-epoch one, whose cards are in
    # git history only, and a hand-run AIS schedule check on four lengths (see docs/documents.md).
    ("README.md", "-120.45"): "figure of the first shipped RBM, its card in git history only (b1de7dc)",
    ("README.md", "-93.21"): "figure of the 50-epoch RBM shipped before, its card in git history only (0ea9fda)",
    ("docs/documents.md", "874.8"): EARLIER + ": the first NVDM-50 run",
    ("docs/documents.md", "961.7"): EARLIER + ": the first NVDM-200 run",
    ("docs/documents.md", "1,091.5"): EARLIER + ": the first LDA-50 evaluation, E-step tolerance 1e-3",
    ("docs/documents.md", "1,239.5"): HISTORY + ": SBN, baseline per document (4f65c5a~1)",
    ("docs/documents.md", "1,181.1"): HISTORY + ": SBN, baseline per document (4f65c5a~1)",
    ("docs/documents.md", "1,149.3"): HISTORY + ": fDARN, baseline per document (4f65c5a~1)",
    ("docs/documents.md", "1,042.5"): HISTORY + ": fDARN, baseline per document (4f65c5a~1)",
    ("docs/documents.md", "876.4"): HISTORY + ": the RSM shipped before, evaluated with 1,500 temperatures (0ea9fda)",
    ("docs/documents.md", "45.4"): "hand-run AIS schedule check, not kept in a record (the text says so)",
    ("docs/documents.md", "0.227"): "output of python -m zoo.demo_topics on the artifact, not kept (the text says so)",
    ("docs/documents.md", "0.161"): "output of python -m zoo.demo_topics on the artifact, not kept (the text says so)",
    ("docs/documents.md", "0.155"): "output of python -m zoo.demo_topics on the artifact, not kept (the text says so)",
    ("docs/documents.md", "0.083"): "output of python -m zoo.demo_topics on the artifact, not kept (the text says so)",
    ("docs/language_models.md", "-25.09"): "output of make demo on the artifact, not kept in a record (the text says so)",
    ("docs/language_models.md", "-40.60"): "output of make demo on the artifact, not kept in a record (the text says so)",
    ("docs/large_vocabularies.md", "0.267"): HISTORY + ": gensim in the bench record replaced (f967b38~1)",
    ("docs/large_vocabularies.md", "0.089"): HISTORY + ": the zoo/gensim speed in the bench record replaced "
                                             "(f967b38~1)",
}


def card(name):
    return record(f"saved_models/{name}/card.json")


def sentence_record(name):
    return record("bench/results/sentence_vae.json")["runs"][name]["metrics"]


# (file, figure) -> (derivation, its value from the records), checked at the printed precision.
DERIVED = {
    ("docs/sentence_vae.md", "2.30"): ("the minibatch I(x; z) estimator's ceiling with batches of 10, log 10",
                                       lambda: math.log(10)),
    ("docs/language_models.md", "0.029"): ("the char-RNN's card figure minus the recipe's goal, 1.429 - 1.40",
                                           lambda: card("char-rnn-shakespeare")["metrics"]["test_nats_per_token"]
                                           - load_recipe("char_rnn_shakespeare").expected["test_nats_per_token"]),
    ("docs/language_models.md", "50.5"): ("the char-RNN's training wall_seconds / 60",
                                          lambda: card("char-rnn-shakespeare")["training"]["wall_seconds"] / 60),
    ("docs/large_vocabularies.md", "0.025"): ("the skip-gram card's learning rate per batch / batch size (per pair)",
                                              lambda: card("skipgram-ptb")["training"]["learning_rate"]
                                              / card("skipgram-ptb")["training"]["batch_size"]),
    ("docs/sentence_vae.md", "25.8"): ("the shipped sentence LM's PPL minus the recipe's published 100.47",
                                       lambda: card("rnnlm-ptb-sentences")["metrics"]["test_perplexity"]
                                       - load_recipe("rnnlm_ptb_sentences").expected["paper_test_perplexity"]),
    ("docs/sentence_vae.md", "1.9"): ("the Bowman-size LM's NLL minus the shipped sentence LM's (and that minus the "
                                      "shipped VAE's, 1.90 too)",
                                      lambda: sentence_record("rnnlm-ptb-sentences-bowman")["test_nll"]
                                      - card("rnnlm-ptb-sentences")["metrics"]["test_nll"]),
    ("docs/sentence_vae.md", "21.9"): ("test tokens / test sentences of the shipped sentence VAE",
                                       lambda: sentence_record("sentence-vae-ptb-bowman")["test_tokens"]
                                       / sentence_record("sentence-vae-ptb-bowman")["test_sentences"]),
    ("docs/sentence_vae.md", "21.1"): ("the paper's NLL / ln PPL, 101 / ln 119, from the recipe's expected",
                                       lambda: load_recipe("sentence_vae_ptb_bowman").expected["paper_test_nll"]
                                       / math.log(load_recipe("sentence_vae_ptb_bowman").expected[
                                           "paper_test_perplexity"])),
}


def documents():
    """(path relative to the repository, text) of README.md and every docs/*.md."""
    paths = [REPO_ROOT / "README.md"] + sorted((REPO_ROOT / "docs").glob("*.md"))
    return [(str(p.relative_to(REPO_ROOT)), p.read_text()) for p in paths]


def decimal_figures():
    """(file, line number, figure as printed, suffix "x" / "%" / "", the line) of every decimal figure."""
    for name, text in documents():
        for number, line in enumerate(text.splitlines(), 1):
            for match in DECIMAL.finditer(line):
                yield name, number, match.group(1).replace("\u2212", "-"), match.group(2) or "", line


def json_numbers(node, out):
    """Append every number of a parsed JSON document to ``out``, and the decimal numbers written inside its strings
    (the benches' own tables and notes); long numeric lists are skipped."""
    if isinstance(node, bool):
        return
    if isinstance(node, (int, float)):
        out.append(float(node))
    elif isinstance(node, dict):
        for value in node.values():
            json_numbers(value, out)
    elif isinstance(node, list):
        if len(node) > LONGEST_LIST and all(isinstance(v, (int, float)) for v in node):
            return
        for value in node:
            json_numbers(value, out)
    elif isinstance(node, str):
        out.extend(float(t.replace(",", "")) for t in re.findall(r"\d[\d,]*\.\d+(?:e[-+]?\d+)?", node))


@functools.lru_cache(maxsize=None)
def record_values():
    """Every number of the cards and other JSON files in saved_models/*/, the bench records, the recipes'
    ``expected`` dicts (the papers' figures) and the reference columns of ``zoo.memory_report``."""
    from zoo import memory_report
    values = []
    for path in sorted(REPO_ROOT.glob("saved_models/*/*.json")) + sorted(REPO_ROOT.glob("bench/results/*.json")):
        json_numbers(json.loads(path.read_text()), values)
    for name in recipe_names():
        json_numbers(load_recipe(name).expected, values)
    json_numbers(memory_report.REFERENCES, values)
    return tuple(v for v in values if math.isfinite(v))


@functools.lru_cache(maxsize=None)
def curve_values():
    """Every cell of the shipped learning curves, saved_models/*/history.csv."""
    values = []
    for path in sorted(REPO_ROOT.glob("saved_models/*/history.csv")):
        with open(path) as f:
            values.extend(float(cell) for row in csv.DictReader(f) for cell in row.values())
    return tuple(v for v in values if math.isfinite(v))


# The scales at which a figure with this suffix may be printed: a percentage of a fraction, millions ("3.45 M"),
# thousands ("11.1k").
SCALES = {"": (1,), "x": (1,), "%": (1, 100), " M": (1e-6,), "k": (1e-3,)}


@functools.lru_cache(maxsize=None)
def printed(source, style, scale):
    """The set of |value| x ``scale`` of ``source`` ("records" or "curves") printed in ``style``, e.g. ".2f"."""
    values = record_values() if source == "records" else curve_values()
    return frozenset(f"{abs(v) * scale:{style}}" for v in values)


def has_record(figure, suffix, line):
    """Whether ``figure`` (as printed, with its suffix) is a record value at its printed precision."""
    text = figure.lstrip("-").replace(",", "")
    mantissa, _, exponent = text.partition("e")
    style = f".{len(mantissa.split('.')[1])}{'e' if exponent else 'f'}"
    sources = ["records"] + (["curves"] if CURVE_LINE.search(line) else [])
    return any(text in printed(source, style, scale) for source in sources for scale in SCALES[suffix])


def test_every_decimal_figure_has_a_record():
    """Each decimal figure of README.md and docs/*.md is a record value, a checked derivation, or allowlisted."""
    unmatched = [f"{name}:{number}: {figure}{suffix} | {line.strip()[:100]}"
                 for name, number, figure, suffix, line in decimal_figures()
                 if (name, figure) not in UNRECORDED and (name, figure) not in DERIVED
                 and not has_record(figure, suffix, line)]
    assert not unmatched, "figures with no record:\n" + "\n".join(unmatched)


def test_the_derived_figures_follow_from_their_records():
    for (name, figure), (derivation, value) in DERIVED.items():
        decimals = len(figure.split(".")[1])
        assert f"{value():.{decimals}f}" == figure, f"{name}: {figure} is not {derivation} = {value()}"


def test_the_allowlists_are_current():
    """Every allowlisted or derived figure is still printed in its file, and every allowlisted one at least once
    matches no record, so an entry is removed when its text changes or its figure gains a record."""
    unmatched = {}
    for name, _, figure, suffix, line in decimal_figures():
        unmatched[name, figure] = unmatched.get((name, figure), False) or not has_record(figure, suffix, line)
    for key in list(UNRECORDED) + list(DERIVED):
        assert key in unmatched, f"{key} is listed but not printed any more"
    for key in UNRECORDED:
        assert unmatched[key], f"{key} is allowlisted but every printing of it matches a record"
