#!/usr/bin/env python3
"""CUBA benchmark network in NEST (iaf_psc_exp).

Same network as Brian2's CUBA example (Vogels & Abbott 2005 / Brette et al.
2007), generalised to N neurons with mean in-degree 80 (p = 80/N, 80 %
excitatory, 20 % inhibitory).  Brian's voltage-valued synaptic variables
(ge, gi jump by +1.62 mV / -9 mV and enter dv/dt as (ge + gi)/taum) map
exactly onto NEST's current-based exponential synapses with

    C_m = 250 pF, tau_m = 20 ms  ->  w = jump * C_m / tau_m
    w_exc = 1.62 mV * 12.5 pF/ms = 20.25 pA,  w_inh = -9 mV * 12.5 = -112.5 pA
    E_L -49 mV, V_th -50 mV, V_reset -60 mV, t_ref 5 ms,
    tau_syn_ex 5 ms, tau_syn_in 10 ms, I_e 0, V_m(0) ~ U[-60, -50] mV,
    pairwise_bernoulli(p), delay 0.1 ms (NEST's minimum = resolution 0.1 ms).

One JSON object is written to `--out-json` (and printed on stdout):

    n, threads, seed, duration_s, spikes, rate_hz, synapses,
    import_s  time of `import nest`
    build_s   nest.Create + nest.Connect (network construction)
    run_s     nest.Simulate (wall clock; includes NEST's one-off preparation
              of the connection infrastructure on the first call)
    kernel_time_prepare_s, kernel_time_simulate_s
              NEST's own timers (time_communicate_prepare, time_simulate)
    wall_s    whole script, including `import nest`

Example:
    python scripts/peers/cuba_nest.py --n 4000 --threads 2 --seed 1 --out-json out.json
"""

import argparse
import json
import os
import sys
import time

T_START = time.perf_counter()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=4000, help="number of neurons (default 4000)")
    p.add_argument("--threads", type=int, default=1, help="local_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=1, help="rng_seed (default 1)")
    p.add_argument("--duration-ms", type=float, default=1000.0,
                   help="simulated time in ms (default 1000)")
    p.add_argument("--out-json", default=None, help="write the result JSON here")
    p.add_argument("--build-dir", default=None,
                   help="accepted for symmetry with cuba_brian2.py; unused")
    return p.parse_args(argv)


def _timer(kernel, key):
    """A NEST kernel timer in seconds (max over threads if given per thread)."""
    value = kernel.get(key)
    if value is None:
        return None
    try:
        return float(max(value))
    except TypeError:
        return float(value)


def main(argv=None):
    args = parse_args(argv)
    if args.threads < 1:
        sys.exit("--threads must be >= 1")
    os.environ.setdefault("PYNEST_QUIET", "1")  # no banner

    t0 = time.perf_counter()
    import nest  # noqa: E402  (import timed on purpose)
    import_s = time.perf_counter() - t0

    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.WARNING
    else:
        nest.set_verbosity("M_WARNING")
    nest.ResetKernel()
    nest.SetKernelStatus({"local_num_threads": args.threads,
                          "rng_seed": args.seed,
                          "resolution": 0.1,
                          "print_time": False})

    n = args.n
    n_exc = int(round(0.8 * n))
    p_conn = 80.0 / n
    c_m, tau_m = 250.0, 20.0
    w_exc = 1.62 * c_m / tau_m   # 20.25 pA
    w_inh = -9.0 * c_m / tau_m   # -112.5 pA
    delay = 0.1

    t_build = time.perf_counter()
    params = {"C_m": c_m, "tau_m": tau_m, "E_L": -49.0, "V_th": -50.0,
              "V_reset": -60.0, "t_ref": 5.0, "tau_syn_ex": 5.0,
              "tau_syn_in": 10.0, "I_e": 0.0}
    pop = nest.Create("iaf_psc_exp", n, params=params)
    pop.V_m = nest.random.uniform(-60.0, -50.0)
    exc = pop[:n_exc]
    inh = pop[n_exc:]
    rec = nest.Create("spike_recorder")
    rule = {"rule": "pairwise_bernoulli", "p": p_conn}
    nest.Connect(exc, pop, rule, {"synapse_model": "static_synapse",
                                  "weight": w_exc, "delay": delay})
    nest.Connect(inh, pop, rule, {"synapse_model": "static_synapse",
                                  "weight": w_inh, "delay": delay})
    nest.Connect(pop, rec)
    build_s = time.perf_counter() - t_build

    t_run = time.perf_counter()
    nest.Simulate(args.duration_ms)
    run_s = time.perf_counter() - t_run

    kernel = nest.GetKernelStatus()
    spikes = int(rec.n_events)
    n_conn = int(nest.GetKernelStatus("num_connections")) - n  # minus recorder links
    duration_s = args.duration_ms / 1000.0

    result = {
        "simulator": "nest",
        "version": nest.__version__,
        "n": n,
        "threads": args.threads,
        "seed": args.seed,
        "duration_s": duration_s,
        "spikes": spikes,
        "rate_hz": spikes / n / duration_s,
        "synapses": n_conn,
        "import_s": import_s,
        "build_s": build_s,
        "run_s": run_s,
        "kernel_time_prepare_s": _timer(kernel, "time_communicate_prepare"),
        "kernel_time_simulate_s": _timer(kernel, "time_simulate"),
        "wall_s": time.perf_counter() - T_START,
    }
    text = json.dumps(result, indent=2)
    if args.out_json:
        with open(args.out_json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
