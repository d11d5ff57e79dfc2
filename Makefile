# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE := examples/agnews_tfidf_lr

.PHONY: demo test bench examples clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when pyproject.toml changes; the stamp files record what was installed.
$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

## demo: evaluate the AG News example predictions, then calibrate them (embedded, no network).
demo: $(VENV)/.installed-core
	$(BIN)/runcard eval $(EXAMPLE)/test.csv --val $(EXAMPLE)/val.csv
	$(BIN)/runcard calibrate --val $(EXAMPLE)/val.csv --apply $(EXAMPLE)/test.csv --out build/demo/test_calibrated.csv

## test: the whole suite (unit, property-based, CLI, example reproduction, doctests).
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $@

## bench: evaluation (1,000,000 rows x 10 classes) against scikit-learn and the floor; store writes against MLflow.
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/bench_eval.py
	$(BIN)/python bench/bench_store.py

## examples: regenerate the committed example prediction files (needs scikit-learn).
examples: $(VENV)/.installed-test
	$(BIN)/python examples/make_agnews_tfidf_lr.py

clean:
	rm -rf build .pytest_cache .hypothesis
