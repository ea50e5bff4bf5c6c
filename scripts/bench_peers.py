#!/usr/bin/env python3
"""Side-by-side CUBA benchmark: engram vs Brian2 (cpp_standalone) vs NEST.

The network is Brian2's CUBA example (Vogels & Abbott 2005 / Brette et al.
2007): N LIF neurons (80 % E, 20 % I), connection probability 80/N (mean
in-degree and out-degree 80), dt 0.1 ms, 1 s simulated.  The peer
implementations are scripts/peers/cuba_brian2.py and scripts/peers/cuba_nest.py;
engram runs configs/cuba.toml, resized with --set for N != 4000.

What the script does, in one invocation:

1. creates (if missing) the virtualenv .venv-bench/ in the repository root and
   installs brian2, nest-simulator, h5py, libsonata and numpy into it;
2. builds engram (`cargo build --release -p engram`) unless --peers-only;
3. runs every simulator for every (size, threads, seed); the repetitions
   (seeds) form the outer loop and the simulator order is rotated from round
   to round, so slow phases of a shared, noisy machine hit all simulators
   alike;
4. checks each engram spike file with scripts/check_sonata.py;
5. writes the medians (rate, run time, build/compile time, wall time,
   synaptic events per second = spikes * 80 / run_s) and the engram/peer
   ratios to results/bench-cuba.md, and every single run to
   results/bench-cuba.json.

Timing columns (per simulator):
  run    simulation loop only: Brian2's own timer around the time-step loop in
         the compiled binary; wall time of nest.Simulate; engram's sim_s
  build  Brian2: model construction + code generation + C++ compilation
         (fresh build directory, no cache); NEST: Create + Connect;
         engram: build_s (network construction)
  wall   the simulator's own end-to-end measure (Brian2/NEST: whole script
         including the import; engram: wall_s)
  proc   wall time of the whole process as seen by this script

Usage:
    python3 scripts/bench_peers.py                 # full benchmark
    python3 scripts/bench_peers.py --quick         # N=4000, seed 1 only
    python3 scripts/bench_peers.py --peers-only --sizes 4000 --threads 1,2
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
VENV_PACKAGES = [
    "brian2",
    "nest-simulator",
    "h5py",
    "libsonata",
    # brian2 2.9 (the newest release for Python 3.11) still calls
    # ndarray.ptp, which numpy 2.4 removed.
    "numpy<2.4",
]
MEAN_DEGREE = 80  # mean out-degree (= in-degree) of every neuron
EXPECTED_RATE_HZ = (5.4, 6.0)  # CUBA at N = 4000
BASE_N = 4000     # size of configs/cuba.toml
PEERS = ("brian2", "nest")


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int_list, default=[4000, 20000, 100000],
                   help="comma-separated network sizes (default 4000,20000,100000)")
    p.add_argument("--threads", type=int_list, default=[1, 2],
                   help="comma-separated thread counts (default 1,2)")
    p.add_argument("--seeds", type=int_list, default=[1, 2, 3],
                   help="comma-separated seeds, one repetition each (default 1,2,3)")
    p.add_argument("--quick", action="store_true",
                   help="smoke check: N=4000 and seed 1 only")
    p.add_argument("--peers-only", action="store_true",
                   help="run Brian2 and NEST only (no cargo build, no engram)")
    p.add_argument("--simulators", default="engram,brian2,nest",
                   help="comma-separated subset of engram,brian2,nest")
    p.add_argument("--nest-max-n", type=int, default=None,
                   help="run NEST only up to this size (its pairwise_bernoulli connect "
                        "grows as N^2: minutes per run at N = 100000)")
    p.add_argument("--venv", default=str(REPO / ".venv-bench"),
                   help="virtualenv for the peers (default .venv-bench in the repo root)")
    p.add_argument("--no-build", action="store_true",
                   help="do not run cargo build; use the existing engram binary")
    p.add_argument("--engram-bin", default=str(REPO / "target" / "release" / "engram"),
                   help="engram binary (default target/release/engram)")
    p.add_argument("--config", default="configs/cuba.toml",
                   help="engram config, relative to the repo root (default configs/cuba.toml)")
    p.add_argument("--no-check-sonata", action="store_true",
                   help="skip scripts/check_sonata.py on engram's spike files")
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="per-run timeout in seconds (default 3600)")
    p.add_argument("--out-md", default=str(REPO / "results" / "bench-cuba.md"),
                   help="markdown report (default results/bench-cuba.md)")
    p.add_argument("--out-json", default=str(REPO / "results" / "bench-cuba.json"),
                   help="raw results (default results/bench-cuba.json)")
    p.add_argument("--render-only", action="store_true",
                   help="run nothing: rewrite the markdown report from --out-json")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = [BASE_N]
        args.seeds = args.seeds[:1]
    sims = [s.strip() for s in args.simulators.split(",") if s.strip()]
    unknown = set(sims) - {"engram", *PEERS}
    if unknown:
        p.error(f"unknown simulator(s): {', '.join(sorted(unknown))}")
    if args.peers_only:
        sims = [s for s in sims if s != "engram"]
    if not sims:
        p.error("no simulator selected")
    args.sims = sims
    return args


# --------------------------------------------------------------------------
# environment


def venv_python(venv):
    return Path(venv) / "bin" / "python"


def ensure_gitignore():
    """Make sure .venv-bench/ is ignored by git (add it if it is not)."""
    gi = REPO / ".gitignore"
    try:
        ignored = subprocess.run(["git", "check-ignore", "-q", ".venv-bench/"],
                                 cwd=REPO, capture_output=True).returncode == 0
    except FileNotFoundError:
        ignored = False
    if ignored:
        return
    text = gi.read_text() if gi.exists() else ""
    if ".venv-bench/" not in text.split():
        with open(gi, "a") as f:
            if text and not text.endswith("\n"):
                f.write("\n")
            f.write(".venv-bench/\n")
        log("added .venv-bench/ to .gitignore")


def ensure_venv(venv):
    py = venv_python(venv)
    if not py.exists():
        log(f"creating virtualenv {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = [str(py), "-c", "import brian2, nest, h5py, libsonata, numpy"]
    env = dict(os.environ, PYNEST_QUIET="1")
    if subprocess.run(probe, capture_output=True, env=env).returncode != 0:
        log("installing " + " ".join(VENV_PACKAGES))
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", *VENV_PACKAGES],
                       check=True)
        subprocess.run(probe, check=True, env=env)
    return py


def package_version(py, name):
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    r = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def build_engram():
    log("cargo build --release -p engram")
    subprocess.run(["cargo", "build", "--release", "-p", "engram"], cwd=REPO, check=True)


def engram_version(binary):
    try:
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (r.stdout.strip() or None) if r.returncode == 0 else None


def machine_info():
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout)
    except (OSError, ValueError):
        nproc = os.cpu_count()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True).stdout.strip() or None
    except OSError:
        commit = None
    return {
        "nproc": nproc,
        "cpu_model": cpu,
        "mem_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "git_commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------
# single runs


def engram_set_args(n):
    if n == BASE_N:
        return []
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    p = MEAN_DEGREE / n
    sets = [f"populations.E.n={n_e}", f"populations.I.n={n_i}"]
    for proj in ("E_to_E", "E_to_I", "I_to_E", "I_to_I"):
        sets.append(f"projections.{proj}.connectivity.p={p!r}")
    out = []
    for s in sets:
        out += ["--set", s]
    return out


def parse_json_output(text):
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start = text.rfind("\n{")
        return json.loads(text[start + 1:] if start >= 0 else text[text.index("{"):])


def run_peer(sim, py, n, threads, seed, tmp, timeout):
    script = SCRIPTS / "peers" / f"cuba_{sim}.py"
    out = Path(tmp) / f"{sim}-{n}-{threads}-{seed}.json"
    cmd = [str(py), str(script), "--n", str(n), "--threads", str(threads),
           "--seed", str(seed), "--out-json", str(out)]
    env = dict(os.environ, PYNEST_QUIET="1", OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    proc_wall = time.perf_counter() - t0
    if r.returncode != 0 or not out.exists():
        raise RuntimeError(f"{sim} failed (exit {r.returncode}): {r.stderr.strip()[-2000:]}")
    d = json.loads(out.read_text())
    return {
        "spikes": d["spikes"],
        "rate_hz": d["rate_hz"],
        "run_s": d["run_s"],
        "build_s": d["compile_s"] if sim == "brian2" else d["build_s"],
        "wall_s": d["wall_s"],
        "proc_wall_s": proc_wall,
        "raw": d,
    }


def run_engram(binary, py, config, n, threads, seed, tmp, timeout, check):
    h5 = Path(tmp) / f"engram-{n}-{threads}-{seed}.h5"
    cmd = [binary, "run", config, "--threads", str(threads), "--seed", str(seed),
           "--quiet", "--json", "-o", str(h5), "--force", *engram_set_args(n)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    proc_wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"engram failed (exit {r.returncode}): {r.stderr.strip()[-2000:]}")
    d = parse_json_output(r.stdout)
    pops = d["populations"]
    spikes = sum(int(p["spikes"]) for p in pops.values())
    n_total = sum(int(p["n"]) for p in pops.values())
    if n_total != n:
        raise RuntimeError(f"engram simulated {n_total} neurons, expected {n}")
    rate = sum(float(p["rate_hz"]) * int(p["n"]) for p in pops.values()) / n_total
    rec = {
        "spikes": spikes,
        "rate_hz": rate,
        "run_s": d["sim_s"],
        "build_s": d["build_s"],
        "wall_s": d["wall_s"],
        "proc_wall_s": proc_wall,
        "raw": d,
    }
    if check:
        summary = Path(tmp) / f"engram-{n}-{threads}-{seed}.summary.json"
        summary.write_text(json.dumps(d))
        c = subprocess.run([str(py), str(SCRIPTS / "check_sonata.py"),
                            d.get("output") or str(h5), str(summary)],
                           capture_output=True, text=True, timeout=timeout)
        rec["sonata_check"] = (c.stdout.strip() or c.stderr.strip()).splitlines()[-1:]
        if c.returncode != 0:
            raise RuntimeError(f"check_sonata failed: {(c.stderr or c.stdout).strip()}")
    h5.unlink(missing_ok=True)  # large at N = 100000; the temp dir goes anyway
    return rec


# --------------------------------------------------------------------------
# summary


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs, sims, sizes, threads):
    rows = []
    for n in sizes:
        for t in threads:
            for sim in sims:
                ok = [r for r in runs if r["sim"] == sim and r["n"] == n
                      and r["threads"] == t and r.get("ok")]
                failed = sum(1 for r in runs if r["sim"] == sim and r["n"] == n
                             and r["threads"] == t and not r.get("ok"))
                row = {"sim": sim, "n": n, "threads": t, "runs": len(ok), "failed": failed}
                for key in ("rate_hz", "spikes", "run_s", "build_s", "wall_s",
                            "proc_wall_s", "events_per_s", "loadavg_before"):
                    row[key] = median([r[key] for r in ok])
                rows.append(row)
    return rows


def ratios(rows):
    out = []
    index = {(r["sim"], r["n"], r["threads"]): r for r in rows}
    for r in rows:
        if r["sim"] != "engram" or not r["runs"]:
            continue
        for peer in PEERS:
            q = index.get((peer, r["n"], r["threads"]))
            if not q or not q["runs"]:
                continue

            def ratio(key):
                a, b = r[key], q[key]
                return a / b if a is not None and b else None

            out.append({"n": r["n"], "threads": r["threads"], "peer": peer,
                        "run": ratio("run_s"), "build": ratio("build_s"),
                        "wall": ratio("wall_s"), "proc_wall": ratio("proc_wall_s"),
                        "events_per_s": ratio("events_per_s")})
    return out


def fmt(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    if abs(v) >= 1e5:
        return f"{v:.3g}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def write_markdown(path, data):
    """Render the report from the data written to bench-cuba.json."""
    info, versions, cfg = data["machine"], data["versions"], data["config"]
    rows, rats, runs = data["summary"], data["ratios"], data["runs"]
    failures = [r for r in runs if not r.get("ok")]
    L = []
    L.append("# CUBA benchmark: engram vs Brian2 vs NEST")
    L.append("")
    L.append("Brian2's CUBA example (Vogels & Abbott 2005; Brette et al. 2007): "
             "N LIF neurons, 80 % excitatory / 20 % inhibitory, connection "
             f"probability {MEAN_DEGREE}/N (mean in- and out-degree {MEAN_DEGREE}), "
             "exponential current synapses (+1.62 mV, -9 mV), dt 0.1 ms, 1 s "
             "simulated. Expected rate at N = 4000: 5.4-6.0 Hz.")
    L.append("")
    L.append("Generated by `python3 scripts/bench_peers.py"
             + (" --peers-only" if "engram" not in cfg["simulators"] else "")
             + f" --sizes {','.join(map(str, cfg['sizes']))}"
             + f" --threads {','.join(map(str, cfg['threads']))}"
             + f" --seeds {','.join(map(str, cfg['seeds']))}"
             + (f" --nest-max-n {cfg['nest_max_n']}" if cfg.get("nest_max_n") else "")
             + "`."
             + (f" NEST runs only up to N = {cfg['nest_max_n']:,}: its pairwise_bernoulli "
                "connect grows as N^2." if cfg.get("nest_max_n") else ""))
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append(f"- date: {info['date']}")
    L.append(f"- nproc: {info['nproc']}")
    L.append(f"- CPU: {info['cpu_model']}")
    if info.get("mem_gib"):
        L.append(f"- memory: {info['mem_gib']} GiB")
    L.append(f"- OS: {info['os']}; Python {info['python']}")
    for k in ("engram", "brian2", "nest-simulator", "numpy"):
        L.append(f"- {k}: {versions.get(k) or 'not run'}")
    if info.get("git_commit"):
        L.append(f"- repository commit: {info['git_commit']}")
    L.append("")
    L.append("The machine is shared and noisy; every figure is the median over the "
             "seeds, and the simulators were interleaved round by round.")
    L.append("")
    L.append("## Medians")
    L.append("")
    L.append("| N | threads | simulator | runs | rate (Hz) | spikes | run (s) "
             "| build (s) | wall (s) | process (s) | events/s | load |")
    L.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if not r["runs"] and not r["failed"]:
            continue
        n_runs = f"{r['runs']}" + (f" ({r['failed']} failed)" if r["failed"] else "")
        spikes = None if r["spikes"] is None else int(round(r["spikes"]))
        L.append(f"| {r['n']:,} | {r['threads']} | {r['sim']} | {n_runs} "
                 f"| {fmt(r['rate_hz'])} | {fmt(spikes)} | {fmt(r['run_s'])} "
                 f"| {fmt(r['build_s'])} | {fmt(r['wall_s'])} | {fmt(r['proc_wall_s'])} "
                 f"| {fmt(r['events_per_s'])} | {fmt(r['loadavg_before'], 2)} |")
    L.append("")
    L.append("Columns:")
    L.append("")
    L.append("- **run**: simulation loop only. Brian2: its own timer around the "
             "time-step loop inside the compiled binary (`device._last_run_time`); "
             "NEST: wall time of `nest.Simulate` (includes NEST's one-off "
             "preparation of the connection infrastructure); engram: `sim_s`.")
    L.append("- **build**: Brian2: model construction + code generation + C++ "
             "compilation in a fresh build directory (no cache; reusing a build "
             "directory with `cuba_brian2.py --build-dir` leaves make nothing to "
             "do and only code generation remains; synapse creation happens "
             "inside the binary and is not included); NEST: `Create` + "
             "`Connect` (pairwise_bernoulli draws one trial per source-target "
             "pair, so it grows as N^2); engram: `build_s`.")
    L.append("- **wall**: each simulator's own end-to-end figure (Brian2 and NEST: "
             "the whole script including `import`; engram: `wall_s`).")
    L.append("- **process**: wall time of the whole process, measured by the "
             "benchmark script (includes interpreter start-up for the peers).")
    L.append(f"- **events/s**: spikes x {MEAN_DEGREE} / run, i.e. synaptic events "
             "delivered per second of simulation loop.")
    L.append(f"- **load**: median 1-minute load average just before the runs "
             f"(the machine has {info['nproc']} cores). It also counts the "
             "benchmark's own previous run (e.g. Brian2's parallel make), but a "
             "load well above the core count means other work competed with the "
             "benchmark, which hurts the multi-threaded runs most.")
    L.append("")
    lo, hi = EXPECTED_RATE_HZ
    outside = [r for r in runs if r.get("ok") and not lo <= r["rate_hz"] <= hi]
    L.append("## Rate check")
    L.append("")
    L.append(f"Runs with a mean rate outside {lo}-{hi} Hz (the range expected at "
             "N = 4000; the same mean in-degree keeps larger networks close to it): "
             + ("none." if not outside else ""))
    if outside:
        L.append("")
        for r in outside:
            L.append(f"- {r['sim']} N={r['n']:,} threads={r['threads']} "
                     f"seed={r['seed']}: {r['rate_hz']:.3f} Hz")
    L.append("")
    if rats:
        L.append("## Ratios engram / peer")
        L.append("")
        L.append("Time ratios below 1 mean engram is faster; the events/s ratio above "
                 "1 means engram delivers more synaptic events per second.")
        L.append("")
        L.append("| N | threads | peer | run | build | wall | process | events/s |")
        L.append("|---:|---:|---|---:|---:|---:|---:|---:|")
        for q in rats:
            L.append(f"| {q['n']:,} | {q['threads']} | {q['peer']} | {fmt(q['run'])} "
                     f"| {fmt(q['build'])} | {fmt(q['wall'])} | {fmt(q['proc_wall'])} "
                     f"| {fmt(q['events_per_s'])} |")
        L.append("")
    if failures:
        L.append("## Failed runs")
        L.append("")
        for f in failures:
            msg = " ".join(str(f["error"]).split())[:300]
            L.append(f"- {f['sim']} N={f['n']} threads={f['threads']} seed={f['seed']}: {msg}")
        L.append("")
    L.append("Raw per-run data: `results/bench-cuba.json`.")
    L.append("")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(L))


# --------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    if args.render_only:
        data = json.loads(Path(args.out_json).read_text())
        write_markdown(args.out_md, data)
        log(f"rewrote {args.out_md} from {args.out_json}")
        return 0
    ensure_gitignore()
    py = ensure_venv(args.venv)

    engram_bin = args.engram_bin
    if "engram" in args.sims:
        if not args.no_build:
            build_engram()
        if not Path(engram_bin).exists():
            sys.exit(f"engram binary not found: {engram_bin}")

    versions = {
        "brian2": package_version(py, "brian2") if "brian2" in args.sims else None,
        "nest-simulator": package_version(py, "nest-simulator") if "nest" in args.sims else None,
        "numpy": package_version(py, "numpy"),
        "engram": engram_version(engram_bin) if "engram" in args.sims else None,
    }
    info = machine_info()
    log(f"machine: {info['nproc']} x {info['cpu_model']}; versions: {versions}")

    runs = []
    tmp = tempfile.mkdtemp(prefix="bench_cuba_")
    round_no = 0
    try:
        for seed in args.seeds:
            for n in args.sizes:
                for t in args.threads:
                    k = round_no % len(args.sims)
                    order = args.sims[k:] + args.sims[:k]
                    round_no += 1
                    for sim in order:
                        if sim == "nest" and args.nest_max_n is not None and n > args.nest_max_n:
                            continue
                        log(f"{sim:7s} N={n:<7d} threads={t} seed={seed}")
                        rec = {"sim": sim, "n": n, "threads": t, "seed": seed,
                               "loadavg_before": round(os.getloadavg()[0], 2)}
                        try:
                            if sim == "engram":
                                res = run_engram(engram_bin, py, args.config, n, t, seed, tmp,
                                                 args.timeout, not args.no_check_sonata)
                            else:
                                res = run_peer(sim, py, n, t, seed, tmp, args.timeout)
                            rec.update(res)
                            rec["events_per_s"] = (res["spikes"] * MEAN_DEGREE / res["run_s"]
                                                   if res["run_s"] else None)
                            rec["ok"] = True
                            log(f"        rate {res['rate_hz']:.3f} Hz, run {res['run_s']:.3f} s, "
                                f"build {res['build_s']:.3f} s, wall {res['wall_s']:.2f} s "
                                f"(load before {rec['loadavg_before']})")
                        except (RuntimeError, subprocess.TimeoutExpired, KeyError,
                                ValueError, json.JSONDecodeError) as e:
                            rec["ok"] = False
                            rec["error"] = f"{type(e).__name__}: {e}"
                            log(f"        FAILED: {rec['error'][:500]}")
                        runs.append(rec)
                        # Keep what was measured so far: a long run that is interrupted
                        # still leaves its raw results.
                        partial = Path(args.out_json).with_suffix(".partial.json")
                        partial.parent.mkdir(parents=True, exist_ok=True)
                        partial.write_text(json.dumps({"machine": info, "versions": versions,
                                                       "runs": runs}, indent=1) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = summarize(runs, args.sims, args.sizes, args.threads)
    data = {
        "machine": info,
        "versions": versions,
        "config": {"sizes": args.sizes, "threads": args.threads, "seeds": args.seeds,
                   "simulators": args.sims, "mean_degree": MEAN_DEGREE,
                   "nest_max_n": args.nest_max_n},
        "summary": rows,
        "ratios": ratios(rows),
        "runs": runs,
    }
    Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out_json).write_text(json.dumps(data, indent=1) + "\n")
    write_markdown(args.out_md, data)
    Path(args.out_json).with_suffix(".partial.json").unlink(missing_ok=True)
    log(f"wrote {args.out_md} and {args.out_json}")
    print(Path(args.out_md).read_text())
    return 1 if any(not r.get("ok") for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
