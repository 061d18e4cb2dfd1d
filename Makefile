# Navbat: `make run` starts the hub, `make test` runs every test.
# Both set up what they need first and skip what is already up to date.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
ASSETS := node_modules/.installed

.PHONY: run test lint format bench setup clean reset-pin reset-password screenshots

# RUN_ARGS passes flags to the hub, e.g. make run RUN_ARGS="--host 127.0.0.1".
run: $(RUNTIME) $(ASSETS)
	$(PY) -m server run $(RUN_ARGS)

test: $(DEV) $(ASSETS)
	@scripts/ensure-chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# BENCH_ARGS passes flags to the hub bench, e.g. make bench BENCH_ARGS="--profile".
bench: $(DEV) $(ASSETS)
	$(PY) bench/print_render.py
	$(PY) bench/patient_search.py
	$(PY) bench/estimate_replay.py
	$(PY) bench/hub_latency.py $(BENCH_ARGS)

screenshots: $(DEV) $(ASSETS)
	@scripts/ensure-chromium
	$(PY) scripts/screenshots.py
	$(PY) scripts/screenshots_booking.py

reset-pin: $(RUNTIME)
	@test -n "$(DENTIST)" || { echo "usage: make reset-pin DENTIST=<id from config.toml>"; exit 2; }
	$(PY) -m server reset-pin "$(DENTIST)"

reset-password: $(RUNTIME)
	@test -n "$(USER_NAME)" || { echo "usage: make reset-password USER_NAME=admin"; exit 2; }
	$(PY) -m server reset-password "$(USER_NAME)"

setup: $(DEV) $(ASSETS)

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 or newer is needed: apt-get install python3 python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip

$(RUNTIME): requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(DEV): requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(RUNTIME)

$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Node.js and npm are needed for the pages' packages: apt-get install npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
