PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint fmt bench chaos

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	$(VENV)/bin/honcho start -f Procfile

test: install
	bash scripts/test.sh $(ARGS)

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy panel accounts catalog orders simulator console chaos
	$(VENV)/bin/mypy --strict panel/smmapi panel/money.py panel/crypto.py
	$(PY) manage.py makemigrations --check --dry-run

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	bash scripts/bench.sh

# The fault suite (issue 16): its own Redis and PostgreSQL under var/chaos/, real processes,
# about 15 minutes; ARGS="--only 1,4" runs some scenarios.
chaos: install
	$(PY) -m chaos $(ARGS)
