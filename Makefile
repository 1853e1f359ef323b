# The two commands from the README:
#   make run    start the whole portal with demo data (web, worker, beat, Redis if none answers)
#   make test   lint and run every test
VENV ?= .venv
export VENV
BIN := $(VENV)/bin

.PHONY: run test lint venv lock translations

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

# Regenerate the lock files (exact pins with hashes) from pyproject.toml after changing its
# dependencies; commit them. Needs PyPI.
LOCK_FLAGS := --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links --all-build-deps --extra postgres
lock: venv
	$(BIN)/pip install -q 'pip-tools>=7.4,<8'
	$(BIN)/pip-compile -q $(LOCK_FLAGS) -o requirements/lock.txt pyproject.toml
	$(BIN)/pip-compile -q $(LOCK_FLAGS) --extra test -o requirements/lock-test.txt pyproject.toml

# Extract the strings of the code and templates into portal/translations/messages.pot and merge
# them into each language's messages.po (translate the new entries there; make test fails while
# one is missing). The .mo files are compiled when the app starts (portal/i18n.py).
translations: venv
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --ignore-dirs=".* _* instance node_modules test-artifacts" \
		-o portal/translations/messages.pot .
	$(BIN)/pybabel -q update -i portal/translations/messages.pot -d portal/translations \
		--no-fuzzy-matching --ignore-obsolete
