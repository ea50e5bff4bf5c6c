"""engram.run and engram.read give the CLI's output, bit for bit; configs as files, text
and dicts; errors as the CLI reports them."""

import threading
import time

import h5py
import numpy as np
import pytest

import engram

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


def cli_spikes(path):
    with h5py.File(path) as f:
        return {p: (f[f"spikes/{p}/timestamps"][:], f[f"spikes/{p}/node_ids"][:]) for p in f["spikes"]}


def assert_same_spikes(result, expected):
    assert list(result.spikes) == list(expected) or set(result.spikes) == set(expected)
    for pop, (t, ids) in expected.items():
        s = result.spikes[pop]
        assert s.times_ms.dtype == np.float64 and s.node_ids.dtype == np.uint64
        # Bit for bit, not approximately.
        assert s.times_ms.tobytes() == t.tobytes(), pop
        assert s.node_ids.tobytes() == ids.tobytes(), pop


def test_run_gives_the_cli_spikes_bit_for_bit(cli, tmp_path):
    out = tmp_path / "cli.h5"
    cli("run", "configs/cuba.toml", "-o", out, "--quiet", "--threads", "2")
    r = engram.run("configs/cuba.toml", threads=1, progress=False)
    expected = cli_spikes(out)
    assert sum(len(t) for t, _ in expected.values()) > 10_000
    assert_same_spikes(r, expected)
    assert r.summary["spikes"] == sum(len(t) for t, _ in expected.values())
    assert r.provenance["seed"] == 1 and r.provenance["dt_ms"] == 0.1
    assert r.config == open("configs/cuba.toml").read()
    assert [s.n for s in r.spikes.values()] == [3200, 800]


def test_seed_and_set_are_the_cli_options(cli, tmp_path):
    out = tmp_path / "cli.h5"
    cli("run", "tests/configs/small_cuba.toml", "-o", out, "--quiet", "--seed", "7",
        "--set", "simulation.duration_ms=120")
    r = engram.run("tests/configs/small_cuba.toml", seed=7, set={"simulation.duration_ms": 120},
                   progress=False)
    assert_same_spikes(r, cli_spikes(out))
    assert r.provenance["seed"] == 7
    assert r.duration_ms == 120
    same = engram.run("tests/configs/small_cuba.toml", seed=7, set=["simulation.duration_ms=120"],
                      progress=False)
    assert_same_spikes(same, cli_spikes(out))


def test_a_dict_or_toml_text_runs_as_the_file(tmp_path):
    path = "tests/configs/small_cuba.toml"
    text = open(path).read()
    from_file = engram.run(path, progress=False)
    from_text = engram.run(text, progress=False)
    config = tomllib.loads(text)
    from_dict = engram.run(config, progress=False)
    expected = {p: (s.times_ms, s.node_ids) for p, s in from_file.spikes.items()}
    assert_same_spikes(from_text, expected)
    assert_same_spikes(from_dict, expected)
    # The dict's TOML, as written to the file, reads back as the same dict.
    assert tomllib.loads(from_dict.config) == config


def test_read_gives_what_run_gave(cli, tmp_path):
    out = tmp_path / "cli.h5"
    cli("run", "tests/configs/small_cuba.toml", "-o", out, "--quiet")
    r = engram.read(out)
    assert_same_spikes(r, cli_spikes(out))
    assert r.summary is None and r.path == str(out)
    again = engram.run("tests/configs/small_cuba.toml", output=tmp_path / "py.h5", progress=False)
    assert_same_spikes(again, cli_spikes(out))
    assert (tmp_path / "py.h5").exists()


def test_save_writes_the_cli_file(tmp_path):
    r = engram.run("tests/configs/small_cuba.toml", progress=False)
    saved = tmp_path / "saved.h5"
    r.save(saved)
    assert saved.read_bytes() == open(r.path, "rb").read()
    assert_same_spikes(engram.read(saved), {p: (s.times_ms, s.node_ids) for p, s in r.spikes.items()})
    with pytest.raises(engram.InputError, match="exists; pass force=True"):
        r.save(saved)
    r.save(saved, force=True)


def test_recall_results_reports_ach_and_weights(cli, tmp_path):
    report = {"population": "cortex", "variables": ["v", "bap"], "neurons": {"range": [0, 4]}}
    sets = {"output.weights": True, "output.reports": [report]}
    r = engram.run("tests/configs/small_recall.toml", set=sets, progress=False)
    # The typed results are the run summary's, as a dict.
    assert 0.0 <= r.results["recall"]["identification_accuracy"] <= 1.0
    assert r.results["recall"] == r.summary["recall"]
    assert r.protocol and all(a <= b for _, a, b in r.protocol)
    t, c = r.ach
    assert len(t) == len(c) == round(r.duration_ms / r.dt_ms)
    v = r.reports[("cortex", "v")]
    assert v.units == "mV" and v.data.shape == (len(v.time_ms), 4)
    assert list(v.node_ids) == [0, 1, 2, 3]
    assert np.all((v.data > -100) & (v.data < 0))
    w = r.weights["sensory_to_cortex"]
    assert len(w["source"]) == len(w["target"]) == len(w["weight_pa"]) > 0
    # The same through the CLI.
    out = tmp_path / "cli.h5"
    cli("run", "tests/configs/small_recall.toml", "-o", out, "--quiet", "--set", "output.weights=true",
        "--set", 'output.reports=[{population = "cortex", variables = ["v", "bap"], neurons = { range = [0, 4] }}]')
    cli_r = engram.read(out)
    assert_same_spikes(r, cli_spikes(out))
    assert np.array_equal(cli_r.reports[("cortex", "v")].data, v.data)
    assert np.array_equal(cli_r.weights["sensory_to_cortex"]["weight_pa"], w["weight_pa"])
    assert cli_r.results == r.results


def test_config_errors_carry_the_cli_message_and_field_path(cli):
    bad = "tests/bad_configs/probability_above_one.toml"
    p = cli("check", bad, check=False)
    assert p.returncode == 2
    with pytest.raises(engram.ConfigError) as e:
        engram.run(bad, progress=False)
    assert f"error: {e.value}" == p.stderr.strip()
    assert e.value.path == "projections.E_to_E.connectivity.p"
    assert e.value.file == bad and e.value.line == 8
    assert "[0, 1]" in e.value.message and e.value.kind == "invalid"
    assert isinstance(e.value, ValueError)


def test_dict_errors_name_the_field_without_lines():
    config = tomllib.loads(open("tests/configs/small_cuba.toml").read())
    config["neuron"]["tau_m_ms"] = -1.0
    with pytest.raises(engram.ConfigError) as e:
        engram.run(config, progress=False)
    assert e.value.file == "<dict>" and e.value.line is None
    assert e.value.path == "neuron.tau_m_ms"
    assert str(e.value).startswith("<dict>: neuron.tau_m_ms: ")
    with pytest.raises(ValueError, match="output.weights: None has no TOML form"):
        engram.run(config, set={"output.weights": None})
    with pytest.raises(engram.ConfigError, match="no such file|cannot read"):
        engram.run("no/such/config.toml")


def test_an_existing_output_needs_force(tmp_path):
    out = tmp_path / "x.h5"
    out.write_bytes(b"mine")
    with pytest.raises(engram.InputError, match="exists"):
        engram.run("tests/configs/small_cuba.toml", output=out, progress=False)
    assert out.read_bytes() == b"mine"
    engram.run("tests/configs/small_cuba.toml", output=out, force=True, progress=False)
    assert out.read_bytes() != b"mine"


def test_read_refuses_what_is_not_an_engram_file(tmp_path):
    with pytest.raises(engram.InputError, match="no such file"):
        engram.read(tmp_path / "none.h5")
    bad = tmp_path / "bad.h5"
    bad.write_text("text")
    with pytest.raises(engram.InputError, match="not an HDF5 file"):
        engram.read(bad)


def test_progress_callback_sees_the_run_to_its_end():
    calls = []
    engram.run("tests/configs/small_cuba.toml", progress=lambda *a: calls.append(a))
    assert calls, "the callback was never called"
    done = [c[0] for c in calls]
    assert done == sorted(done) and done[-1] == calls[-1][1] == 2000
    assert calls[-1][2] == pytest.approx(200.0)


def test_an_exception_in_the_callback_stops_the_run_and_leaves_no_file(tmp_path):
    def stop(done, total, time_ms, phase):
        if done > 0:
            raise RuntimeError("enough")

    out = tmp_path / "x.h5"
    with pytest.raises(RuntimeError, match="enough"):
        engram.run("tests/configs/small_cuba.toml", output=out, progress=stop)
    assert list(tmp_path.iterdir()) == []
    # The next run is not stopped by the last one's request.
    engram.run("tests/configs/small_cuba.toml", output=out, progress=False)
    assert out.exists()


def test_the_interpreter_lock_is_released_during_a_run():
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.01)
    before = len(ticks)
    engram.run("configs/cuba.toml", threads=1, progress=False)
    during = len(ticks) - before
    stop.set()
    t.join()
    # Held for the whole run (0.3-1 s), the lock would let the thread tick only at the
    # interpreter's switch interval, which a Rust call without Python code never reaches.
    assert during >= 20, during


def test_ctrl_c_stops_a_run_and_leaves_no_file(tmp_path, root):
    import signal
    import subprocess
    import sys

    script = (
        "import sys, engram\n"
        "try:\n"
        "    engram.run('configs/cuba-100k.toml', output=sys.argv[1], threads=1,\n"
        "               progress=lambda *a: print('running', flush=True))\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    sys.exit(3)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "x.h5")], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "running"  # the simulation has started
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 3, err
    assert "interrupted" in out
    assert list(tmp_path.iterdir()) == []
