# qvopt from a fresh checkout, with nothing but Python >= 3.11 and make:
#
#   make run     create $(VENV) if missing, install qvopt with its dev extras (again only
#                when pyproject.toml changed), then run VQE on H2: qvopt run $(RUN_ARGS)
#   make test    the same set-up, then pytest $(PYTEST_ARGS)
#
# Variables (make VAR=value or environment):
#   PYTHON       interpreter that creates the virtual environment   (python3)
#   VENV         virtual-environment folder                          (.venv)
#   PYTEST_ARGS  arguments for pytest, e.g. PYTEST_ARGS="tests/test_chem.py -q"
#   RUN_ARGS     arguments for `qvopt run`                           (h2)
#   PIP_FLAGS    pip install flags                                   (--quiet; PIP_FLAGS= shows pip)

PYTHON ?= python3
VENV ?= .venv
PYTEST_ARGS ?=
RUN_ARGS ?= h2
PIP_FLAGS ?= --quiet

BIN := $(VENV)/bin
# Inside the venv, so deleting the venv also forgets the install.
STAMP := $(VENV)/.qvopt-installed

.PHONY: run test install help

run: $(STAMP)
	$(BIN)/qvopt run $(RUN_ARGS)

# pytest exit 5 (nothing collected) is a failure like any non-zero exit; say so plainly.
test: $(STAMP)
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$status

install: $(STAMP)

help:
	@sed -n '1,13p' Makefile

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "qvopt needs Python >= 3.11: run make with PYTHON=python3.11 (or newer)" >&2; \
	    exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

# Order-only on the interpreter: re-install when pyproject.toml changes, not when the
# venv folder's timestamp does.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing qvopt and its dev extras into $(VENV) (a few minutes the first time)"
	$(BIN)/python -m pip install $(PIP_FLAGS) -e ".[dev]"
	@touch $@
