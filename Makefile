# make demo | make test | make bench: each creates .venv on first use and installs the package.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zoo demo

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	for script in bench/*.py; do [ "$$script" = bench/common.py ] || $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build demo .pytest_cache
