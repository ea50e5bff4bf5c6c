#!/usr/bin/env python3
"""Compare engram's `spike_times` input with `delay_ms` against NEST's `spike_generator`.

Usage:
    python scripts/compare_nest_spike_times.py [--engram target/release/engram]
        [--out results/spike-times-delay-vs-nest.md]

One `iaf_psc_exp` neuron with NEST's default parameters (engram: `lif_exp`, the same
defaults), resolution 0.1 ms, 200 ms, driven by spike generators whose spikes are strong
enough to make it fire:

  * "kicks": no bias current; a single spike of 5000 pA (alone it fires the neuron), a
    volley of 1800-pA spikes (a few together fire it) and 2500-pA inhibitory spikes;
  * "bias": a bias current of 370 pA (V_inf = -55.2 mV, just below threshold) and 250-pA
    excitatory and 300-pA inhibitory spikes at random grid times (numpy seed 3), so that
    the output times hang on every input's timing.

Each generator is connected with a delay d (NEST) and is engram's `spike_times` input with
`delay_ms = d`; the rows use the same d for every generator, and "mixed" a different one
for each. The row "engram default" leaves `delay_ms` out (one step) against NEST's
d = 0.1 ms. Output spikes are compared spike for spike by their step index (NEST reports
a time as tics * 0.001 ms, e.g. 11.200000000000001; engram the decimal 11.2: the script
also prints the largest difference of the floats); V is compared at every step (engram's
report stores float32). Exit status 1 if any spike differs.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

DT = 0.1
T_MS = 200.0
PARAMS = {  # NEST's iaf_psc_exp defaults, written out
    "C_m": 250.0, "tau_m": 10.0, "tau_syn_ex": 2.0, "tau_syn_in": 2.0, "t_ref": 2.0,
    "E_L": -70.0, "V_th": -55.0, "V_reset": -70.0,
}


def scenarios():
    kicks = {
        "i_e": 0.0,
        "inputs": {
            "kick": (5000.0, [10.0]),
            "volley": (1800.0, [30.0, 30.4, 31.0, 50.0, 50.2, 50.3, 50.5, 70.0, 70.1, 70.2]),
            "inh": (-2500.0, [49.0, 69.5]),
        },
    }
    rng = np.random.default_rng(3)

    def grid_times(n):
        steps = np.sort(rng.choice(np.arange(10, int(T_MS / DT) - 10), n, replace=False))
        return [round(float(k) * DT, 1) for k in steps]

    bias = {
        "i_e": 370.0,
        "inputs": {"ex": (250.0, grid_times(40)), "in": (-300.0, grid_times(20))},
    }
    return {"kicks": kicks, "bias": bias}


def run_nest(sc, delays):
    import nest
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": DT})
    n = nest.Create("iaf_psc_exp", params=dict(PARAMS, I_e=sc["i_e"], V_m=PARAMS["E_L"]))
    for name, (w, times) in sc["inputs"].items():
        g = nest.Create("spike_generator", params={"spike_times": times})
        nest.Connect(g, n, syn_spec={"weight": w, "delay": delays[name]})
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": DT})
    sr = nest.Create("spike_recorder")
    nest.Connect(mm, n)
    nest.Connect(n, sr)
    nest.Simulate(T_MS)
    ev = mm.get("events")
    order = np.argsort(ev["times"])
    return (np.asarray(ev["times"])[order], np.asarray(ev["V_m"])[order],
            np.sort(np.asarray(sr.get("events")["times"], dtype=float)))


def engram_config(sc, delays):
    p = PARAMS
    lines = [
        "[simulation]", f"dt_ms = {DT}", f"duration_ms = {T_MS}", "",
        "[neuron]", 'model = "lif_exp"',
        f"c_m_pf = {p['C_m']}", f"tau_m_ms = {p['tau_m']}",
        f"tau_syn_ex_ms = {p['tau_syn_ex']}", f"tau_syn_in_ms = {p['tau_syn_in']}",
        f"t_ref_ms = {p['t_ref']}", f"e_l_mv = {p['E_L']}", f"v_th_mv = {p['V_th']}",
        f"v_reset_mv = {p['V_reset']}", f"i_e_pa = {sc['i_e']}", "",
        "[populations.n]", "n = 1", "",
    ]
    for name, (w, times) in sc["inputs"].items():
        lines += [f"[inputs.{name}]", 'kind = "spike_times"', 'target = "n"',
                  "times_ms = [" + ", ".join(f"{t!r}" for t in times) + "]",
                  f"weight_pa = {w!r}"]
        if delays is not None:
            lines.append(f"delay_ms = {delays[name]!r}")
        lines.append("")
    lines += ["[[output.reports]]", 'population = "n"', 'variables = ["v"]', ""]
    return "\n".join(lines)


def run_engram(exe, sc, delays, tmp):
    cfg = os.path.join(tmp, "c.toml")
    out = os.path.join(tmp, "o.h5")
    with open(cfg, "w") as f:
        f.write(engram_config(sc, delays))
    subprocess.run([exe, "run", cfg, "-o", out, "--quiet", "--force", "--threads", "1"],
                   check=True)
    with h5py.File(out, "r") as f:
        g = f["report/n/v"]
        start, stop, step = g["mapping/time"][()]
        v = g["data"][:, 0].astype(np.float64)
        t = start + step * np.arange(len(v))
        spikes = np.sort(f["spikes/n/timestamps"][()]) if "spikes/n" in f else np.array([])
    return t, v, spikes


def max_v_diff(t_a, v_a, t_b, v_b):
    common, ia, ib = np.intersect1d(np.round(t_a, 4), np.round(t_b, 4), return_indices=True)
    return float(np.max(np.abs(v_a[ia] - v_b[ib]))), len(common)


def cases():
    """(scenario, label, NEST delays per input, engram delays per input or None)."""
    out = []
    for name, sc in scenarios().items():
        same = lambda d: {k: d for k in sc["inputs"]}
        out.append((name, "engram default (no delay_ms) vs NEST d = 0.1", same(0.1), None))
        for d in (0.1, 0.5, 1.0, 2.3):
            out.append((name, f"d = {d}", same(d), same(d)))
        if name == "kicks":
            mixed = {"kick": 1.5, "volley": 0.1, "inh": 2.3}
            out.append((name, "mixed: kick 1.5, volley 0.1, inh 2.3", mixed, mixed))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engram", default="target/release/engram")
    ap.add_argument("--out", default="results/spike-times-delay-vs-nest.md")
    args = ap.parse_args()
    import nest
    scs = scenarios()
    rows, all_same = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for name, label, nest_delays, engram_delays in cases():
            sc = scs[name]
            t_n, v_n, s_n = run_nest(sc, nest_delays)
            t_e, v_e, s_e = run_engram(args.engram, sc, engram_delays, tmp)
            same = len(s_e) == len(s_n) and bool(
                np.all(np.round(s_e / DT) == np.round(s_n / DT)))
            dt_max = float(np.max(np.abs(s_e - s_n))) if same and len(s_n) else 0.0
            all_same &= same
            err, _ = max_v_diff(t_e, v_e, t_n, v_n)
            rows.append((name, label, len(s_n), len(s_e), same, dt_max, err, s_n))
    md = ["# spike_times with delay_ms against NEST's spike_generator", "",
          f"Produced by `scripts/compare_nest_spike_times.py` (NEST {nest.__version__}); one "
          "`iaf_psc_exp` / `lif_exp` neuron with NEST's default parameters, resolution "
          f"{DT} ms, {T_MS:.0f} ms. Every spike generator is connected with delay d in NEST and "
          "is a `spike_times` input with `delay_ms = d` in engram.", "",
          "| scenario | delays (ms) | NEST spikes | engram spikes | same steps, spike for spike | "
          "largest abs(t_engram - t_NEST) (ms) | max abs(V_engram - V_NEST) (mV) |",
          "|---|---|---|---|---|---|---|"]
    for name, label, n_n, n_e, same, dt_max, err, _ in rows:
        md.append(f"| {name} | {label} | {n_n} | {n_e} | {'yes' if same else 'NO'} | "
                  f"{dt_max:.1e} | {err:.1e} |")
    md += ["", "NEST's output spike times (ms):", ""]
    for name, label, *_, s_n in rows:
        md.append(f"- {name}, {label}: " + ", ".join(f"{t:g}" for t in s_n))
    md += ["", "The time differences are the floats' representation: NEST reports step k at "
           "k * 100 tics * 0.001 ms (11.200000000000001), engram at the decimal k / 10 (11.2). "
           "engram's V is stored as float32 in the report (resolution about 4e-6 mV at "
           "-70 mV); the V differences are that rounding.",
           "", "Inputs: " + "; ".join(
               f"{name}: I_e {sc['i_e']:g} pA, " + ", ".join(
                   f"{k} {w:g} pA x {len(ts)}" for k, (w, ts) in sc["inputs"].items())
               for name, sc in scs.items()), ""]
    text = "\n".join(md)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
