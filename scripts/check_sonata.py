#!/usr/bin/env python3
"""Check an engram SONATA spike file against its run summary, spike by spike.

Usage:
    python scripts/check_sonata.py OUT.h5 SUMMARY.json [--duration-ms 1000]

SUMMARY.json is the JSON engram prints with `--json`; its `populations` maps
each population name to {n, spikes, rate_hz}.  The file is read twice, with
libsonata.SpikeReader and with h5py, and for every population:

  * /spikes/<pop> exists and /spikes holds no other objects;
  * `node_ids` (uint64) and `timestamps` (float64) are 1-D and equally long,
    and both readers find exactly `spikes` spikes;
  * every node_id is < n, every timestamp is finite and within [0, duration];
  * spikes are sorted by time, then by node id (no duplicate (id, time));
  * the group attribute `sorting` is an HDF5 enum with an int8 base and the
    members none=0, by_id=1, by_time=2, and its value is by_time;
  * `timestamps` has the string attribute units = "ms";
  * libsonata's and h5py's (node_id, time) lists are identical;
  * rate_hz matches spikes / n / duration.

The duration is taken from the summary (`duration_ms`, `t_stop_ms`,
`duration_s`, or `t_stop` in ms) when present, else from --duration-ms.
Exit status 0 with a one-line OK summary; 1 with one line per problem.

What libsonata (0.1.x-0.2.x, SpikeReader) requires of the file -- checked
against the reader's source and by experiment with h5py-made files:

  * `/spikes` is a group and every object in it is taken as a population
    (`get_population_names()` lists all children; a stray dataset there shows
    up as a population that cannot be opened).  Attributes on /spikes are
    harmless.
  * `/spikes/<pop>/node_ids` and `/spikes/<pop>/timestamps`, same length
    (else "'node_ids' and 'timestamps' does not have the same size").  They are
    read as uint64 and double; HDF5 converts other numeric types, but the
    SONATA spec says uint64 and double.
  * `/spikes/<pop>/timestamps` must carry a string attribute `units`: recent
    libsonata reads it unconditionally and fails to open the population
    without it.  Variable- or fixed-length strings both work.
  * `/spikes/<pop>` attribute `sorting` is optional (absent = "none").  If it
    is present it must be an HDF5 *enum* (not a plain integer: reading one
    fails with "Unable to read attribute (Datatype)") whose members are named
    none / by_id / by_time.  libsonata's in-memory type is an enum over `char`
    (int8) with values 0 / 1 / 2; HDF5 converts enums by member name, so an
    int8 or uint8 base (the BBP writer uses uint8) and a scalar or 1-element
    attribute all read fine.  This checker insists on int8 and a scalar.
  * libsonata trusts `sorting`: with by_time it takes (tstart, tstop) from the
    first and last timestamp and filters time windows by binary search, so a
    file marked by_time but not sorted gives wrong answers or errors.
  * libsonata does not look at `magic` / `version`.  The SONATA spec asks
    every SONATA HDF5 file for root (`/`) attributes `magic` (uint32 0x0A7A)
    and `version` (2 x uint32); they are validated here when present, and
    required only with --require-magic.
"""

import argparse
import json
import math
import sys

SORTING_MEMBERS = {"none": 0, "by_id": 1, "by_time": 2}
SONATA_MAGIC = 0x0A7A


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("h5", help="SONATA spike file written by engram")
    p.add_argument("summary", help="engram's --json summary of the same run")
    p.add_argument("--duration-ms", type=float, default=1000.0,
                   help="simulated time if the summary does not give it (default 1000)")
    p.add_argument("--require-magic", action="store_true",
                   help="fail if the root attributes magic/version are missing")
    return p.parse_args(argv)


def summary_duration_ms(summary, default):
    for key, scale in (("duration_ms", 1.0), ("t_stop_ms", 1.0),
                       ("duration_s", 1000.0), ("t_stop", 1.0)):
        value = summary.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return float(value) * scale
    return default


def attr_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "shape") and getattr(value, "shape", None) in ((1,),):
        return attr_text(value[0])
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            return attr_text(value.item())
        except (ValueError, AttributeError):
            pass
    return value if isinstance(value, str) else None


def check(args):
    import h5py
    import libsonata
    import numpy as np

    errors = []
    notes = []

    with open(args.summary) as f:
        summary = json.load(f)
    pops = summary.get("populations")
    if not isinstance(pops, dict) or not pops:
        return [f"{args.summary}: no 'populations' object"], notes, {}
    duration = summary_duration_ms(summary, args.duration_ms)

    h5_data = {}
    with h5py.File(args.h5, "r") as f:
        # Root attributes asked for by the SONATA spec (not read by libsonata).
        if "magic" in f.attrs or "version" in f.attrs:
            magic = f.attrs.get("magic")
            version = f.attrs.get("version")
            if magic is None or int(np.asarray(magic).reshape(-1)[0]) != SONATA_MAGIC:
                errors.append(f"/ attribute magic is {magic!r}, expected 0x0A7A")
            if version is None or np.asarray(version).size != 2:
                errors.append(f"/ attribute version is {version!r}, expected 2 x uint32")
            notes.append("magic/version ok")
        elif args.require_magic:
            errors.append("/ has no magic/version attributes")
        else:
            notes.append("no magic/version")

        if "spikes" not in f or not isinstance(f["spikes"], h5py.Group):
            return errors + ["no /spikes group"], notes, {}
        children = set(f["spikes"].keys())
        for extra in sorted(children - set(pops)):
            errors.append(f"/spikes/{extra} is not a population of the summary "
                          "(libsonata would list it as one)")

        for name, info in pops.items():
            where = f"/spikes/{name}"
            if name not in children or not isinstance(f["spikes"][name], h5py.Group):
                errors.append(f"{where}: missing group")
                continue
            g = f["spikes"][name]
            n = int(info["n"])
            expected = int(info["spikes"])

            # sorting attribute: scalar int8 enum {none:0, by_id:1, by_time:2} = by_time
            if "sorting" not in g.attrs:
                errors.append(f"{where}: no 'sorting' attribute")
            else:
                aid = g.attrs.get_id("sorting")
                dt = aid.dtype
                mapping = h5py.check_enum_dtype(dt)
                if mapping is None:
                    errors.append(f"{where}@sorting: not an HDF5 enum (dtype {dt}); "
                                  "libsonata cannot read a plain integer")
                else:
                    if dt.kind != "i" or dt.itemsize != 1:
                        errors.append(f"{where}@sorting: enum base is {dt}, expected int8")
                    if dict(mapping) != SORTING_MEMBERS:
                        errors.append(f"{where}@sorting: enum members {dict(mapping)}, "
                                      f"expected {SORTING_MEMBERS}")
                    if aid.shape not in ((),):
                        errors.append(f"{where}@sorting: shape {aid.shape}, expected scalar")
                    value = int(np.asarray(g.attrs["sorting"]).reshape(-1)[0])
                    if value != SORTING_MEMBERS["by_time"]:
                        errors.append(f"{where}@sorting: value {value}, expected by_time (2)")

            if "node_ids" not in g or "timestamps" not in g:
                errors.append(f"{where}: needs datasets node_ids and timestamps")
                continue
            d_ids, d_ts = g["node_ids"], g["timestamps"]
            if d_ids.dtype != np.dtype("uint64"):
                errors.append(f"{where}/node_ids: dtype {d_ids.dtype}, expected uint64")
            if d_ts.dtype != np.dtype("float64"):
                errors.append(f"{where}/timestamps: dtype {d_ts.dtype}, expected float64")
            if d_ids.ndim != 1 or d_ts.ndim != 1:
                errors.append(f"{where}: node_ids/timestamps must be 1-D "
                              f"(shapes {d_ids.shape}, {d_ts.shape})")
                continue
            units = attr_text(d_ts.attrs.get("units"))
            if units != "ms":
                errors.append(f"{where}/timestamps@units: {d_ts.attrs.get('units')!r}, "
                              "expected 'ms' (libsonata requires the attribute)")

            ids = d_ids[()].astype(np.uint64)
            ts = d_ts[()].astype(np.float64)
            h5_data[name] = (ids, ts)
            if len(ids) != len(ts):
                errors.append(f"{where}: {len(ids)} node_ids but {len(ts)} timestamps")
                continue
            if len(ids) != expected:
                errors.append(f"{where}: h5py reads {len(ids)} spikes, summary says {expected}")
            if len(ids):
                if ids.max() >= n:
                    errors.append(f"{where}: node_id {int(ids.max())} >= n = {n}")
                if not np.all(np.isfinite(ts)):
                    errors.append(f"{where}: non-finite timestamps")
                elif ts.min() < 0 or ts.max() > duration:
                    errors.append(f"{where}: timestamps span [{ts.min()}, {ts.max()}] ms, "
                                  f"outside [0, {duration}]")
                dt_ = np.diff(ts)
                bad = np.flatnonzero((dt_ < 0) | ((dt_ == 0) & (np.diff(ids.astype(np.int64)) <= 0)))
                if bad.size:
                    i = int(bad[0])
                    errors.append(f"{where}: not sorted by (time, node_id) at index {i}: "
                                  f"({int(ids[i])}, {ts[i]}) then ({int(ids[i + 1])}, {ts[i + 1]}) "
                                  f"[{bad.size} violations]")
            rate = info.get("rate_hz")
            if isinstance(rate, (int, float)) and n > 0:
                want = expected / n / (duration / 1000.0)
                if not math.isclose(rate, want, rel_tol=1e-3, abs_tol=1e-9):
                    errors.append(f"{name}: rate_hz {rate} != spikes/n/duration = {want:.6g} "
                                  f"(duration {duration} ms)")

    # The same file through libsonata.
    try:
        reader = libsonata.SpikeReader(args.h5)
        names = set(reader.get_population_names())
    except Exception as e:  # libsonata raises RuntimeError/SonataError
        return errors + [f"libsonata cannot open the file: {e}"], notes, h5_data
    if names != set(pops):
        errors.append(f"libsonata populations {sorted(names)} != summary {sorted(pops)}")
    for name, info in pops.items():
        if name not in names:
            continue
        try:
            pop = reader[name]
            spikes = pop.get()
            sorting = pop.sorting
            units = getattr(pop, "time_units", "ms")
        except Exception as e:
            errors.append(f"libsonata cannot read population {name}: {e}")
            continue
        if sorting != "by_time":
            errors.append(f"libsonata: {name} sorting is {sorting!r}, expected 'by_time'")
        if units != "ms":
            errors.append(f"libsonata: {name} time units {units!r}, expected 'ms'")
        if len(spikes) != int(info["spikes"]):
            errors.append(f"libsonata reads {len(spikes)} spikes in {name}, "
                          f"summary says {info['spikes']}")
        if name in h5_data:
            ids, ts = h5_data[name]
            l_ids = np.fromiter((s[0] for s in spikes), dtype=np.uint64, count=len(spikes))
            l_ts = np.fromiter((s[1] for s in spikes), dtype=np.float64, count=len(spikes))
            if len(l_ids) != len(ids) or not (np.array_equal(l_ids, ids)
                                               and np.array_equal(l_ts, ts)):
                m = min(len(l_ids), len(ids))
                diff = np.flatnonzero((l_ids[:m] != ids[:m]) | (l_ts[:m] != ts[:m]))
                first = int(diff[0]) if diff.size else m
                errors.append(f"{name}: libsonata and h5py (node_id, time) lists differ "
                              f"(lengths {len(l_ids)} / {len(ids)}, first difference at {first})")
            if len(ts):
                t0, t1 = pop.times
                if (t0, t1) != (float(ts[0]), float(ts[-1])):
                    errors.append(f"libsonata: {name} times {(t0, t1)} != first/last "
                                  f"timestamps {(float(ts[0]), float(ts[-1]))}")
    return errors, notes, h5_data


def main(argv=None):
    args = parse_args(argv)
    try:
        errors, notes, data = check(args)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        print(f"check_sonata: FAIL {args.h5}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if errors:
        for e in errors:
            print(f"check_sonata: FAIL {args.h5}: {e}", file=sys.stderr)
        return 1
    per_pop = ", ".join(f"{k}={len(v[0])}" for k, v in data.items())
    total = sum(len(v[0]) for v in data.values())
    print(f"OK {args.h5}: {total} spikes ({per_pop}), sorted by_time, units ms, "
          f"libsonata == h5py, {'; '.join(notes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
