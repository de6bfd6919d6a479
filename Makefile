# The quick start: `make demo` and `make test` work on a fresh machine with Python 3.11, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint docs bench clean

# setup.py and the C sources too: the editable install compiles the optional kernels
$(STAMP): pyproject.toml setup.py $(wildcard src/actlab/activations/_kernels_src/*.c src/actlab/activations/_kernels_src/*.h src/actlab/activations/_kernels_src/*.def)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,test,torch,jax,docs,lint]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/actlab compare --dataset digits

test: $(STAMP) lint
	$(BIN)/python -m pytest

# ruff (lint and format) and mypy over src/, as configured in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check src
	$(BIN)/ruff format --check src
	$(BIN)/mypy

# The documentation site, offline, into docs/_build/html; any warning fails the build.
docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_functions.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache docs/_build docs/generated
