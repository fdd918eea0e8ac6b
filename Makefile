# Two commands on a fresh machine: `make run` serves the demo, `make test` runs
# every check. Both create .venv on first use and install into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := constraints/dev.txt
PLUGINS := $(wildcard plugins/*/pyproject.toml)
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGINS))

.PHONY: run test lint typecheck pytest browser redis bench bench-quick docs docs-serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Everything the demo needs: the core and the plugins it names.
$(VENV)/.run-installed: $(BIN)/python core/pyproject.toml $(PLUGINS) $(CONSTRAINTS)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e core $(addprefix -e ,$(PLUGIN_DIRS))
	touch $@

# Everything the checks need: the above plus the pinned test and lint tools.
$(VENV)/.test-installed: $(VENV)/.run-installed constraints/test-tools.txt
	$(PIP) install --quiet -c $(CONSTRAINTS) -r constraints/test-tools.txt
	touch $@

$(VENV)/.bench-installed: $(VENV)/.test-installed constraints/bench.txt
	$(PIP) install --quiet -c $(CONSTRAINTS) -r constraints/bench.txt
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/lanner serve examples.demo:app --host 127.0.0.1 --port 8000

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

# The demo's end-to-end test drives a real headless Chromium (Debian's package);
# this installs it when missing and does nothing otherwise.
browser:
	.ci/install-browser

# The broadcast_redis tests start private redis-server processes (Debian's package);
# this installs it when missing and does nothing otherwise.
redis:
	.ci/install-redis

pytest: $(VENV)/.test-installed browser redis
	$(BIN)/python -m pytest --cov --cov-report=term

test: lint typecheck pytest

# Both runs include the fan-out across workers over a private redis-server.
bench: $(VENV)/.bench-installed redis
	$(BIN)/python -m bench --full

bench-quick: $(VENV)/.bench-installed redis
	$(BIN)/python -m bench --quick

# The documentation site, built in strict mode into site/ with no network access.
docs: $(VENV)/.test-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Serve the built site on http://127.0.0.1:8001/ (Ctrl+C to stop).
docs-serve: docs
	$(BIN)/python -m http.server 8001 --bind 127.0.0.1 --directory site

clean:
	rm -rf $(VENV) site .mypy_cache .ruff_cache .pytest_cache .coverage
