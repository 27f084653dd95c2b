# make demo | make test | make bench: each creates .venv on first use and installs the package.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist workers: CI has 2 cores and one pytest process keeps about one busy.
TEST_WORKERS ?= 2
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zoo demo

# The playground's browser tests need Chromium and its driver: installed here on a fresh Debian machine (CI
# runs as root); where neither they nor apt-get are available the tests skip and say why.
browser:
	@[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || ! command -v apt-get >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq chromium chromium-driver; } || \
		echo "could not install chromium: the playground's browser tests will skip"

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25 tests

bench: $(STAMP)
	for script in bench/*.py; do [ "$$script" = bench/common.py ] || $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build demo .pytest_cache
