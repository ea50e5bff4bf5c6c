"""Result.to_neo (array-backed, grouped with one sort) and Result.to_nwb (validated with
pynwb and nwbinspector), and engram.sweep."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import engram


def synthetic(n_e, n_i, spikes, duration_ms=1000.0, seed=1):
    """A Result of two populations with random spikes (sorted by time, then id), as
    engram.read returns it, without running anything."""
    rng = np.random.default_rng(seed)
    pops = []
    for name, n in (("E", n_e), ("I", n_i)):
        k = spikes * n // (n_e + n_i)
        steps = np.sort(rng.integers(1, int(duration_ms * 10), k))
        ids = rng.integers(0, n, k).astype(np.uint64)
        order = np.lexsort((ids, steps))
        pops.append({"name": name, "n": n, "times_ms": steps[order] / 10.0, "node_ids": ids[order]})
    data = {"populations": pops, "provenance": {"duration_ms": duration_ms, "dt_ms": 0.1, "seed": seed},
            "parameters": {}, "config": "", "results": None, "ach": None, "reports": [],
            "weights": [], "protocol": []}
    return engram.Result("synthetic.h5", data)


def test_to_neo_builds_no_spike_train_for_80000_neurons(monkeypatch):
    import neo.core.spiketrain as st_mod
    import neo.core.spiketrainlist as stl_mod

    from engram import _neo

    r = synthetic(64_000, 16_000, 400_000)
    made = []

    class Counting(st_mod.SpikeTrain):
        def __new__(cls, *a, **k):
            made.append(1)
            return super().__new__(cls, *a, **k)

    for mod in (st_mod, stl_mod, _neo):
        monkeypatch.setattr(mod, "SpikeTrain", Counting)
    block = r.to_neo()
    trains = block.segments[0].spiketrains
    # Array-backed: nothing per neuron was made, whatever the network's size.
    assert made == []
    assert len(trains) == 80_000
    assert made == []
    ids, times = trains.multiplexed
    assert len(ids) == len(times) == 400_000
    assert np.array_equal(times.magnitude, np.concatenate([s.times_ms for s in r.spikes.values()]))
    assert np.array_equal(ids[-1:], [64_000 + int(r.spikes["I"].node_ids[-1])])
    assert block.segments[0].annotations["populations"] == {"E": (0, 64_000), "I": (64_000, 80_000)}


def test_neo_trains_are_those_neo_would_make():
    from neo.core.spiketrainlist import SpikeTrainList

    r = synthetic(300, 100, 5_000)
    ours = list(r.to_neo().segments[0].spiketrains)
    ids, times = r.to_neo().segments[0].spiketrains.multiplexed
    theirs = list(SpikeTrainList.from_spike_time_array(
        times, ids, np.arange(400), t_stop=1000.0 * times.units, t_start=0 * times.units))
    assert len(ours) == len(theirs) == 400
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.magnitude, b.magnitude)
        assert a.t_start == b.t_start and a.t_stop == b.t_stop
        assert a.annotations["channel_id"] == b.annotations["channel_id"]
    assert ours[350].annotations["population"] == "I" and ours[350].annotations["node_id"] == 50


def test_to_nwb_is_read_and_validated_by_pynwb(tmp_path, cli):
    pynwb = pytest.importorskip("pynwb")
    r = engram.run("tests/configs/small_cuba.toml", progress=False)
    path = tmp_path / "run.nwb"
    assert r.to_nwb(path) == str(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no cached namespace": validated against pynwb's
        errors = pynwb.validate(path=str(path))
    assert errors == []
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        units = f.units
        assert len(units) == sum(s.n for s in r.spikes.values())
        assert f.source_script == r.config
        assert "seed = 7" in f.notes
        row = 0
        for name, s in r.spikes.items():
            for i in (0, s.n - 1):
                expected = s.times_ms[s.node_ids == i] / 1000.0
                got = units.get_unit_spike_times(row + i)
                assert np.array_equal(got, expected)
                assert units["population"][row + i] == name and units["node_id"][row + i] == i
                assert np.array_equal(units.get_unit_obs_intervals(row + i), [[0.0, r.duration_ms / 1000]])
            row += s.n
        assert units.resolution == pytest.approx(r.dt_ms / 1000)
    # The CLI writes the same table (and refuses to overwrite without --force).
    cli_path = tmp_path / "cli.nwb"
    r.save(tmp_path / "run.h5")
    cli("export", tmp_path / "run.h5", "--nwb", cli_path)
    with pynwb.NWBHDF5IO(str(cli_path), "r") as io:
        assert np.array_equal(io.read().units.spike_times[:], np.concatenate(
            [r.spikes[p].times_ms[np.argsort(r.spikes[p].node_ids, kind="stable")] / 1000 for p in r.spikes]))
    with pytest.raises(engram.InputError, match="exists"):
        r.to_nwb(path)


def test_nwbinspector_finds_nothing_critical_but_the_missing_subject(tmp_path):
    inspector = pytest.importorskip("nwbinspector")
    r = engram.run("tests/configs/small_cuba.toml", progress=False)
    path = tmp_path / "run.nwb"
    r.to_nwb(path)
    messages = list(inspector.inspect_nwbfile(nwbfile_path=str(path)))
    serious = [m for m in messages
               if m.importance.name in ("CRITICAL", "PYNWB_VALIDATION", "ERROR")
               and m.check_function_name != "check_subject_exists"]
    # A simulation has no subject (animal); nwbinspector asks for one for DANDI.
    assert serious == [], [(m.check_function_name, m.message) for m in serious]


def test_sweep_mirrors_the_cli(tmp_path, cli):
    sweep_file = tmp_path / "s.toml"
    base = os.path.abspath("tests/configs/small_cuba.toml")
    sweep_file.write_text(f'base = "{base}"\n[axes]\n"simulation.duration_ms" = [50.0, 80.0]\n')
    s = engram.sweep(sweep_file, output=tmp_path / "py", jobs=1)
    cli("sweep", sweep_file, "-o", tmp_path / "cli", "--jobs", "1", "--quiet")
    assert len(s.summary) == 2
    assert [row["simulation.duration_ms"] for row in s.summary] == [50.0, 80.0]
    cli_summary = (tmp_path / "cli" / "summary.csv").read_text()
    assert (tmp_path / "py" / "summary.csv").read_text() == cli_summary
    p = s.point(1)
    assert p.duration_ms == 80.0 and p.parameters["simulation.duration_ms"] == "80.0"
    assert p.parameters["sweep.index"] == "1"


def test_the_notebook_example_runs(tmp_path, root):
    env = dict(os.environ, MPLBACKEND="Agg", ENGRAM_EXAMPLE_OUT=str(tmp_path))
    p = subprocess.run([sys.executable, str(root / "examples" / "python_quickstart.py")],
                       cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "raster.png").stat().st_size > 10_000
    assert "CV of ISIs" in p.stdout
