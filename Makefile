# Whale CRM — the two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps infra-up infra-down run test test-unit test-integration bench lint format contracts token clean \
        web-deps web-clients web-clients-check web-build web-test web-e2e

help:
	@echo "make run     start Kafka, every service (SQLite) and the demo traffic generator"
	@echo "make test    install everything, start Kafka + PostgreSQL, run every test"
	@echo "make bench   benchmarks (raw aiokafka baseline first)"
	@echo "make lint    ruff; make contracts: re-export JSON Schemas + AsyncAPI"
	@echo "make web-clients   regenerate the console's typed API clients from the services' OpenAPI"

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
	@infra/keycloak.sh install  # the OpenID Connect provider: tests/integration/test_oidc_keycloak.py, make run

infra-down:
	@infra/kafka.sh stop || true
	@infra/postgres.sh stop || true

run: deps
	@infra/kafka.sh start
	@infra/web.sh nginx >/dev/null
	@WHALE_DEV_SIGNIN=$${WHALE_DEV_SIGNIN-0} $(PY) -m devtools.run

test: deps infra-up
	@$(VENV)/bin/ruff check .
	@$(PY) -m shared.events.export --check
	@$(MAKE) --no-print-directory web-clients-check
	@KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$${KAFKA_PORT:-9092}} \
	 WHALE_TEST_DATABASE_URL=$$(infra/postgres.sh url postgres) \
	 $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)
	@WHALE_FAULT_SUITE=1 $(PY) -m pytest -q -p no:cacheprovider tests/fault  # its own broker + PostgreSQL; var/fault-report.md
	@$(MAKE) --no-print-directory web-test web-e2e

test-unit: deps
	@$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

bench: deps infra-up web-build  # the console benchmark (bench/bench_console.py) drives the built console
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

# ---- the web console (web/) ------------------------------------------------------------------------
web-deps:
	@infra/web.sh npm

# Typed clients: each service's OpenAPI (bootstrapped in-process, devtools.openapi) -> web/src/api/<service>.d.ts
web-clients: deps web-deps
	@rm -rf var/openapi && $(PY) -m devtools.openapi --out var/openapi >/dev/null
	@cd web && node scripts/gen-clients.mjs ../var/openapi src/api >/dev/null
	@echo "web/src/api/*.d.ts regenerated"

web-clients-check: deps web-deps
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	 $(PY) -m devtools.openapi --out "$$tmp/json" >/dev/null && \
	 (cd web && node scripts/gen-clients.mjs "$$tmp/json" "$$tmp/ts" >/dev/null) && \
	 for f in "$$tmp"/ts/*.d.ts web/src/api/*.d.ts; do n=$$(basename "$$f"); \
	   cmp -s "$$tmp/ts/$$n" "web/src/api/$$n" || { echo "web/src/api/$$n is out of date with the service's OpenAPI: run make web-clients"; exit 1; }; \
	 done

web-build: web-deps
	@cd web && npm run --silent build >/dev/null && node scripts/bundle-size.mjs --max-initial-kb 500

web-test: web-deps
	@cd web && npx vitest run

# End to end: the whole stack as `make run` starts it, on spare ports and its own topic prefix; Debian's
# chromium driven by playwright-core. Screenshots of every screen in both languages: var/screenshots/.
web-e2e: deps web-build
	@infra/web.sh nginx >/dev/null && infra/web.sh chromium >/dev/null
	@KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$${KAFKA_PORT:-9092}} node web/e2e/run.mjs

token: deps
	@$(PY) -m devtools.token $(ARGS)

clean: infra-down
	rm -rf var .cache
