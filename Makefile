# The project's own commands. A fresh machine needs only python3 (>= 3.10) and make.
PYTHON ?= python3
DEV := .dev
BIN := $(DEV)/bin
PYTEST_ARGS ?=
# The fresh-system tests run FRESH_WORKERS at a time (pytest-xdist), beside one process that runs
# every other test in order as it always has (scripts/test-lanes.sh); FRESH_WORKERS=0 runs the
# whole selection in one process instead.
FRESH_WORKERS ?= 2

.PHONY: dev test test-all lint demo demo-anywhere bench clean test-deps

$(BIN)/bulletproof: pyproject.toml
	$(PYTHON) -m venv $(DEV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

dev: $(BIN)/bulletproof

# CI's suite: every test, with one case of each kind from the fresh-system matrices
test: dev test-deps
	FRESH_WORKERS=$(FRESH_WORKERS) scripts/test-lanes.sh "not exhaustive" $(PYTEST_ARGS)

# the whole matrix: every public case on both Debian releases, every shared project as a clone too
test-all: dev test-deps
	FRESH_WORKERS=$(FRESH_WORKERS) scripts/test-lanes.sh "" $(PYTEST_ARGS)

# What the tests need from the system (as root, on Debian; installed when missing): the
# fresh-system tests build Debian systems with debootstrap and container images with buildah and
# podman; the HTML report's test opens it in Chromium (Debian's: Playwright's own download is not
# on a package registry); the example's Rust core builds with cargo against the crate Debian
# packages (pyo3-ffi: crates.io is not needed, bulletproof points cargo at the system's crates).
TEST_TOOLS := debootstrap buildah podman chromium cargo rustc
TEST_PACKAGES := librust-pyo3-ffi-dev
test-deps:
	@missing=""; for tool in $(TEST_TOOLS); do \
		command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	for package in $(TEST_PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ "$$(id -u)" = 0 ] && [ -n "$$missing" ] && command -v apt-get >/dev/null; then \
		apt-get update -q && apt-get install -y -q $$missing; fi

lint: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Installs the tool in its own venv and sets up the example project, printing the verification
# and where its HTML report is.
demo: dev
	$(BIN)/bulletproof setup examples/code-engine --html $(DEV)/code-engine-report.html

# The example taken anywhere (scripts/demo-anywhere.sh): its wheelhouse, a setup from it with the
# network cut, and its container files (built with buildah when BASE=IMAGE names a local image)
demo-anywhere: dev
	scripts/demo-anywhere.sh

bench: dev
	$(BIN)/python benchmarks/setup_vs_manual.py

clean:
	rm -rf $(DEV) examples/*/.venv examples/*/.bulletproof examples/*/pylock.toml \
		examples/*/rust/target examples/*/rust/Cargo.lock examples/*/code_engine/*.so
