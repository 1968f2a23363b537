# kabar's whole workflow. A fresh machine needs only python3 (>= 3.11) and make;
# with Node.js and npm it also builds the browser app (web/ -> src/kabar/http/static/app/).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
KABAR  := $(VENV)/bin/kabar
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
WEB_OUT   := src/kabar/http/static/app
WEB_STAMP := $(WEB_OUT)/.built
WEB_SRC   := $(shell find web -path web/node_modules -prune -o -type f -print 2>/dev/null)

.PHONY: help install web demo serve migrate test test-quick test-reliability lint fmt fuzz bench bench-e2e bench-feed bench-peer clean

help:
	@echo "make demo        install, migrate, seed demo data, serve on http://127.0.0.1:8000"
	@echo "make test        install and run every test"
	@echo "make test-reliability  the full reliability battery (crashes, outages, slow consumers)"
	@echo "make lint        ruff + mypy --strict"
	@echo "make fuzz        long schemathesis run against the OpenAPI document"
	@echo "make bench       kabar benchmark (bench/messaging.py --spawn; BENCH_ARGS=... for options)"
	@echo "make bench-e2e   end-to-end encryption: 100-member group start and throughput"
	@echo "make bench-feed  public accounts: feed page latency, live fan-out to 10,000 sockets"
	@echo "make bench-peer  kabar vs Matrix Synapse vs a bare relay, same workload, same run, then both up at once in alternating bursts (~11-30 min by machine; QUICK=1: ~6 min)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kabar needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

# The web app is rebuilt when anything in web/ changed. Without npm the Python side still
# installs; /app then explains that the app is not built (docs/web.md).
$(WEB_STAMP): $(WEB_SRC)
	@if command -v npm >/dev/null 2>&1; then \
	  echo "building the web app (npm ci, vite build)"; \
	  cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build -- --logLevel error \
	    && touch ../$(WEB_STAMP); \
	else \
	  echo "warning: npm not found: the web app is not built, /app will say so." >&2; \
	  echo "warning: install Node.js 20+ with npm, then run make install again." >&2; \
	fi

web: $(WEB_STAMP)

install: $(STAMP) $(WEB_STAMP)

migrate: install
	$(KABAR) db upgrade

demo: install
	$(KABAR) demo

serve: install
	$(KABAR) serve

# Three workers on two cores: tests spend much of their time waiting on servers, sockets
# and PostgreSQL, so a third worker fills the gaps. Measured on 2 cores with PostgreSQL and
# Redis: 3 workers took the suite from 5:09 to 4:22; 4 were no faster than 3.
TEST_WORKERS ?= 3

test: install
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-reliability: install
	KABAR_RELIABILITY=full $(PY) -m pytest -q -s tests/reliability $(PYTEST_ARGS)

test-quick: install
	$(PY) -m pytest -q -x -m "not slow" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	@if [ -d web/node_modules ]; then cd web && npx --no-install tsc --noEmit; fi

fmt: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

fuzz: install
	KABAR_FUZZ_EXAMPLES=300 $(PY) -m pytest -q tests/http/test_openapi_fuzz.py

BENCH_ARGS ?=

bench: install
	$(PY) bench/messaging.py --spawn $(BENCH_ARGS)

bench-e2e: install
	$(PY) bench/e2e.py

bench-feed: install
	$(PY) bench/feed.py

bench-peer: install
	bench/peers.sh

clean:
	rm -rf $(VENV) kabar-data .pytest_cache .mypy_cache .ruff_cache web/node_modules $(WEB_OUT)
