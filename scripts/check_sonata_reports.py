#!/usr/bin/env python3
"""Check the state reports of an engram run file with libsonata and h5py.

Usage:
    python scripts/check_sonata_reports.py OUT.h5 SUMMARY.json EXPECT.json

EXPECT.json lists the reports the run was asked for, as
[{"population": "E", "variable": "v", "node_ids": [0, 1, ...],
  "interval_ms": 0.5, "start_ms": 0, "stop_ms": 300}, ...]
(stop_ms: the last sample time; samples are at the multiples of interval_ms in
(start_ms, stop_ms]).  SUMMARY.json is engram's --json summary of the same run.

For every report, /report/<population>/<variable> is opened with libsonata's
SomaReportReader (as population "<population>/<variable>") and read with h5py:

  * /report/<population> holds exactly the expected variables;
  * mapping/node_ids (uint64) are the expected ids; index_pointers are
    0..n (one element per node) and element_ids are zeros;
  * mapping/time is [start, stop, step] with step = interval_ms, start = the
    first multiple of the interval after start_ms, stop = start + rows * step,
    and rows = the number of sample times; libsonata's frame times agree;
  * data is 2-D float32 [rows, nodes] with units "mV" (v, bap, theta) or "pA"
    (i_syn, i_gap), and libsonata's values equal h5py's exactly, for the whole
    report and for a window of two nodes and a few frames;
  * every value is finite; v lies below the threshold the run's config gives
    (checked loosely: below -40 mV and above -100 mV) and varies over time.

Exit status 0 with one OK line; 1 with one line per problem.
"""

import json
import math
import sys

import h5py
import libsonata
import numpy as np

UNITS = {"v": "mV", "bap": "mV", "theta": "mV", "i_syn": "pA", "i_gap": "pA"}


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check_report(path, f, reader, exp, problems):
    pop, var = exp["population"], exp["variable"]
    name = f"{pop}/{var}"
    where = f"/report/{name}"
    if where not in f:
        problems.append(f"{where}: missing")
        return 0
    g = f[where]
    ids = np.asarray(exp["node_ids"], dtype=np.uint64)
    m = g["mapping"]
    if m["node_ids"].dtype != np.uint64 or not np.array_equal(m["node_ids"][()], ids):
        problems.append(f"{where}/mapping/node_ids: {m['node_ids'][()][:8]}... "
                        f"({m['node_ids'].dtype}), expected {ids[:8]}... (uint64)")
    if not np.array_equal(m["index_pointers"][()], np.arange(len(ids) + 1)):
        problems.append(f"{where}/mapping/index_pointers: not 0..{len(ids)}")
    if m["element_ids"].shape != (len(ids),) or np.any(m["element_ids"][()] != 0):
        problems.append(f"{where}/mapping/element_ids: not {len(ids)} zeros")
    step = exp["interval_ms"]
    first = (math.floor(exp["start_ms"] / step + 1e-9) + 1) * step
    rows = math.floor(exp["stop_ms"] / step + 1e-9) - math.floor(exp["start_ms"] / step + 1e-9)
    start, stop, dt = m["time"][()]
    if not (math.isclose(start, first, abs_tol=1e-9) and math.isclose(dt, step, abs_tol=1e-12)
            and math.isclose(stop, first + rows * step, abs_tol=1e-9)):
        problems.append(f"{where}/mapping/time: {[start, stop, dt]}, expected "
                        f"[{first}, {first + rows * step}, {step}]")
    if text(m["time"].attrs.get("units", "")) != "ms":
        problems.append(f"{where}/mapping/time: units is not 'ms'")
    data = g["data"]
    if data.dtype != np.float32 or data.shape != (rows, len(ids)):
        problems.append(f"{where}/data: {data.dtype} {data.shape}, expected float32 "
                        f"{(rows, len(ids))}")
        return 0
    units = text(data.attrs.get("units", ""))
    if units != UNITS[var]:
        problems.append(f"{where}/data: units {units!r}, expected {UNITS[var]!r}")
    h = data[()]
    if not np.all(np.isfinite(h)):
        problems.append(f"{where}/data: values that are not finite")
    if var == "v" and (h.max() >= -40.0 or h.min() <= -100.0 or np.all(h == h[0])):
        problems.append(f"{where}/data: potentials from {h.min()} to {h.max()} mV")

    try:
        p = reader[name]
    except Exception as e:  # libsonata raises its own error types
        problems.append(f"libsonata cannot open {name}: {e}")
        return 0
    if not np.array_equal(np.asarray(p.get_node_ids(), dtype=np.uint64), ids):
        problems.append(f"libsonata {name}: node ids differ from mapping/node_ids")
    if p.data_units != UNITS[var] or p.time_units != "ms":
        problems.append(f"libsonata {name}: units {p.data_units!r}, {p.time_units!r}")
    whole = p.get()
    times = np.asarray(whole.times)
    if len(times) != rows or not np.allclose(times, first + step * np.arange(rows), atol=1e-6):
        problems.append(f"libsonata {name}: {len(times)} frame times, expected {rows} "
                        f"from {first} by {step}")
    values = np.asarray(whole.data)
    if values.shape != h.shape or not np.array_equal(values, h):
        problems.append(f"libsonata {name}: values differ from h5py's")
    # A window: the last two nodes, frames 3 to 7.
    some = [int(x) for x in ids[-2:]]
    t0, t1 = first + 3 * step, first + 7 * step
    part = p.get(node_ids=some, tstart=t0, tstop=t1)
    cols = np.searchsorted(ids, np.asarray(some, dtype=np.uint64))
    want = h[3:8][:, cols]
    got = np.asarray(part.data)
    if got.shape != want.shape or not np.array_equal(got, want):
        problems.append(f"libsonata {name}: window of nodes {some} in [{t0}, {t1}] ms "
                        f"differs from h5py's")
    return rows * len(ids)


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    path, summary_path, expect_path = argv[1:]
    with open(summary_path) as fh:
        summary = json.load(fh)
    with open(expect_path) as fh:
        expected = json.load(fh)
    problems = []
    samples = 0
    with h5py.File(path, "r") as f:
        reader = libsonata.SomaReportReader(path)
        if "report" not in f:
            print(f"{path}: no /report group")
            return 1
        for pop in f["report"]:
            want = sorted(e["variable"] for e in expected if e["population"] == pop)
            have = sorted(f["report"][pop])
            if want != have:
                problems.append(f"/report/{pop}: variables {have}, expected {want}")
            n = summary["populations"][pop]["n"]
            if any(int(i) >= n for e in expected if e["population"] == pop
                   for i in e["node_ids"]):
                problems.append(f"/report/{pop}: a node id >= n = {n}")
        for exp in expected:
            samples += check_report(path, f, reader, exp, problems)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"OK {path}: {len(expected)} reports, {samples} samples, "
          f"libsonata and h5py agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
