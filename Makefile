# nndesk: `make run` launches the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test test-fast bench package lint screenshots clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install -q -e ".[test]"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	@scripts/system_deps.sh
	$(VENV)/bin/nndesk

test: $(VENV)/.installed-test
	@scripts/system_deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(PY) benchmarks/engine_vs_peers.py

lint: $(VENV)/.installed-test
	$(PY) -m ruff check nndesk tests benchmarks
	$(VENV)/bin/lint-imports

screenshots: $(VENV)/.installed-test
	@scripts/system_deps.sh
	$(PY) docs/screenshots.py
	$(PY) docs/screenshots_race.py

package:
	packaging/build.sh

clean:
	rm -rf build dist *.egg-info .pytest_cache
