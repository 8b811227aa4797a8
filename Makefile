# make run  : set up a virtual environment, index examples/ and serve on 127.0.0.1:8000
# make test : install the test extras and run the whole test suite (what CI runs)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
# Nothing is fetched from a model hub, ever.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# llama-cpp-python compiles from source; pip caches the built wheel for the next install.
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)

.PHONY: install install-test run test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test /usr/bin/chromium

# The browser tests (tests/e2e/browser) drive Debian's chromium through Playwright; nothing is
# downloaded by Playwright itself. CI machines are clean Debian and run as root.
/usr/bin/chromium:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

run: install
	$(RAG) db upgrade
	$(RAG) keys bootstrap
	$(RAG) ingest examples
	$(RAG) serve

test: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

bench: install-test
	$(PY) bench/ingest_and_ask.py

clean:
	rm -rf $(VENV) data
