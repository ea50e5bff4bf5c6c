#!/usr/bin/env python3
"""Runs every shipped recall config (and the README's variants) and prints the metrics
as one markdown table. Usage: python3 scripts/recall_table.py [--engram PATH] [--out FILE]"""
import argparse
import json
import subprocess
import tempfile
import os

OHMIC = ["projections.sensory_to_cortex.gap.kind=ohmic", "projections.cortex_to_mtl.gap.kind=ohmic"]
TAGS_OFF = ["projections.sensory_to_cortex.gap.c0=1", "projections.cortex_to_mtl.gap.c0=1"]
RUNS = [
    ("recall.toml", []),
    ("recall.toml", ["experiment.memories=30"]),
    ("recall-no-ach.toml", []),
    ("recall-no-gap.toml", []),
    ("recall-fixed.toml", []),
    ("recall-fixed-no-tags.toml", []),
    ("recall-images.toml", []),
    ("recall-images.toml", ["simulation.seed=2"]),
    ("recall-images.toml", ["simulation.seed=3"]),
    ("recall-images.toml", ["stimuli.path=tests/images/letters"]),
    ("recall-images.toml", ["stimuli.path=tests/images/letters2"]),
    ("recall-images.toml", ["stimuli.path=tests/images/lowercase"]),
    ("recall-images.toml", ["stimuli.path=tests/images/digits3x5"]),
    ("recall-images.toml", ["stimuli.path=tests/images/letters3x5"]),
    ("recall-images.toml", ["stimuli.path=tests/images/letters3x5b"]),
    ("recall-images.toml", ["stimuli.path=tests/images/letters4x5"]),
    ("recall-images.toml", ["stimuli.path=tests/images/digits4x5"]),
    ("recall-images.toml", ["stimuli.path=tests/images/lowercase2"]),
    ("recall.toml", TAGS_OFF),
    ("recall.toml", TAGS_OFF + ["experiment.memories=30"]),
    ("recall.toml", OHMIC),
    ("recall.toml", OHMIC + ["experiment.memories=30"]),
]


def fmt(x):
    return "-" if x is None else f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engram", default="target/release/engram")
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = ["| config | --set | memories | identification (weak, silent) | best match | "
            "fidelity (Pearson) mean / min | specificity | Jaccard own / between memories | "
            "sensory recall spikes | latency from cue mtl / cortex / sensory (ms) | naming |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for config, sets in RUNS:
            cmd = [args.engram, "run", f"configs/{config}", "-o", os.path.join(tmp, "r.h5"),
                   "--force", "--json"]
            for s in sets:
                cmd += ["--set", s]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            d = json.loads(out)
            r = d["recall"]
            import h5py  # only needed for the recall spike count
            with h5py.File(d["output"]) as f:
                spikes = int(f["analysis/" + r["latency_ms"][-1]["population"] + "/recalled_counts"][:].sum())
            lat = " / ".join(fmt(l["mean_ms"]) for l in r["latency_ms"])
            naming = d.get("naming") or {}
            shown = ", ".join(s.replace("projections.", "") for s in sets) or "-"
            rows.append(f"| {config} | {shown} | {r['n_memories']} | "
                        f"{fmt(r['identification_accuracy'])} ({r['weak']}, {r['silent']}) | "
                        f"{fmt(r['best_match_accuracy'])} | "
                        f"{fmt(r['fidelity_mean'])} / {fmt(r['fidelity_min'])} | "
                        f"{fmt(r['specificity_mean'])} | "
                        f"{fmt(r['jaccard_mean'])} / {fmt(r['jaccard_between_memories'])} | "
                        f"{spikes} | {lat} | {fmt(naming.get('accuracy'))} |")
            print(rows[-1], flush=True)
    text = "\n".join(rows) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
