# Two commands for a fresh machine:
#   make run    send one MMS to an embedded mock MMSC and print the normalized results
#   make test   run the test suite
# Each creates the virtual environment in .venv and installs what it needs first: `make run` the
# runtime package alone (fast), `make test` the test extras too.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean browser-deps service-deps

PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The runtime package alone: what `make run` needs.
$(BIN)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

# The project with its test and lint tools.
$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]'
	touch $@ $(BIN)/.installed-runtime

run: $(BIN)/.installed-runtime
	$(BIN)/mm7 send --to 01012345678 --subject "안녕하세요" --text "MM7 toolkit 예제 메시지입니다."

# The browser tests drive Debian's chromium (never a downloaded browser) and need CJK fonts to
# render Korean; install both when missing (needs root, as on CI).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "installing chromium and fonts-noto-cjk for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# The store and throttle tests start throwaway Redis and PostgreSQL servers of Debian's
# packages (or use MM7_TEST_REDIS_URL / MM7_TEST_DATABASE_URL); install the packages when
# missing (needs root, as on CI).
service-deps:
	@if ! command -v redis-server >/dev/null 2>&1 || \
		! { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then \
		echo "installing redis-server and postgresql for the store and throttle tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql >/dev/null; \
	fi

test: $(BIN)/.installed browser-deps service-deps
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mm7client

bench: $(BIN)/.installed service-deps
	$(BIN)/python bench/codec.py
	$(BIN)/python bench/mock_server.py
	$(BIN)/python bench/client_e2e.py
	$(BIN)/python bench/receiver.py
	$(BIN)/python bench/fleet.py
	$(BIN)/python bench/observability.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
