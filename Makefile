# The README's commands. `make run` starts everything; `make test` is what CI runs (through .ci/run).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the dependencies change, not on every run.
STAMP := $(VENV)/.installed

.PHONY: run test test-prerequisites lint bench clean distclean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/caretaker up --simulate

# PostgreSQL, Mosquitto and Chromium: started or installed when we may, else one line saying what to run.
test-prerequisites:
	@bash .ci/prepare

# A missing service or browser fails the suite instead of skipping its tests.
test: test-prerequisites $(STAMP)
	CARETAKER_REQUIRE_SERVICES=1 $(BIN)/pytest -q
	$(BIN)/ruff check .
	$(BIN)/lint-imports

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	@if [ -f bench/run_all.py ]; then \
		$(BIN)/python bench/run_all.py $(BENCH_ARGS); \
	else \
		for script in bench/*.py; do \
			[ -e "$$script" ] || continue; \
			echo "== $$script"; \
			$(BIN)/python "$$script" || exit 1; \
		done; \
	fi

clean:
	rm -rf .pytest_cache .ruff_cache .import_linter_cache .hypothesis build *.egg-info bench/results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

# Also the virtualenv and the local data (the embedded database with everything in it).
distclean: clean
	rm -rf $(VENV) .caretaker
