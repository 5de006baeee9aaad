# The commands people type. Each is a line or two; the scripts hold the details.
SHELL := /bin/bash
VENV := .venv/bin
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/tms_test
export TEST_DATABASE_URL

.PHONY: setup demo test test-fast lint format bench db-upgrade clean serve train

setup:  ## both Python environments, from the pinned locks (idempotent)
	@bash scripts/setup.sh

demo: setup  ## the self-contained demo on the embedded defaults (SQLite, fakes)
	@$(VENV)/tms demo

test: setup  ## the whole suite: lint, then pytest (SQLite and PostgreSQL, Rasa trained if needed)
	@bash scripts/ensure-postgres.sh tms_test
	$(VENV)/ruff check backend actions tests bench
	$(VENV)/python -m pytest

test-fast: setup  ## everything but the tests that need the trained Rasa model
	@bash scripts/ensure-postgres.sh tms_test
	$(VENV)/python -m pytest -m "not rasa"

lint: setup
	$(VENV)/ruff check backend actions tests bench
	$(VENV)/ruff format --check backend actions tests bench

format:
	$(VENV)/ruff format backend actions tests bench
	$(VENV)/ruff check --fix backend actions tests bench

bench: setup  ## benchmarks on PostgreSQL; prints figures
	@bash scripts/ensure-postgres.sh tms_bench
	$(VENV)/python bench/inventory_bench.py
	$(VENV)/python bench/gateway_bench.py
	$(VENV)/python bench/scheduler_bench.py

db-upgrade: setup
	$(VENV)/tms db upgrade

clean:
	rm -rf var .pytest_cache .ruff_cache

serve: setup  ## the whole stack in the foreground: backend, Rasa, action server, fake Graph API
	@$(VENV)/tms serve

train: setup  ## train the Rasa model if the data changed
	@bash scripts/train.sh
