# Two commands on a fresh machine: `make dev` runs the platform, `make test` runs the tests.
# Each bootstraps what it needs: uv (from PyPI, if missing), the venv and uv.lock.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST_ARGS ?=

.PHONY: dev test bench bootstrap ui-check record-histories actions-schema

# --compile-bytecode: a module first imported in a thread is then loaded, not compiled. CPython 3.11 keeps
# the AST's recursion depth in shared state, so two threads compiling at once can fail with "AST
# constructor recursion depth mismatch" (seen once in CI: hypothesis imported a module lazily in the
# contract fuzz thread while the gateway served a request). It also starts `make dev` faster on a fresh clone.
bootstrap:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet --compile-bytecode

dev: bootstrap
	@$(UV) run --frozen gpt-orchestrator dev

# The house rules first (import contracts, lint, format, types), then the tests.
# pytest exits 5 when no test ran; that is a failure here.
test: bootstrap
	@$(UV) run --frozen lint-imports --no-cache >/dev/null || $(UV) run --frozen lint-imports --no-cache
	@$(UV) run --frozen ruff check --quiet .
	@$(UV) run --frozen ruff format --check --quiet .
	@$(UV) run --frozen mypy
	@$(UV) run --frozen pytest --durations=15 $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests ran: failing"; exit 1; fi; exit $$rc

bench: bootstrap
	@$(UV) run --frozen python -m bench

# The ChatGPT Actions schema committed as chatgpt_actions.json (a test fails when it drifts from the app).
# The GPT gets a caller key, so the schema holds only what a caller may call (no approve/reject).
# For your own GPT: make actions-schema SERVER_URL=https://your-gateway.example.org
SERVER_URL ?= https://orchestrator.example.com
ROLE ?= caller
actions-schema: bootstrap
	@$(UV) run --frozen gpt-orchestrator actions-schema --server-url $(SERVER_URL) --role $(ROLE) --output chatgpt_actions.json

# Real headless Chromium reads the Temporal Web UI and drives the console; refreshes the screenshots in docs/.
ui-check: bootstrap
	@UI_SCREENSHOT_DIR=docs $(UV) run --frozen pytest -q tests/ops/test_web_ui.py tests/console

# Golden histories of every workflow scenario, replayed by tests/histories/test_replay.py.
record-histories: bootstrap
	@$(UV) run --frozen python -m tests.histories.record
