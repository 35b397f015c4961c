# Two commands for a newcomer: `make demo` and `make test`. Both build .venv themselves.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Some machines' pip configuration names package folders that do not exist; pip warns
# once per package. Those lines are noise for a newcomer; every other line, and pip's exit
# status, get through.
PIP_NOISE := is ignored: it is neither a file nor a directory

.PHONY: demo test lint typecheck pytest bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@set -o pipefail; $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--upgrade pip 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@set -o pipefail; $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-e '.[dev]' 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

demo: $(STAMP)
	@$(BIN)/python -m rms_ml_push.demo.run

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
