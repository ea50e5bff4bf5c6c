#!/usr/bin/env python3
"""The ablation table of the recall experiment: every variant of configs/recall.toml over
seeds 1-5 at 10 and 30 memories, as mean, spread and range per metric.

Usage:
    python3 scripts/ablations.py [--engram PATH] [--seeds 1 2 3 4 5] [--memories 10 30]
                                 [--jobs 2] [--out-md results/ablations.md]
                                 [--out-json results/ablations.json]

Each run is `engram run configs/<config> --seed S --set experiment.memories=M [--set ...]
--json`; only the run's JSON summary is read (no Python packages are needed).
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import tempfile

BOTH = ["sensory_to_cortex", "cortex_to_mtl"]


def both(field, value):
    return [f"projections.{p}.{field}={value}" for p in BOTH]


# (label, config, --set edits, what the row tests)
VARIANTS = [
    ("default", "recall.toml", [], "the model"),
    ("no ACh pulse", "recall.toml", ["experiment.ach_pulse.amplitude=0"],
     "holds by construction: bAP and junction gains are 0 without ACh"),
    ("kappa 0", "recall.toml", both("gap.kappa_ns", 0.0),
     "holds by construction: no junction, no backward current"),
    ("only the bAP gated by ACh", "recall.toml",
     ["ach.effects.gap_gain.min=1.0", "ach.effects.gap_gain.max=1.0"],
     "junctions always open; can fail if open junctions spread spontaneous bAPs"),
    ("only the junctions gated by ACh", "recall.toml",
     ["ach.effects.bap_gain.min=1.0", "ach.effects.bap_gain.max=1.0"],
     "every spike carries a bAP; can fail if the bAP alone is needed"),
    ("no ACh suppression of forward synapses", "recall.toml",
     ["ach.effects.forward_gain.max=1.0"],
     "can fail if forward activity during recall swamps the backward path"),
    ("tags off (c0 = 1)", "recall.toml", both("gap.c0", 1.0),
     "every junction conducts by its weight, not only those that carried a memory"),
    ("ohmic junctions", "recall.toml", both("gap.kind", "ohmic"),
     "current may also flow out of the presynaptic soma"),
    ("ohmic junctions with loading (C_d = 100 pF)", "recall.toml",
     both("gap.kind", "ohmic") + both("gap.dendrite_pf", 100.0),
     "the junction current also drains the postsynaptic dendrite, silent partners shunt it"),
    ("feedback synapses instead of junctions", "recall-feedback.toml", [],
     "the competing hypothesis: learned chemical feedback, always on, no bAP"),
    ("feedback synapses, gated by ACh", "recall-feedback.toml",
     ["ach.effects.gap_gain.min=0.0"],
     "the competing hypothesis given the same ACh gate as the junctions"),
]


def run(engram, config, sets, seed, memories):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [engram, "run", f"configs/{config}", "-o", os.path.join(tmp, "r.h5"),
               "--threads", "1", "--quiet", "--json", "--seed", str(seed),
               "--set", f"experiment.memories={memories}"]
        for s in sets:
            cmd += ["--set", s]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return {"error": p.stderr.strip()}
        d = json.loads(p.stdout)
    r = d["recall"]
    lat = {x["population"]: x.get("mean_ms") for x in r["latency_ms"]}
    spont = {x["population"]: x.get("spontaneous_hz") for x in d.get("layers", [])}
    return {
        "identification": r["identification_accuracy"],
        "best_match": r["best_match_accuracy"],
        "fidelity_mean": r["fidelity_mean"],
        "fidelity_min": r["fidelity_min"],
        "weak": r["weak"],
        "silent": r["silent"],
        "jaccard_own": r["jaccard_mean"],
        "jaccard_between": r["jaccard_between_memories"],
        "latency_cortex_ms": lat.get("cortex"),
        "latency_sensory_ms": lat.get("sensory"),
        "spontaneous_hz": spont,
    }


def summary(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {
        "mean": statistics.fmean(v),
        "sd": statistics.stdev(v) if len(v) > 1 else 0.0,
        "min": min(v),
        "max": max(v),
        "n": len(v),
    }


def cell(s, digits=2):
    if s is None:
        return "-"
    return (f"{s['mean']:.{digits}f} ± {s['sd']:.{digits}f} "
            f"[{s['min']:.{digits}f}, {s['max']:.{digits}f}]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engram", default="target/release/engram")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--memories", type=int, nargs="+", default=[10, 30])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", help="run only the variants whose label contains this")
    ap.add_argument("--out-md")
    ap.add_argument("--out-json")
    args = ap.parse_args()
    variants = [v for v in VARIANTS if not args.only or args.only in v[0]]
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for label, config, sets, _ in variants:
            for m in args.memories:
                for s in args.seeds:
                    jobs[(label, m, s)] = pool.submit(run, args.engram, config, sets, s, m)
    results = {k: f.result() for k, f in jobs.items()}
    rows = []
    table = ["| variant | memories | identification | fidelity mean | fidelity min | "
             "weak + silent | latency cortex / sensory (ms) | what it tests |",
             "|---|---:|---|---|---|---|---|---|"]
    for label, config, sets, note in variants:
        for m in args.memories:
            runs = [results[(label, m, s)] for s in args.seeds]
            errors = [r["error"] for r in runs if "error" in r]
            ok = [r for r in runs if "error" not in r]
            agg = {k: summary([r[k] for r in ok]) for k in [
                "identification", "best_match", "fidelity_mean", "fidelity_min",
                "latency_cortex_ms", "latency_sensory_ms"]}
            agg["weak_silent"] = summary([r["weak"] + r["silent"] for r in ok])
            rows.append({"variant": label, "config": config, "set": sets, "memories": m,
                         "seeds": args.seeds, "runs": runs, "summary": agg,
                         "errors": errors})
            lat = "-"
            if agg["latency_cortex_ms"] or agg["latency_sensory_ms"]:
                c = agg["latency_cortex_ms"]
                s_ = agg["latency_sensory_ms"]
                lat = (f"{c['mean']:.1f} ({c['n']}/{len(ok)})" if c else "-") + " / " + \
                      (f"{s_['mean']:.1f} ({s_['n']}/{len(ok)})" if s_ else "-")
            ws = agg["weak_silent"]
            ws_text = "-" if ws is None else f"{ws['mean']:.1f} of {m} [{ws['min']:.0f}, {ws['max']:.0f}]"
            err = f" ({len(errors)} runs failed: {errors[0][:80]})" if errors else ""
            table.append(f"| {label}{err} | {m} | {cell(agg['identification'])} | "
                         f"{cell(agg['fidelity_mean'])} | {cell(agg['fidelity_min'])} | "
                         f"{ws_text} | {lat} | {note} |")
    text = "\n".join(table)
    print(text)
    if args.out_md:
        with open(args.out_md, "w") as f:
            f.write("# Ablations of the recall experiment\n\n")
            f.write("`python3 scripts/ablations.py` on configs/recall.toml (spontaneous "
                    "activity in every layer), seeds "
                    f"{', '.join(map(str, args.seeds))}; each cell is mean ± sd [min, max] "
                    "over the seeds. Identification counts a recall only when its fidelity "
                    "row peaks at the cued memory and at least a quarter of the memory's "
                    "encoded sensory ensemble fires above spontaneous activity. Latencies "
                    "are from the cue, as the mean over runs where the layer's onset was "
                    "found (runs with an onset / runs).\n\n")
            f.write(text + "\n")
    if args.out_json:
        with open(args.out_json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
