#!/usr/bin/env python3
"""CUBA benchmark network in Brian2 (cpp_standalone device).

The model is Brian2's own CUBA example (Vogels & Abbott 2005, as used in
Brette et al. 2007), generalised to N neurons with a fixed mean in-degree
of 80 (p = 80/N, 80 % excitatory, 20 % inhibitory):

    dv/dt  = (ge + gi - (v - El)) / taum   (unless refractory)
    dge/dt = -ge / taue,  dgi/dt = -gi / taui
    taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV,
    refractory 5 ms, we = +1.62 mV, wi = -9 mV, method 'exact',
    v(0) ~ U[Vr, Vt], dt 0.1 ms, 1 s simulated.

The network is generated as C++ code, compiled and run by Brian2's
cpp_standalone device with OpenMP (`--threads`).  One JSON object is written
to `--out-json` (and printed on stdout):

    n, threads, seed, duration_s, spikes, rate_hz, synapses (when known),
    import_s    time to `import brian2`
    compile_s   model construction + code generation + compilation: all time
                from before the model is built until the binary starts
    codegen_s   compile_s minus make (model construction + code generation)
    make_s      C++ compilation only (make)
    binary_s    wall time of the compiled binary (synapse creation, init,
                simulation, writing results)
    binary_setup_s  binary_s - run_s: the binary's work outside the
                simulation loop (mostly synapse creation)
    run_s       simulation loop only: Brian's own measurement inside the
                binary (Network::run, omp_get_wtime() around the time-step
                loop), exposed as device._last_run_time
    wall_s      whole script, from before `import brian2` to the end
    build_dir, fresh_build_dir

By default every run uses a fresh temporary build directory, so compile_s is
a full, uncached compilation.  With `--build-dir DIR` an existing project in
DIR is reused; Brian2 only rewrites changed sources, so make rebuilds less
and compile_s drops (`fresh_build_dir` is false then).

Example:
    python scripts/peers/cuba_brian2.py --n 4000 --threads 2 --seed 1 --out-json out.json
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

T_START = time.perf_counter()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=4000, help="number of neurons (default 4000)")
    p.add_argument("--threads", type=int, default=1, help="OpenMP threads (default 1)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--duration-ms", type=float, default=1000.0,
                   help="simulated time in ms (default 1000)")
    p.add_argument("--out-json", default=None, help="write the result JSON here")
    p.add_argument("--build-dir", default=None,
                   help="standalone project directory; default: a fresh temporary "
                        "directory, deleted afterwards")
    p.add_argument("--keep-build-dir", action="store_true",
                   help="do not delete the temporary build directory")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads < 1:
        sys.exit("--threads must be >= 1")

    t0 = time.perf_counter()
    import brian2 as b2  # noqa: E402  (import timed on purpose)
    from brian2 import ms, mV, second  # noqa: E402
    import_s = time.perf_counter() - t0

    fresh = args.build_dir is None or not os.path.exists(args.build_dir)
    tmp_dir = None
    if args.build_dir is None:
        tmp_dir = tempfile.mkdtemp(prefix="cuba_brian2_")
        build_dir = tmp_dir
    else:
        build_dir = os.path.abspath(args.build_dir)

    # Everything from here to the start of the binary is "compile": model
    # construction, run() (which generates the code objects in standalone
    # mode), writing the project and make.
    t_model = time.perf_counter()
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = args.threads
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(args.seed)

    n = args.n
    n_exc = int(round(0.8 * n))
    p_conn = 80.0 / n

    # Brian2 resolves the names in the equation strings from this function's
    # local namespace, so these "unused" locals are used.
    taum = 20 * ms
    taue = 5 * ms
    taui = 10 * ms
    Vt = -50 * mV
    Vr = -60 * mV
    El = -49 * mV
    we = (60 * 0.27 / 10) * mV  # 1.62 mV
    wi = (-20 * 4.5 / 10) * mV  # -9 mV

    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr",
                       refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P, P, on_pre="ge += we")
    Ci = b2.Synapses(P, P, on_pre="gi += wi")
    Ce.connect(f"i<{n_exc}", p=p_conn)
    Ci.connect(f"i>={n_exc}", p=p_conn)
    s_mon = b2.SpikeMonitor(P)

    duration = args.duration_ms * ms
    b2.run(duration)

    b2.device.build(directory=build_dir, compile=True, run=True, debug=False)
    build_total = time.perf_counter() - t_model

    timers = b2.device.timers
    binary_s = timers["run_binary"]
    make_s = (timers["compile"]["make"] or 0.0) + (timers["compile"]["clean"] or 0.0)
    compile_s = build_total - binary_s
    spikes = int(s_mon.num_spikes)
    try:
        n_syn = int(len(Ce) + len(Ci))
    except Exception:  # pragma: no cover - depends on Brian2 internals
        n_syn = None
    run_s = float(b2.device._last_run_time)

    if tmp_dir is not None and not args.keep_build_dir:
        shutil.rmtree(tmp_dir, ignore_errors=True)

    result = {
        "simulator": "brian2",
        "version": b2.__version__,
        "n": n,
        "threads": args.threads,
        "seed": args.seed,
        "duration_s": float(duration / second),
        "spikes": spikes,
        "rate_hz": spikes / n / float(duration / second),
        "synapses": n_syn,
        "import_s": import_s,
        "compile_s": compile_s,
        "codegen_s": compile_s - make_s,
        "make_s": make_s,
        "binary_s": binary_s,
        "binary_setup_s": binary_s - run_s,
        "run_s": run_s,
        "build_dir": build_dir if (tmp_dir is None or args.keep_build_dir) else None,
        "fresh_build_dir": fresh,
        "wall_s": time.perf_counter() - T_START,
    }
    text = json.dumps(result, indent=2)
    if args.out_json:
        with open(args.out_json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
