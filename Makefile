# The two commands from the README:
#   make run    start the whole portal with demo data (web, worker, beat, Redis if none answers)
#   make test   lint and run every test
VENV ?= .venv
export VENV
BIN := $(VENV)/bin

.PHONY: run test lint venv

run:
	@scripts/ensure-venv.sh $(if $(findstring postgres,$(DATABASE_URL)),postgres,)
	@FLASK_DEBUG=$${FLASK_DEBUG:-1} exec $(BIN)/python scripts/run.py

test:
	@scripts/ensure-venv.sh test
	@scripts/ensure-chromium.sh
	@$(MAKE) --no-print-directory lint
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

venv:
	@scripts/ensure-venv.sh test
