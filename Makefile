# kanwidget: `make lab` opens the quickstart, `make test` runs every check.
# Everything lives in .venv/ and node_modules/ at the repo root; stamps keep re-runs fast.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Install the CPU wheel first: a bare `torch` requirement pulls multi-GB CUDA wheels.
TORCH_VERSION := 2.13.0
PIP_EXTRA := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

PY_STAMP := $(VENV)/.kanwidget-installed
NODE_STAMP := node_modules/.kanwidget-installed
BUNDLE := kanwidget/static/widget.js
# JupyterLab reads default overrides of its settings from <prefix>/share/jupyter/lab/settings/:
# ours turns on "Save Widget State Automatically" for the JupyterLab in .venv only (never
# the user's home), so a notebook saved from `make lab` reopens with its widgets drawn.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
JS_SOURCES := $(shell find js -type f \( -name '*.ts' -o -name '*.css' \) 2>/dev/null)

.PHONY: help venv install build lab test lint typecheck pytest vitest bench pykan-suite browser-deps clean

help:
	@echo "make lab           set up everything and open JupyterLab on the quickstart"
	@echo "make test          set up everything and run all checks and tests"
	@echo "make install       create .venv, install torch $(TORCH_VERSION) (CPU) + kanwidget[dev], npm deps, bundle"
	@echo "make build         rebuild kanwidget/static/ from js/"
	@echo "make bench         run benchmarks/*.py"
	@echo "make pykan-suite PYKAN_TUTORIALS=DIR  run pykan's tutorial notebooks on kanwidget.pykan"
	@echo "make browser-deps  install Debian chromium for the browser tests"

venv: $(PY)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# Python side: re-run when pyproject.toml changes. The build hook is skipped here because
# the bundle is built below from the same node_modules.
$(PY_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q $(PIP_EXTRA) "torch==$(TORCH_VERSION)"
	SKIP_JUPYTER_BUILDER=1 $(PY) -m pip install -q $(PIP_EXTRA) -e ".[dev]"
	@# the fused C kernel is built on first use anyway; building it here shows a failure early
	$(PY) -c "from kanwidget.kan import kernels; print('native kernel:', kernels.status())"
	touch $@

# JS side: re-run when package.json / package-lock.json change. `npm install` rather than
# `npm ci`: it follows package-lock.json too, while `npm ci` rejects a lock file whose
# optional per-platform packages (e.g. @rollup/rollup-android-*) a registry mirror lacks.
$(NODE_STAMP): package.json $(wildcard package-lock.json)
	npm install --no-audit --no-fund
	touch $@

$(BUNDLE): $(NODE_STAMP) build.mjs $(JS_SOURCES)
	npm run build

# Merged into an existing overrides.json (other settings kept), ours win on conflict.
$(LAB_OVERRIDES): etc/jupyterlab/overrides.json $(PY_STAMP)
	$(PY) -c 'import json, pathlib, sys; \
	src, dst = map(pathlib.Path, sys.argv[1:]); \
	cur = json.loads(dst.read_text()) if dst.is_file() else {}; \
	[cur.setdefault(k, {}).update(v) for k, v in json.loads(src.read_text()).items()]; \
	dst.parent.mkdir(parents=True, exist_ok=True); \
	dst.write_text(json.dumps(cur, indent=2) + "\n")' $< $@

install: $(PY_STAMP) $(NODE_STAMP) $(BUNDLE) $(LAB_OVERRIDES)

build: $(NODE_STAMP)
	npm run build

lab: install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,) notebooks/01_quickstart.ipynb

browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	npm run --silent lint

typecheck: install
	$(BIN)/mypy kanwidget/kan
	npx tsc --noEmit

pytest: install browser-deps
	$(BIN)/pytest

vitest: install
	npx vitest run --passWithNoTests

# Every step must pass; the first failure stops `make test` with a non-zero status.
test: lint typecheck pytest vitest

# benchmarks/run_all.py (if present) runs them all and writes the README table;
# otherwise each benchmarks/*.py runs in turn.
bench: install
	@if [ -f benchmarks/run_all.py ]; then $(PY) benchmarks/run_all.py; \
	else shopt -s nullglob; files=(benchmarks/*.py); \
		if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks/*.py yet" >&2; exit 1; fi; \
		for f in "$${files[@]}"; do echo "== $$f"; $(PY) "$$f"; done; fi

# pykan's own tutorials (hellokan.ipynb and docs/) with `kan` imports pointed at kanwidget.pykan.
# Get them once, outside the repository (do not commit them):
#   git clone --depth 1 https://github.com/KindXiaoming/pykan /tmp/pykan-src
#   mkdir -p DIR && git -C /tmp/pykan-src archive HEAD docs hellokan.ipynb | tar -x -C DIR
# NOTEBOOKS narrows the run (globs relative to DIR); finished notebooks are skipped on re-runs.
PYKAN_TUTORIALS ?=
PYKAN_SUITE_OUT ?= benchmarks/results/pykan_suite
NOTEBOOKS ?=
pykan-suite: install
	@if [ -z "$(PYKAN_TUTORIALS)" ] || [ ! -f "$(PYKAN_TUTORIALS)/hellokan.ipynb" ]; then \
		echo "set PYKAN_TUTORIALS=DIR holding pykan's hellokan.ipynb and docs/ (see the Makefile)" >&2; \
		exit 1; fi
	OMP_NUM_THREADS=1 $(PY) benchmarks/pykan_tutorials.py --target kanwidget.pykan --variants kanwidget \
		$(PYKAN_TUTORIALS) $(PYKAN_SUITE_OUT) $(NOTEBOOKS)

clean:
	rm -rf kanwidget/static node_modules $(PY_STAMP) .pytest_cache .mypy_cache .ruff_cache
