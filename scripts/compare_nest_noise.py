#!/usr/bin/env python3
"""Compare engram's `noise_current` input with NEST's `noise_generator` on free membranes.

Usage:
    python scripts/compare_nest_noise.py [--engram target/release/engram]
        [--out results/noise-current-vs-nest.md]

200 neurons with NEST's `iaf_psc_exp` defaults and a threshold out of reach, each driven
by its own Gaussian current of mean 100 pA and standard deviation 200 pA, held for
h = 0.1 ms or 0.5 ms; resolution 0.1 ms. V is recorded at every step from 50 ms (5 tau_m)
to 2050 ms, and its mean and variance over all neurons and steps are compared with the
closed form for piecewise-constant noise into an LIF membrane (see
`free_membrane_variance_matches_the_closed_form` in crates/network/src/tests_inputs.rs):
mean E_L + R mu, variance the average over the sample times s = dt, ..., h of
exp(-2s/tau) v_b + (1 - exp(-s/tau))^2 R^2 sigma^2, v_b = R^2 sigma^2 (1 - A) / (1 + A),
A = exp(-h/tau), R = tau_m / C_m. The random numbers differ (NEST's and engram's
generators), so the comparison is statistical: the standard errors printed are those of
an AR(1) process with the membrane's correlation per step.
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

DT = 0.1
N = 200
T_BURN = 50.0
T_REC = 2000.0
MU, SIGMA = 100.0, 200.0
C_M, TAU_M, E_L = 250.0, 10.0, -70.0


def closed_form(h):
    r = TAU_M / C_M
    a = math.exp(-h / TAU_M)
    vb = r * r * SIGMA * SIGMA * (1 - a) / (1 + a)
    k = int(round(h / DT))
    var = sum(math.exp(-2 * j * DT / TAU_M) * vb
              + (1 - math.exp(-j * DT / TAU_M)) ** 2 * r * r * SIGMA * SIGMA
              for j in range(1, k + 1)) / k
    return E_L + r * MU, var


def standard_errors(var, samples):
    rho = math.exp(-DT / TAU_M)
    se_var = var * math.sqrt(2 * (1 + rho * rho) / ((1 - rho * rho) * samples))
    se_mean = math.sqrt(var * (1 + rho) / ((1 - rho) * samples))
    return se_mean, se_var


def run_nest(h):
    import nest
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"resolution": DT, "rng_seed": 12})
    r = TAU_M / C_M
    pop = nest.Create("iaf_psc_exp", N, params={"V_th": 1e6, "V_m": E_L + r * MU})
    noise = nest.Create("noise_generator", params={"mean": MU, "std": SIGMA, "dt": h})
    nest.Connect(noise, pop, syn_spec={"delay": DT})
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT,
                                           "start": T_BURN})
    nest.Connect(mm, pop)
    nest.Simulate(T_BURN + T_REC)
    v = np.asarray(mm.get("events")["V_m"], dtype=np.float64)
    return float(v.mean()), float(v.var()), v.size


def run_engram(exe, h, tmp):
    r = TAU_M / C_M
    cfg = os.path.join(tmp, "noise.toml")
    out = os.path.join(tmp, "noise.h5")
    with open(cfg, "w") as f:
        f.write("\n".join([
            "[simulation]", f"dt_ms = {DT}", f"duration_ms = {T_BURN + T_REC}", "seed = 12", "",
            "[neuron]", "v_th_mv = 1e6", f"v_init_mv = {E_L + r * MU!r}", "",
            "[populations.P]", f"n = {N}", "",
            "[inputs.noise]", 'kind = "noise_current"', 'target = "P"',
            f"mean_pa = {MU}", f"std_pa = {SIGMA}", f"dt_ms = {h}", "",
            "[[output.reports]]", 'population = "P"', 'variables = ["v"]',
            f"start_ms = {T_BURN}", ""]))
    subprocess.run([exe, "run", cfg, "-o", out, "--quiet", "--force", "--no-memory-check"],
                   check=True)
    with h5py.File(out, "r") as f:
        v = f["report/P/v/data"][()].astype(np.float64)
    return float(v.mean()), float(v.var()), v.size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engram", default="target/release/engram")
    ap.add_argument("--out", default="results/noise-current-vs-nest.md")
    args = ap.parse_args()
    import nest
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for h in (0.1, 0.5):
            mean_cf, var_cf = closed_form(h)
            for who, (m, v, n) in (("NEST noise_generator", run_nest(h)),
                                   ("engram noise_current", run_engram(args.engram, h, tmp))):
                se_m, se_v = standard_errors(var_cf, n)
                rows.append((h, who, m, mean_cf, (m - mean_cf) / se_m, v, var_cf,
                             (v - var_cf) / se_v))
    md = ["# noise_current against NEST's noise_generator", "",
          f"Produced by `scripts/compare_nest_noise.py` (NEST {nest.__version__}): {N} free "
          "`iaf_psc_exp` / `lif_exp` membranes (default parameters, threshold out of reach), "
          f"each with its own Gaussian current of mean {MU:g} pA and sd {SIGMA:g} pA held for h; "
          f"V at every step of {T_REC:g} ms after {T_BURN:g} ms; resolution {DT} ms. The closed "
          "form is that of piecewise-constant noise into an LIF membrane; z is the difference "
          "in standard errors (AR(1) with the membrane's correlation per step).", "",
          "| h (ms) | simulator | mean V (mV) | closed form | z | var V (mV^2) | closed form | z |",
          "|---|---|---|---|---|---|---|---|"]
    for h, who, m, mcf, zm, v, vcf, zv in rows:
        md.append(f"| {h} | {who} | {m:.4f} | {mcf:.4f} | {zm:+.1f} | {v:.4f} | {vcf:.4f} | "
                  f"{zv:+.1f} |")
    md.append("")
    text = "\n".join(md)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
