# %% [markdown]
# # engram from Python
#
# A notebook in plain Python (cells start with `# %%`; Jupyter, VS Code and jupytext
# open it as a notebook): build a network as a dict, run it, draw a raster, and analyse
# the spikes with elephant. Install the package first: `make python` (see the README).
# `make test-python` runs this file.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import quantities as pq

import engram

out_dir = os.environ.get("ENGRAM_EXAMPLE_OUT", "results")
os.makedirs(out_dir, exist_ok=True)

# %% [markdown]
# ## A network in code
#
# The dict has the schema of a TOML config (see `configs/cuba.toml`): an excitatory and
# an inhibitory population of LIF neurons with current-based synapses, random recurrent
# connections, and a Poisson drive onto half of the excitatory cells.

# %%
lif = {
    "model": "lif_exp",
    "c_m_pf": 250.0,
    "tau_m_ms": 20.0,
    "tau_syn_ex_ms": 5.0,
    "tau_syn_in_ms": 10.0,
    "t_ref_ms": 5.0,
    "e_l_mv": -49.0,
    "v_th_mv": -50.0,
    "v_reset_mv": -60.0,
    "v_init_mv": {"uniform": [-60.0, -50.0]},
}


def projection(source, target, weight_pa):
    return {
        "source": source,
        "target": target,
        "connectivity": {"rule": "fixed_probability", "p": 0.05},
        "weight_pa": weight_pa,
        "delay_ms": 1.0,
    }


network = {
    "simulation": {"dt_ms": 0.1, "duration_ms": 1000.0, "seed": 1},
    "neuron": lif,
    "populations": {"E": {"n": 1600}, "I": {"n": 400}},
    "projections": {
        "E_to_E": projection("E", "E", 20.0),
        "E_to_I": projection("E", "I", 20.0),
        "I_to_E": projection("I", "E", -110.0),
        "I_to_I": projection("I", "I", -110.0),
    },
    "inputs": {
        "drive": {
            "kind": "poisson",
            "target": "E",
            "neurons": {"range": [0, 800]},
            "rate_hz": 200.0,
            "weight_pa": 30.0,
        }
    },
}
engram.check(network)  # the checks of `engram check`; raises engram.ConfigError

# %% [markdown]
# ## Run it
#
# `engram.run` takes a path, TOML text or a dict; `set=` and `seed=` are the CLI's
# `--set` and `--seed`. The result holds numpy arrays; `r.save("x.h5")` writes the file
# the CLI would write.

# %%
r = engram.run(network, seed=3, progress=False)
for name, s in r.spikes.items():
    rate = len(s.times_ms) / s.n / (r.duration_ms / 1000.0)
    print(f"{name}: {s.n} neurons, {len(s.times_ms)} spikes, {rate:.2f} Hz")

# %% [markdown]
# ## Raster

# %%
fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
offset = 0
for name, s in r.spikes.items():
    ax.plot(s.times_ms, s.node_ids + offset, ".", markersize=1, label=name)
    offset += s.n
ax.set_xlabel("time (ms)")
ax.set_ylabel("neuron (E, then I)")
ax.set_title("engram: E/I network driven by Poisson input")
ax.legend(loc="upper right", markerscale=8)
fig.tight_layout()
fig.savefig(os.path.join(out_dir, "raster.png"))

# %% [markdown]
# ## Statistics with elephant
#
# `r.to_neo()` is a neo Block whose spike trains are backed by the spike arrays; asking
# for trains builds neo `SpikeTrain` objects (about 0.2 ms each), so take the ones you
# need.

# %%
import elephant.statistics as es  # noqa: E402

block = r.to_neo()
trains = block.segments[0].spiketrains
excitatory = [trains[i] for i in range(0, 1600, 8)]  # every 8th E neuron
rates = [float(es.mean_firing_rate(st).rescale(pq.Hz)) for st in excitatory]
cvs = [es.cv(es.isi(st)) for st in excitatory if len(st) > 2]
print(f"mean firing rate of 200 E neurons: {np.mean(rates):.2f} Hz")
print(f"CV of ISIs: {np.nanmean(cvs):.2f} (1 for a Poisson process)")
histogram = es.time_histogram(excitatory, bin_size=10 * pq.ms, output="rate")
print(f"population rate, 10 ms bins: max {float(histogram.max().rescale(pq.Hz)):.1f} Hz")
