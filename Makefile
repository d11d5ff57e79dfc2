# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE := examples/agnews_tfidf_lr

.PHONY: demo test bench examples chromium clean

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

## test: the whole suite (unit, property-based, CLI, store on SQLite and PostgreSQL, HTML in Chromium, doctests).
test: $(VENV)/.installed-test
	@command -v chromium >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	$(BIN)/python -m pytest

## chromium: Debian's chromium for the HTML tests (needs root or passwordless sudo; skipped with a note otherwise).
chromium:
	@if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "chromium is missing and cannot be installed without root: the browser tests will be skipped"; exit 0; fi; \
	echo "installing Debian's chromium for the HTML tests"; \
	$$sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	  --no-install-recommends chromium >/dev/null || echo "could not install chromium: the browser tests will be skipped"

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $@

## bench: evaluation against scikit-learn and the floor; store writes against MLflow; summary of 10,000 runs.
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/bench_eval.py
	$(BIN)/python bench/bench_store.py
	$(BIN)/python bench/bench_summary.py

## examples: regenerate the committed example prediction files (needs scikit-learn).
examples: $(VENV)/.installed-test
	$(BIN)/python examples/make_agnews_tfidf_lr.py

clean:
	rm -rf build .pytest_cache .hypothesis
