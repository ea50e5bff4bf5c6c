# Quick start:  make demo   (builds engram and runs the default experiment)
#               make test   (runs the test suite)
# Both install what the build needs first (scripts/bootstrap.sh).

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
ENGRAM := target/release/engram

.PHONY: all bootstrap build demo test fuzz bench bench-peers check-sonata clean

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

clean:
	$(CARGO) clean
