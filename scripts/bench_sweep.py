#!/usr/bin/env python3
"""Speed-up of `engram sweep` with --jobs: a 16-point sweep with --jobs 1 and --jobs N.

The sweep is a seed sweep of the CUBA network (configs/cuba.toml, 4000 neurons) lengthened
to 8 s of simulated time, so a point takes about 0.5-1 s on one thread and process and
file overheads do not dominate. Each round runs --jobs 1 and --jobs N once (alternating
which goes first, so slow phases of a shared machine hit both); the report gives the
median wall time of each, their ratio, and the load average before each run.

Usage: scripts/bench_sweep.py [--rounds 7] [--jobs 2] [--duration-ms 8000] [--out results/bench-sweep.md]
"""

import argparse
import concurrent.futures
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def loadavg():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


def busy_cpu_s():
    """CPU seconds spent busy by the whole machine so far (all CPUs), from /proc/stat."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return float("nan")
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--points", type=int, default=16)
    ap.add_argument("--duration-ms", type=float, default=8000.0)
    ap.add_argument("--out", default=str(ROOT / "results" / "bench-sweep.md"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-baseline", dest="baseline", action="store_false",
                    help="skip the baseline of independent `engram run` processes")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "engram"], cwd=ROOT, check=True)
    engram = ROOT / "target" / "release" / "engram"

    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    sweep = tmp / "bench.toml"
    sweep.write_text(
        f'base = "{ROOT / "configs" / "cuba.toml"}"\n'
        f"repeats = {args.points}\n"
        "[axes]\n"
        f'"simulation.duration_ms" = [{args.duration_ms}]\n'
    )
    def processes(jobs):
        """The same points as independent `engram run` processes, `jobs` at a time."""
        def one(k):
            subprocess.run(
                [str(engram), "run", str(ROOT / "configs" / "cuba.toml"), "-o", str(tmp / f"p{k}.h5"),
                 "--force", "--quiet", "--threads", "1", "--seed", str(k + 1),
                 "--set", f"simulation.duration_ms={args.duration_ms}"],
                check=True,
            )
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, range(args.points)))
        return time.perf_counter() - t0

    baseline = {1: [], args.jobs: []}
    runs = {1: [], args.jobs: []}
    loads = {1: [], args.jobs: []}
    others_load = {1: [], args.jobs: []}
    cores = {1: [], args.jobs: []}
    point_s = []
    try:
        for r in range(args.rounds):
            order = [1, args.jobs] if r % 2 == 0 else [args.jobs, 1]
            for jobs in order:
                out = tmp / f"out-{jobs}"
                shutil.rmtree(out, ignore_errors=True)
                load = loadavg()
                busy0, ours0 = busy_cpu_s(), children_cpu_s()
                t0 = time.perf_counter()
                p = subprocess.run(
                    [str(engram), "sweep", str(sweep), "-o", str(out), "--jobs", str(jobs), "--json"],
                    capture_output=True,
                    text=True,
                )
                wall = time.perf_counter() - t0
                cpu = children_cpu_s() - ours0
                # Cores kept busy by other processes during the run, on average.
                others = max(0.0, (busy_cpu_s() - busy0) - cpu) / wall
                if p.returncode != 0:
                    sys.exit(f"engram sweep failed:\n{p.stderr}")
                summary = json.loads(p.stdout)
                assert summary["done"] == args.points, summary
                runs[jobs].append(wall)
                loads[jobs].append(load)
                others_load[jobs].append(others)
                cores[jobs].append(cpu / wall)
                if jobs == 1:
                    point_s.append(wall / args.points)
                if args.baseline:
                    b = processes(jobs)
                    baseline[jobs].append(b)
                    print(f"round {r + 1}: {jobs} independent engram run processes at a time: {b:.2f} s",
                          flush=True)
                print(
                    f"round {r + 1}: --jobs {jobs}: {wall:.2f} s "
                    f"using {cpu / wall:.2f} cores (load average before: {load:.2f}; "
                    f"other processes used {others:.2f} cores)",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    m1 = statistics.median(runs[1])
    mn = statistics.median(runs[args.jobs])
    ratio = m1 / mn
    # Rounds pair a --jobs 1 and a --jobs N run made close in time: the median of their
    # ratios is less sensitive to slow phases of the machine than the ratio of medians.
    paired = statistics.median(a / b for a, b in zip(runs[1], runs[args.jobs]))
    all_loads = loads[1] + loads[args.jobs]
    verdict = "meets" if ratio >= 1.8 else "misses"
    lines = [
        "# engram sweep: --jobs speed-up",
        "",
        f"A {args.points}-point seed sweep of `configs/cuba.toml` (4000 neurons) for "
        f"{args.duration_ms / 1000:g} s of simulated time per point, each point on one "
        f"simulation thread; {args.rounds} rounds, --jobs 1 and --jobs {args.jobs} alternating. "
        f"Made by `scripts/bench_sweep.py` on {time.strftime('%Y-%m-%d')}.",
        "",
        f"Machine: {cpu_name()}, {os.cpu_count()} logical CPUs, shared with other work "
        f"(1-minute load average before the runs: {min(all_loads):.2f} to {max(all_loads):.2f}, "
        "which includes the previous run; the last column is the CPU time other processes "
        "used during each run, in cores, from /proc/stat minus the sweep's own CPU time).",
        "",
        "| --jobs | wall times (s) | median (s) | per point (s) | cores used by the sweep "
        "(CPU time / wall time) | cores used by others |",
        "|---:|---|---:|---:|---|---|",
        f"| 1 | {', '.join(f'{w:.2f}' for w in runs[1])} | {m1:.2f} | {m1 / args.points:.3f} | "
        f"{', '.join(f'{x:.2f}' for x in cores[1])} | "
        f"{', '.join(f'{x:.2f}' for x in others_load[1])} |",
        f"| {args.jobs} | {', '.join(f'{w:.2f}' for w in runs[args.jobs])} | {mn:.2f} | "
        f"{mn / args.points:.3f} | {', '.join(f'{x:.2f}' for x in cores[args.jobs])} | "
        f"{', '.join(f'{x:.2f}' for x in others_load[args.jobs])} |",
        "",
        f"Speed-up (median --jobs 1 / median --jobs {args.jobs}): **{ratio:.3f}x** "
        f"({verdict} the 1.8x target); median of the per-round ratios: {paired:.3f}x.",
        "",
    ]
    if args.baseline:
        b1 = statistics.median(baseline[1])
        bn = statistics.median(baseline[args.jobs])
        lines += [
            f"Baseline: the same {args.points} points as independent `engram run` processes, 1 or "
            f"{args.jobs} at a time (no sweep involved), in the same rounds: medians {b1:.2f} s and "
            f"{bn:.2f} s, **{b1 / bn:.3f}x**. Each process also starts up, loads the HDF5 "
            "library and reads its config, which the sweep does once.",
            "",
        ]
    # speed-up = (cores the sweep keeps busy) / (CPU time of the points, relative to --jobs 1)
    busy = statistics.median(cores[args.jobs])
    cpu1 = statistics.median(w * c for w, c in zip(runs[1], cores[1]))
    cpun = statistics.median(w * c for w, c in zip(runs[args.jobs], cores[args.jobs]))
    lines += [
        f"Where the rest goes: with --jobs {args.jobs} the sweep keeps {busy:.2f} of {args.jobs} cores "
        f"busy (the tail, where one worker runs the last point while the other has nothing "
        f"left, and the sweep's own work), and the same points take {cpun / cpu1:.2f} times the "
        f"CPU time they take one at a time ({cpun:.2f} s against {cpu1:.2f} s in all, medians "
        "over rounds; two simulations at once share the caches, the memory bus and the host's "
        "clock). The CPU time of identical work also drifts by up to 30 % from minute to minute "
        "on this shared machine (other guests of the host do not show in /proc/stat), hence "
        "the alternating rounds and the medians.",
        "",
    ]
    text = "\n".join(lines)
    print()
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
