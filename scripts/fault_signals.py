#!/usr/bin/env python3
"""Fault injection: `engram run` killed by SIGKILL, SIGINT and SIGTERM at random moments.

For each signal the script starts `engram run CONFIG` N times, each into a new output name
in one folder per signal, and sends the signal after a random delay between 0 and the
length of an uninterrupted run (measured first; the delays come from a fixed seed, so a
rerun sends the same signals at the same moments). After each run it records:

- the exit code (a negative code is a death by that signal, as Python reports it; a run
  that ended before its delay is "finished" and gets no signal);
- whether a temporary file of that run (`.<name>.tmp-<pid>`) is left in the folder;
- whether a file is at the final name, and whether it is complete (`engram inspect
  --json` reads it and its duration is the configured one).

Expected: SIGINT and SIGTERM end a run with 130 and 143, leaving neither a temporary file
nor an output; SIGKILL may leave the temporary file (nothing can run), but never an
incomplete file at the final name. Every run removes the stale temporary files of killed
runs in its folder, so after each signal's runs one more, uninterrupted, run goes into the
folder: it must leave no temporary file behind, and it counts the files it removed.

Prints a Markdown table; exits with 1 if an expectation fails.

Usage: scripts/fault_signals.py [--runs 20] [--seed 1] [--config configs/cuba.toml]
           [--duration-ms 5000] [--threads 1] [--engram target/release/engram] [--dir DIR]
"""

import argparse
import collections
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
# The exit code of a run that ends cleanly on the signal.
CLEAN_EXIT = {"SIGINT": 130, "SIGTERM": 143}


def run_args(args, out):
    """The command line of one run into `out`."""
    return [
        str(args.engram),
        "run",
        str(args.config),
        "-o",
        str(out),
        "--quiet",
        "--threads",
        str(args.threads),
        "--set",
        f"simulation.duration_ms={args.duration_ms}",
    ]


def temporaries(folder, name, pid=None):
    """The temporary files of output `name` in `folder` (of process `pid`, if given)."""
    pattern = re.compile(r"^\." + re.escape(name) + r"\.tmp-(\d+)$")
    found = []
    for p in folder.iterdir():
        m = pattern.match(p.name)
        if m and (pid is None or int(m.group(1)) == pid):
            found.append(p)
    return found


def complete(args, path):
    """Whether `path` is a complete output of the configured run."""
    o = subprocess.run(
        [str(args.engram), "inspect", str(path), "--json"],
        capture_output=True,
        text=True,
    )
    if o.returncode != 0:
        return False
    try:
        prov = json.loads(o.stdout)["provenance"]
        return float(prov["duration_ms"]) == float(args.duration_ms)
    except (ValueError, KeyError):
        return False


def measure(args, folder):
    """The wall time (s) of an uninterrupted run."""
    out = folder / "measure.h5"
    t0 = time.monotonic()
    o = subprocess.run(run_args(args, out), capture_output=True, text=True)
    wall = time.monotonic() - t0
    if o.returncode != 0 or not complete(args, out):
        sys.exit(f"the uninterrupted run failed ({o.returncode}):\n{o.stderr}")
    out.unlink()
    return wall


def one_run(args, folder, k, sig, delay):
    """Runs once and sends `sig` after `delay` s; returns what it left."""
    name = f"run-{k:03d}.h5"
    out = folder / name
    p = subprocess.Popen(
        run_args(args, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.monotonic()
    while p.poll() is None and time.monotonic() - t0 < delay:
        time.sleep(0.002)
    signalled = p.poll() is None
    if signalled:
        p.send_signal(SIGNALS[sig])
    hung = False
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        hung = True
        p.kill()
        _, err = p.communicate()
    return {
        "name": name,
        "delay": delay,
        "signalled": signalled,
        "code": p.returncode,
        "hung": hung,
        "temporary": bool(temporaries(folder, name, p.pid)),
        "final": out.exists(),
        "complete": out.exists() and complete(args, out),
        "stderr": err.strip(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="runs per signal (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the delays (default 1)")
    ap.add_argument("--config", type=Path, default=ROOT / "configs/cuba.toml")
    ap.add_argument("--duration-ms", type=float, default=5000.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--engram", type=Path, default=ROOT / "target/release/engram")
    ap.add_argument("--dir", type=Path, help="work folder (default: a new temporary one)")
    ap.add_argument(
        "--signals",
        default="SIGKILL,SIGINT,SIGTERM",
        help="comma-separated, of SIGKILL, SIGINT, SIGTERM",
    )
    args = ap.parse_args()
    if not args.engram.is_file():
        sys.exit(f"{args.engram}: not built (cargo build --release -p engram)")
    work = args.dir or Path(tempfile.mkdtemp(prefix="engram-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    wall = measure(args, work)
    print(
        f"config {args.config}, {args.duration_ms:g} ms, {args.threads} thread(s): "
        f"{wall:.2f} s uninterrupted; delays uniform in [0, {wall:.2f}] s, seed {args.seed}; "
        f"work folder {work}",
        file=sys.stderr,
    )

    rows = []
    failures = []
    for sig in args.signals.split(","):
        if sig not in SIGNALS:
            sys.exit(f"--signals: unknown {sig}")
        folder = work / sig
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        results = []
        removed_by_next = 0
        for k in range(args.runs):
            r = one_run(args, folder, k, sig, rng.uniform(0.0, wall))
            removed_by_next += r["stderr"].count("a temporary file left by process")
            results.append(r)
            what = f"{sig} run {k} (delay {r['delay']:.3f} s, exit {r['code']})"
            if r["hung"]:
                failures.append(f"{what}: did not end within 60 s of the signal")
            if r["final"] and not r["complete"]:
                failures.append(f"{what}: an incomplete file at the final name")
            if sig in CLEAN_EXIT and r["code"] == CLEAN_EXIT[sig]:
                if r["temporary"] or r["final"]:
                    failures.append(f"{what}: left a file: {r['stderr']}")
                own = [
                    line
                    for line in r["stderr"].splitlines()
                    if "a temporary file left by process" not in line
                ]
                if len(own) != 1 or "no output written" not in own[0]:
                    failures.append(f"{what}: not one line on stderr: {r['stderr']!r}")
            if r["code"] == 0 and not r["complete"]:
                failures.append(f"{what}: exit 0 without a complete file")
        # One more, uninterrupted run into the folder: it removes what the last killed
        # run left, and nothing may stay.
        final = subprocess.run(
            run_args(args, folder / "after.h5"), capture_output=True, text=True
        )
        removed_by_next += final.stderr.count("a temporary file left by process")
        left = [p.name for p in folder.iterdir() if ".tmp-" in p.name]
        if final.returncode != 0:
            failures.append(f"{sig}: the run after the faults failed: {final.stderr}")
        if left:
            failures.append(f"{sig}: temporary files left after the next run: {left}")
        codes = collections.Counter(
            "finished 0" if not r["signalled"] else str(r["code"]) for r in results
        )
        killed = [r for r in results if r["signalled"] and r["code"] != 0]
        rows.append(
            {
                "signal": sig,
                "runs": len(results),
                "codes": ", ".join(f"{c} x{n}" for c, n in sorted(codes.items())),
                "temporary": sum(r["temporary"] for r in results),
                "final_after_kill": sum(r["final"] for r in killed),
                "incomplete": sum(r["final"] and not r["complete"] for r in results),
                "removed": removed_by_next,
                "left": len(left),
            }
        )

    print(
        "| signal | runs | exit codes (count) | left a temporary file | file at the final "
        "name after a kill | incomplete file at the final name | stale files removed by "
        "later runs | temporary files left after the next run |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['signal']} | {r['runs']} | {r['codes']} | {r['temporary']} | "
            f"{r['final_after_kill']} | {r['incomplete']} | {r['removed']} | {r['left']} |"
        )
    print(
        "\nExit codes: 130/143 = clean stop on SIGINT/SIGTERM; -N = killed by signal N; "
        "'finished 0' = the run ended before its delay and got no signal; 0 = the signal "
        "arrived after the file was published."
    )
    if failures:
        print("\nFAILED:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
