# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv if it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE := examples/agnews_tfidf_lr

.PHONY: demo test bench examples chromium clean stance stance-quick

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when pyproject.toml changes; the stamp files record what was installed.
$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(VENV)/.installed-train: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[train,ui]'
	touch $@

# Prints the run id on stdout and the card paths on stderr, from `runcard run --json`.
RUN_ID := $(BIN)/python -c 'import json, sys; d = json.load(sys.stdin); print("card:", d["card"], "and", d["card_html"], file=sys.stderr); print(d["run"])'

## demo: the AG News agent-action experiment (TF-IDF + MLP), a logistic-regression run beside it, and their comparison.
demo: $(VENV)/.installed-train
	@set -eo pipefail; \
	a=$$($(BIN)/runcard run examples/agnews_actions.toml --json | $(RUN_ID)); \
	b=$$($(BIN)/runcard run examples/agnews_actions_logreg.toml --json | $(RUN_ID)); \
	$(BIN)/runcard compare $$a $$b --out build/cards/compare-$$a-$$b.md; \
	$(BIN)/runcard compare $$a $$b --html --out build/cards/compare-$$a-$$b.html; \
	$(BIN)/runcard runs --project agnews-actions

$(VENV)/.installed-encoders: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[encoders]'
	touch $@

## stance: SemEval-2016 stance + sentiment over all-MiniLM-L6-v2, baseline and imbalance-handled (about 20 minutes
## on 2 cores), and their comparison. The data is not redistributable: the configs read it from ../shared/data.
stance: $(VENV)/.installed-encoders
	@set -eo pipefail; \
	a=$$($(BIN)/runcard run examples/stance_sentiment_baseline.toml --json | $(RUN_ID)); \
	b=$$($(BIN)/runcard run examples/stance_sentiment.toml --json | $(RUN_ID)); \
	$(BIN)/runcard compare $$a $$b --out build/cards/compare-$$a-$$b.md; \
	$(BIN)/runcard compare $$a $$b --html --out build/cards/compare-$$a-$$b.html; \
	echo "comparison: build/cards/compare-$$a-$$b.md and .html"

## stance-quick: the imbalance-handled config on a small subsample, to try the pipeline (under 2 minutes).
stance-quick: $(VENV)/.installed-encoders
	$(BIN)/runcard run examples/stance_sentiment.toml --quick

## test: lint (ruff), types (mypy), then the whole suite (unit, property-based, CLI, store on SQLite and PostgreSQL,
## HTML and the UI in Chromium, doctests, the layer contract of docs/architecture.md).
test: $(VENV)/.installed-test
	@command -v chromium >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
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
	$(BIN)/python bench/bench_semantic.py

## examples: regenerate the committed example prediction files (needs scikit-learn).
examples: $(VENV)/.installed-test
	$(BIN)/python examples/make_agnews_tfidf_lr.py

clean:
	rm -rf build .pytest_cache .hypothesis
