# Two commands matter: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= /tmp/lavinmq-data
PYTEST_ARGS ?=

.PHONY: run test lint bench venv dev clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The compiled fast paths are rebuilt when their sources change.
EXT_SOURCES := setup.py $(wildcard lavinmq/*/_c*.pyx)

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml $(EXT_SOURCES)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/bin/python pyproject.toml $(EXT_SOURCES)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	$(VENV)/bin/lavinmq -D $(DATA_DIR)

# The whole suite with the compiled fast paths, then the codec, broker and client tiers
# again on their pure-Python twins (LAVINMQ_NO_EXTENSIONS=1).
test: $(VENV)/.installed-dev
	$(PY) -m pytest -n auto $(PYTEST_ARGS)
	LAVINMQ_NO_EXTENSIONS=1 $(PY) -m pytest -n auto -q \
		tests/unit tests/protocol tests/integration tests/features

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Runs every benchmark against our broker and a private rabbitmq-server (installed with
# apt when missing) and rewrites its sections of BENCHMARKS.md. BENCH_ARGS=--quick for a
# smoke run, BENCH_ARGS=throughput for one part.
BENCH_ARGS ?=
bench: $(VENV)/.installed-dev
	command -v rabbitmq-server >/dev/null || apt-get install -y rabbitmq-server
	$(PY) -m benchmarks.run --write BENCHMARKS.md $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info

# Packages (issue 12): dist/lavinmq_<version>-1_<arch>.deb, dist/lavinmq-<version>-1.<arch>.rpm.
# The version comes from pyproject.toml; the environment is built with /usr/bin/python3.11.
PKG_VERSION = $(shell packaging/version.sh)

.PHONY: deb rpm

deb:
	@echo "building lavinmq $(PKG_VERSION) .deb"
	packaging/deb/build.sh

rpm:
	@echo "building lavinmq $(PKG_VERSION) .rpm"
	packaging/rpm/build.sh
