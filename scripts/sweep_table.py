#!/usr/bin/env python3
"""A markdown table of a recall sweep: one row per parameter point, each metric as the mean
± sd [min, max] over the point's repeats (seeds), with the spontaneous rate each layer
reached (measured in the run, in its delay phase) and the latency from the cue per layer.
For a sweep of content cues (points with `content_cue` in their summary) it adds the pointer
layer's identification and the sensory completion metrics.

Usage:
    python3 scripts/sweep_table.py results/sweep-background [--out results/x.md]
                                   [--title TEXT]

Reads only the sweep's `points/*.json` (no Python packages needed).
"""
import argparse
import glob
import json
import os
import statistics


def stat(values, digits=2):
    v = [x for x in values if x is not None]
    if not v:
        return "-"
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return (f"{statistics.fmean(v):.{digits}f} ± {sd:.{digits}f} "
            f"[{min(v):.{digits}f}, {max(v):.{digits}f}]")


def mean(values, digits=1):
    v = [x for x in values if x is not None]
    return "-" if not v else f"{statistics.fmean(v):.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sweep")
    ap.add_argument("--out")
    ap.add_argument("--title")
    args = ap.parse_args()
    groups = {}
    order = []
    for f in sorted(glob.glob(os.path.join(args.sweep, "points", "*.json"))):
        p = json.load(open(f))
        key = tuple(p["parameters"].items())
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(p["summary"])
    if not order:
        raise SystemExit(f"{args.sweep}: no points/*.json")
    fields = [k for k, _ in order[0]]
    layers = [l["population"] for l in groups[order[0]][0]["layers"]]
    head = ["| " + " | ".join(f"`{f}`" for f in fields),
            "seeds", "identification", "fidelity mean", "fidelity min", "weak + silent",
            "spontaneous Hz " + " / ".join(layers),
            "latency from cue (ms) " + " / ".join(reversed(layers)),
            "cortex-before-sensory |"]
    content = "content_cue" in groups[order[0]][0]
    if content:
        head[-1] = "cortex-before-sensory"
        head += ["pointer identification", "completion", "false completion",
                 "completion (>= 1 spike)", "false completion (>= 1 spike)",
                 "spontaneous p", "cued cells firing |"]
    lines = [" | ".join(head), "|" + "---|" * (len(fields) + 8 + 7 * content)]
    for key in order:
        runs = groups[key]
        r = [s["recall"] for s in runs]
        spont = " / ".join(
            mean([next(l["spontaneous_hz"] for l in s["layers"] if l["population"] == p)
                  for s in runs]) for p in layers)
        lat = []
        for p in reversed(layers):
            vals = [next((x.get("mean_ms") for x in s["recall"]["latency_ms"]
                          if x["population"] == p), None) for s in runs]
            found = sum(v is not None for v in vals)
            lat.append(f"{mean(vals)} ({found}/{len(runs)})")
        ordered = sum(bool(x.get("latency_ordered_below_pointer")) for x in r)
        cells = [f"{v}" for _, v in key] + [
            str(len(runs)),
            stat([x["identification_accuracy"] for x in r]),
            stat([x["fidelity_mean"] for x in r]),
            stat([x["fidelity_min"] for x in r]),
            stat([x["weak"] + x["silent"] for x in r], 1),
            spont,
            " / ".join(lat),
            f"{ordered}/{len(runs)}",
        ]
        if content:
            c = [s["content_cue"] for s in runs]
            cells += [
                stat([s["layers"][-1]["identification_accuracy"] for s in runs]),
                stat([x["completion_mean"] for x in c]),
                stat([x["false_completion_mean"] for x in c], 3),
                stat([x["any_spike_completion_mean"] for x in c]),
                stat([x["any_spike_false_completion_mean"] for x in c]),
                mean([x["spontaneous_p"] for x in c], 2),
                stat([x["cued_fired_mean"] for x in c]),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    if args.title:
        text = f"# {args.title}\n\n" + text
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
