#!/usr/bin/env bash
# Runs a short CUBA simulation and reads every spike back with the ecosystem's own readers
# (libsonata, h5py), comparing them with the run's --json summary.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-check
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "numpy<2.4" h5py libsonata
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
target/release/engram run configs/cuba.toml --set simulation.duration_ms=300 \
    -o "$out/cuba.h5" --quiet --json > "$out/summary.json"
"$venv/bin/python" scripts/check_sonata.py --require-magic "$out/cuba.h5" "$out/summary.json"
