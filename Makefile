# Two entry points, each creating or reusing the project's virtual environment:
#   make demo   solve the shipped realistic instance and write out/demo/
#   make test   run the test suite (make test-fast: only the tests that solve nothing)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-fast lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/prodbudget solve instances/appliance --sensitivity --out out/demo --force

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q --durations=15 $(PYTEST_ARGS)

# the tests that run no HiGHS (tests/conftest.py fails a test that solves without the marker)
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m "not solver" $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check solver formulations benchmarks tests

clean:
	rm -rf out .pytest_cache
