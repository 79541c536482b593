# Two commands matter: `make run` (embedded default) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Embedded default for `make run`: SQLite file, inline jobs, local ledger.
RUN_DATABASE_URL ?= sqlite+aiosqlite:///./apexchainx.db
# The suite runs against this machine's PostgreSQL and Redis.
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The suite runs on this many pytest-xdist workers, each with a database of its own; tests of
# one xdist_group (cluster-wide roles) stay on one worker. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 3
XDIST := -n $(TEST_WORKERS) --dist loadgroup
CHECK_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_check

NEWMAN := tools/newman/node_modules/.bin/newman
REDOCLY := tools/redocly/node_modules/.bin/redocly
CLIENT_GEN := tools/openapi-client/venv/bin/openapi-python-client

.PHONY: install run test test-fast fuzz lint typecheck migrations-check check format worker beat bench postman newman contract-tools chromium clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	DATABASE_URL=$(RUN_DATABASE_URL) DEMO_SEED=true $(BIN)/apexchainx serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy app

migrations-check: install
	$(BIN)/python tools/recreate_db.py $(CHECK_DATABASE_URL)
	DATABASE_URL=$(CHECK_DATABASE_URL) $(BIN)/alembic upgrade head
	DATABASE_URL=$(CHECK_DATABASE_URL) $(BIN)/alembic check

check: lint typecheck migrations-check

# newman (npm) runs the Postman collection in the suite (tests/test_newman.py).
newman: $(NEWMAN)

$(NEWMAN): tools/newman/package.json tools/newman/package-lock.json
	npm ci --prefix tools/newman --no-audit --no-fund --silent
	@touch $(NEWMAN)

# The contract checks (tests/contract) lint the document with Redocly (npm) and generate a
# client with openapi-python-client, in a venv of its own (it pins an older typer).
contract-tools: $(REDOCLY) $(CLIENT_GEN)

$(REDOCLY): tools/redocly/package.json tools/redocly/package-lock.json
	npm ci --prefix tools/redocly --no-audit --no-fund --silent
	@touch $(REDOCLY)

$(CLIENT_GEN): tools/openapi-client/requirements.txt
	@test -x tools/openapi-client/venv/bin/python || $(PYTHON) -m venv tools/openapi-client/venv
	tools/openapi-client/venv/bin/pip install --quiet -r tools/openapi-client/requirements.txt
	@touch $(CLIENT_GEN)

# The Swagger UI test drives Chromium: installed (apt-get) when none is on the PATH.
chromium:
	@tools/install-chromium.sh

test: install newman contract-tools chromium check
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# The unit layer (tests that build no application and start no process): under a minute.
test-fast: install
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest $(XDIST) -m unit $(PYTEST_ARGS)

# The longer, time-bound fuzzing hunt (a new seed each run; FUZZ_SEED=... replays one). `make
# test` runs the deterministic gate: the same cases on any machine.
FUZZ_SECONDS ?= 900
fuzz: install contract-tools
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		$(BIN)/pytest tests/contract/test_schemathesis.py -s

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.payouts
	$(BIN)/python -m bench.storm
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.faults
	$(BIN)/python -m bench.login_flood
	$(BIN)/python -m bench.imports

worker: install
	$(BIN)/celery -A app.worker worker -Q default,sla,payouts,webhooks,investigations \
		--loglevel INFO --concurrency 2

beat: install
	$(BIN)/celery -A app.worker beat --loglevel INFO

postman: install
	$(BIN)/python tools/postman.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache apexchainx.db* tools/newman/node_modules tools/redocly/node_modules tools/openapi-client/venv
