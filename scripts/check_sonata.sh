#!/usr/bin/env bash
# Runs a short CUBA simulation and reads every spike back with the ecosystem's own readers
# (libsonata, h5py), comparing them with the run's --json summary; then a run with state
# reports, read back with libsonata's SomaReportReader and h5py.
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

# State reports: E's v and i_syn on 20 neurons every 0.5 ms, I's threshold on three
# neurons every step, in (0, 300] ms.
target/release/engram run configs/cuba.toml --set simulation.duration_ms=300 \
    --set 'output.reports=[
        {population = "E", variables = ["v", "i_syn"], neurons = { range = [0, 20] }, interval_ms = 0.5},
        {population = "I", variables = ["theta"], neurons = [0, 7, 799]}]' \
    -o "$out/reports.h5" --quiet --json > "$out/reports.json"
"$venv/bin/python" - "$out/expect.json" <<'PY'
import json, sys
e = [{"population": "E", "variable": v, "node_ids": list(range(20)), "interval_ms": 0.5,
      "start_ms": 0.0, "stop_ms": 300.0} for v in ("v", "i_syn")]
e.append({"population": "I", "variable": "theta", "node_ids": [0, 7, 799],
          "interval_ms": 0.1, "start_ms": 0.0, "stop_ms": 300.0})
json.dump(e, open(sys.argv[1], "w"))
PY
"$venv/bin/python" scripts/check_sonata_reports.py "$out/reports.h5" "$out/reports.json" \
    "$out/expect.json"
