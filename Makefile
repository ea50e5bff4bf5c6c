# Quick start:  make demo   (builds engram and runs the default experiment)
#               make test   (runs the test suite)
# Both install what the build needs first (scripts/bootstrap.sh).

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
ENGRAM := target/release/engram

.PHONY: all bootstrap build demo test fuzz bench bench-peers check-sonata python test-python clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	$(CARGO) build --release --locked -p engram

demo: build
	$(ENGRAM) run configs/recall.toml

test: bootstrap
	$(CARGO) test --release --locked --workspace

# The fuzz test of the suite with 10 times its cases (FUZZ_SEED=N for other ones).
fuzz: bootstrap
	FUZZ_CASES=20000 $(CARGO) test --release --locked -p engram --test fuzz -- --nocapture

bench: bootstrap
	$(CARGO) bench -p engram-network

bench-peers: build
	python3 scripts/bench_peers.py

# Reads a short run back with libsonata and h5py (installs them in .venv-check).
check-sonata: build
	scripts/check_sonata.sh

# The Python package (crates/python): a venv in .venv-python with maturin and the test
# tools, the abi3 wheel built into target/wheels, and installed into the venv.
PYTHON_VENV := .venv-python
VENV_PY := $(PYTHON_VENV)/bin/python

python: bootstrap
	test -x $(VENV_PY) || python3 -m venv $(PYTHON_VENV)
	$(VENV_PY) -m pip install -q --disable-pip-version-check -r crates/python/requirements-dev.txt
	rm -f target/wheels/engram-*.whl
	$(PYTHON_VENV)/bin/maturin build --release --locked -m crates/python/Cargo.toml -i $(VENV_PY) --compatibility linux --auditwheel skip --out target/wheels
	$(VENV_PY) -m pip install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/engram-*.whl

# pytest over the package (against the CLI's files, so the CLI is built too), the
# notebook-style example included.
test-python: python build
	$(VENV_PY) -m pytest -q crates/python/tests

clean:
	$(CARGO) clean
