# survey_stats: `make demo` runs the bundled example, `make test` runs the test suite.
# Both create .venv with the machine's Python 3.11 (or python3) on first use.
# `make test-oldest` runs the suite in .venv-oldest with every dependency at its lowest declared
# version (tools/oldest_constraints.py turns pyproject's `>=` floors into pip constraints).

PY ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
OLDEST := .venv-oldest
# The suite runs on this many processes (pytest-xdist); a test file stays on one worker, so module
# fixtures (one Spark session, one simulated evaluation) are built once.
TEST_WORKERS ?= 2

.PHONY: demo test test-oldest bench clean

# Installs print one line per package (no --quiet) so a first run is never minutes of silence.
PIP_FLAGS ?= --progress-bar on --disable-pip-version-check

$(BIN)/python:
	@echo "== creating $(VENV) with $(PY)"
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "== installing survey_stats and its dependencies (first run: a few minutes)"
	$(BIN)/python -m pip install $(PIP_FLAGS) -e ".[fonts]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "== installing survey_stats with its test extras (first run: a few minutes)"
	$(BIN)/python -m pip install $(PIP_FLAGS) -e ".[test,fonts]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python examples/suzhou_evaluation.py --out output

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

$(OLDEST)/.installed: pyproject.toml tools/oldest_constraints.py
	rm -rf $(OLDEST)
	$(PY) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) tools/oldest_constraints.py pyproject.toml test fonts > $(OLDEST)/constraints.txt
	@echo "== installing the lowest declared versions into $(OLDEST)"
	$(OLDEST)/bin/python -m pip install $(PIP_FLAGS) -c $(OLDEST)/constraints.txt -e ".[test,fonts]"
	touch $@

test-oldest: $(OLDEST)/.installed
	@echo "lowest declared versions:"; cat $(OLDEST)/constraints.txt
	$(OLDEST)/bin/python -m pytest -p no:randomly -n $(TEST_WORKERS) --dist loadfile

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/estimate.py

clean:
	rm -rf $(VENV) $(OLDEST) output
