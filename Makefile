# One command per chore; CI calls these unchanged (.ci/run runs `make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup browser-setup run serve test lint test-sqlite test-postgres test-replica bench bench-quick wrk lock clean

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

## Headless Chromium and its driver (Debian packages) and axe-core (npm) for tests/browser
browser-setup: tests/browser/node_modules/.package-lock.json
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund

## Set up, migrate, load the demo into an empty database and serve on http://$(HOST):$(PORT)
run: setup
	$(BIN)/foilog db upgrade
	$(BIN)/foilog demo --if-empty
	$(BIN)/foilog serve --host $(HOST) --port $(PORT)

## Set up and run every check: format, lint, types, Dockerfile, then the suite on both databases,
## then the public read tests against a streaming replica of the PostgreSQL server
test: setup browser-setup lint test-sqlite test-postgres test-replica

lint: setup
	$(BIN)/ruff format --check app tests migrations bench scripts
	$(BIN)/ruff check app tests migrations bench scripts
	$(BIN)/mypy app tests bench scripts
	$(BIN)/hadolint Dockerfile
	$(BIN)/lint-imports

test-sqlite: setup
	$(BIN)/pytest -q

test-postgres: setup
	FOILOG_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest -q

# The public read path, read from a streaming replica that scripts/with-replica.sh makes of the
# local PostgreSQL (127.0.0.1:5432; needs root) and removes afterwards.
REPLICA_TESTS := tests/test_replica.py tests/test_read_path.py tests/test_disclosure_log.py \
	tests/test_search.py tests/test_search_pages.py tests/test_paging.py tests/test_caching.py \
	tests/test_caching_tags.py tests/test_exports.py tests/test_atom.py tests/test_stats.py \
	tests/test_public_surfaces_privacy.py tests/test_pages.py

test-replica: setup
	scripts/with-replica.sh env FOILOG_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest -q $(REPLICA_TESTS)

## The benchmark of bench/README.md: a million entries (hours), or a quick 20,000
bench: setup wrk
	$(BIN)/python bench/run.py --size 1000000 --duration 10

bench-quick: setup wrk
	$(BIN)/python bench/run.py --size 20000 --duration 5

wrk:
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

## Refresh the lock files after changing pyproject.toml (needs uv: pip install uv)
lock:
	uv pip compile --quiet --python $(PYTHON) --python-version 3.11 --generate-hashes pyproject.toml -o requirements.lock
	uv pip compile --quiet --python $(PYTHON) --python-version 3.11 --generate-hashes --extra dev pyproject.toml -o requirements-dev.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/browser/node_modules
