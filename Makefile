# Two commands do all the set-up on a fresh machine:
#   make demo   serve the API on SQLite with demo data (http://127.0.0.1:8000)
#   make test   install everything and run the whole test suite
# and one more measures it:
#   make bench  run every benchmark and rewrite BENCHMARKS.md (ARGS="http --repeat 1": one)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/exophone serve --demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy
	$(BIN)/mypy bench

test: lint
	$(BIN)/pytest -n 2 -q

# wrk (Debian's package) loads the servers; the harness installs the npm peers itself.
bench: $(STAMP)
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; \
	  else echo "make bench needs wrk: sudo apt-get install wrk" >&2; exit 1; fi; \
	fi
	$(BIN)/python -m bench $(ARGS)
