# Whale CRM — the two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps infra-up infra-down run test test-unit test-integration bench lint format contracts token clean

help:
	@echo "make run     start Kafka, every service (SQLite) and the demo traffic generator"
	@echo "make test    install everything, start Kafka + PostgreSQL, run every test"
	@echo "make bench   benchmarks (raw aiokafka baseline first)"
	@echo "make lint    ruff; make contracts: re-export JSON Schemas + AsyncAPI"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

deps: $(STAMP)

infra-up: deps
	@infra/kafka.sh start
	@infra/postgres.sh start

infra-down:
	@infra/kafka.sh stop || true
	@infra/postgres.sh stop || true

run: deps
	@infra/kafka.sh start
	@$(PY) -m devtools.run

test: deps infra-up
	@$(VENV)/bin/ruff check .
	@$(PY) -m shared.events.export --check
	@KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$${KAFKA_PORT:-9092}} \
	 WHALE_TEST_DATABASE_URL=$$(infra/postgres.sh url postgres) \
	 $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-unit: deps
	@$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

bench: deps infra-up
	@KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$${KAFKA_PORT:-9092}} \
	 WHALE_TEST_DATABASE_URL=$$(infra/postgres.sh url postgres) \
	 $(PY) -m bench $(BENCH_ARGS)

lint: deps
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check . || true

format: deps
	@$(VENV)/bin/ruff format .

contracts: deps
	@$(PY) -m shared.events.export

token: deps
	@$(PY) -m devtools.token $(ARGS)

clean: infra-down
	rm -rf var .cache
