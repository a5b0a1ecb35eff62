# The README's commands. Each target does its own set-up: a virtualenv in
# .venv with the package and its test tools, and a browser.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
SOURCES := locust_browser tests locustfiles

.PHONY: setup demo test lint clean

setup: $(READY)

$(READY): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/locust-browser install
	touch $@

# About a minute of the whole shop journey against the embedded demo shop.
demo: $(READY)
	mkdir -p reports
	$(BIN)/locust -f locustfiles/shop.py --headless -u 10 -r 2 -t 60s \
		--html reports/shop.html

lint: $(READY)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) reports .pytest_cache .mypy_cache .ruff_cache .hypothesis
