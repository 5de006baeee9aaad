# The commands people type. Each is a line or two; the scripts hold the details.
SHELL := /bin/bash
VENV := .venv/bin
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/tms_test
export TEST_DATABASE_URL

.PHONY: setup demo demo-serve test test-fast lint format bench db-upgrade clean serve train screenshots

setup:  ## both Python environments, from the pinned locks (idempotent)
	@bash scripts/setup.sh

demo: setup  ## the self-contained demo on the embedded defaults (SQLite, fakes)
	@$(VENV)/tms demo

demo-serve: setup  ## the demo, then the stack keeps running for the staff console (Ctrl-C stops it)
	@$(VENV)/tms demo --serve

# The calendar guard's day: far off, a leap day, ten minutes after midnight in Kathmandu (the
# UTC date is still the day before). No test may depend on the day it runs.
CLOCK_GUARD_AT ?= 2032-02-29T00:10:00+05:45

# Every test runs once: those without Rasa on the calendar guard's day (a date written into a
# test fails there), the assistant's (they move their own story clock) and the fuzzing on today.
# Two cores: the second trains the model, fuzzes, then runs tests/scale (scripts/second-core.sh),
# while the first runs lint and the first group; then the other assistant tests, and the second's
# result.
test: setup  ## the whole suite: lint, pytest (SQLite and PostgreSQL, Rasa trained if needed)
	@bash scripts/ensure-postgres.sh tms_test
	@mkdir -p var && (bash scripts/second-core.sh > /dev/null 2>&1 &)
	@echo "training the model if its data changed, then the fuzzing and tests/scale, on the second core (var/train.log, var/fuzz.log, var/scale.log)"
	@$(MAKE) --no-print-directory lint
	@echo "the tests without Rasa, with every clock at $(CLOCK_GUARD_AT) (the calendar guard)"
	$(VENV)/python -m pytest -m "not rasa and not fuzz" --clock-at $(CLOCK_GUARD_AT)
	@echo "waiting for the model's training (var/train.log)"
	@bash scripts/train.sh > /dev/null
	@echo "the assistant's tests, today (tests/scale on the second core)"
	$(VENV)/python -m pytest -m "rasa" --ignore=tests/scale
	@echo "the fuzzing's and the scale-out tests' results (var/fuzz.log, var/scale.log)"
	@bash scripts/second-core.sh wait

test-fast: setup  ## everything but the tests that need the trained Rasa model
	@bash scripts/ensure-postgres.sh tms_test
	$(VENV)/python -m pytest -m "not rasa"

lint: setup  ## ruff, the layers and no cycles (import-linter, .importlinter), types (mypy)
	$(VENV)/ruff check backend actions addons devkit tests bench
	$(VENV)/ruff format --check backend actions addons devkit tests bench
	$(VENV)/lint-imports
	$(VENV)/mypy

format:
	$(VENV)/ruff format backend actions addons devkit tests bench
	$(VENV)/ruff check --fix backend actions addons devkit tests bench

bench: setup  ## benchmarks on PostgreSQL; prints figures
	@bash scripts/ensure-postgres.sh tms_bench
	$(VENV)/python bench/inventory_bench.py
	$(VENV)/python bench/gateway_bench.py
	$(VENV)/python bench/sender_bench.py
	$(VENV)/python bench/scheduler_bench.py
	$(VENV)/python bench/conversation_growth_bench.py
	$(VENV)/python bench/dialogue_bench.py

db-upgrade: setup
	$(VENV)/tms db upgrade

clean:
	rm -rf var .pytest_cache .ruff_cache

serve: setup  ## the whole stack in the foreground: backend, Rasa, action server, fake Graph API
	@$(VENV)/tms serve

screenshots: setup  ## refresh docs/screenshots from the browser tests (a plain test run writes to var/)
	@bash scripts/ensure-postgres.sh tms_test
	TMS_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(VENV)/python -m pytest -q \
		tests/backend/web/test_browser.py tests/workflows/test_console_browser.py \
		tests/backend/web/test_pay_methods.py tests/backend/console/test_payments_browser.py \
		tests/backend/console/test_move_board_browser.py \
		tests/backend/console/test_whatsapp_pages_browser.py \
		tests/backend/web/test_papers_page.py::test_a_traveller_filled_in_on_a_phone_without_javascript

train: setup  ## train the Rasa model if the data changed
	@bash scripts/train.sh
