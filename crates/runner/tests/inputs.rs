//! Inputs through the command: spike files (a run's SONATA output, or a CSV, fed into
//! another run), noise currents at any thread count, and bad spike files.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use crate::common::{assert_ok, code, engram, read_spikes, run_json, stderr};

const N: u32 = 30;

/// The first run: Poisson-driven `A` drives `B` one to one (2200 pA, 0.7 ms); `B` has a
/// bias of 100 pA (V_inf = -66 mV), so that most of `A`'s spikes make it fire, at a lag
/// that depends on its potential.
fn first_run() -> String {
    format!(
        "[simulation]\nduration_ms = 300.0\nseed = 4\n\n\
         [populations.A]\nn = {N}\n\n\
         [populations.B]\nn = {N}\nneuron = {{ i_e_pa = 100.0 }}\n\n\
         [projections.AB]\nsource = \"A\"\ntarget = \"B\"\n\
         connectivity = {{ rule = \"one_to_one\" }}\nweight_pa = 2200.0\ndelay_ms = 0.7\n\n\
         [inputs.drive]\nkind = \"poisson\"\ntarget = \"A\"\nrate_hz = 9000.0\nweight_pa = 80.0\n"
    )
}

/// A second run: `C` (the same neurons as `B`) fed by the spike file `path` with `extra`
/// fields.
fn replay(path: &str, extra: &str) -> String {
    format!(
        "[simulation]\nduration_ms = 300.0\n\n\
         [populations.C]\nn = {N}\nneuron = {{ i_e_pa = 100.0 }}\n\n\
         [inputs.replay]\nkind = \"spike_file\"\ntarget = \"C\"\npath = \"{path}\"\n\
         weight_pa = 2200.0\ndelay_ms = 0.7\n{extra}"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("written");
    p
}

fn strings(file: &Path, dataset: &str) -> Vec<String> {
    let f = hdf5::File::open(file).expect("opens");
    let v: Vec<VarLenUnicode> = f
        .dataset(dataset)
        .and_then(|d| d.read_raw())
        .unwrap_or_else(|e| panic!("{dataset}: {e}"));
    v.iter().map(|s| s.as_str().to_string()).collect()
}

fn stored_config(file: &Path) -> String {
    let f = hdf5::File::open(file).expect("opens");
    let v: VarLenUnicode = f
        .dataset("engram/config")
        .and_then(|d| d.read_scalar())
        .expect("/engram/config");
    v.as_str().to_string()
}

/// SHA-256 of a file, by `sha256sum`.
fn sha256(path: &Path) -> String {
    let o = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

#[test]
fn a_runs_spikes_replayed_from_its_file_act_as_its_synapses_did() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    let first = write(dir, "first.toml", &first_run());
    let first_h5 = dir.join("first.h5");
    run_json(&first, &first_h5, &[]);
    let a = read_spikes(&first_h5, "A");
    let b = read_spikes(&first_h5, "B");
    assert!(a.timestamps.len() > 300, "{} A spikes", a.timestamps.len());
    assert!(b.timestamps.len() > 100, "{} B spikes", b.timestamps.len());

    // The SONATA file, by a path relative to the config, its population named: C fires as
    // B did, spike for spike, on 1 and 3 threads.
    let second = write(
        dir,
        "second.toml",
        &replay("first.h5", "population = \"A\"\n"),
    );
    for threads in ["1", "3"] {
        let out = dir.join(format!("second-{threads}.h5"));
        run_json(&second, &out, &["--threads", threads]);
        let c = read_spikes(&out, "C");
        assert_eq!(c.timestamp_bits(), b.timestamp_bits(), "{threads} threads");
        assert_eq!(c.node_ids, b.node_ids, "{threads} threads");
    }
    // The file is stored by its absolute path in the output's config and hashed into the
    // provenance.
    let out = dir.join("second-1.h5");
    let abs = first_h5.canonicalize().expect("exists");
    let inputs = strings(&out, "engram/inputs/path");
    assert_eq!(inputs, [abs.to_string_lossy().into_owned()]);
    assert_eq!(
        strings(&out, "engram/inputs/sha256"),
        [sha256(&first_h5)],
        "the SHA-256 of the spike file"
    );
    let config = stored_config(&out);
    assert!(
        config.contains(&format!("path = \"{}\"", abs.display())),
        "{config}"
    );

    // A CSV of the same spikes, in reverse order (times need not be sorted), through a
    // map that sends node i to neuron N - 1 - i: neuron N - 1 - i fires as B's neuron i.
    let mut csv = String::from("node_id,time_ms\n");
    for (t, id) in a.timestamps.iter().zip(&a.node_ids).rev() {
        csv.push_str(&format!("{id},{t}\n"));
    }
    write(dir, "a.csv", &csv);
    let pairs: Vec<String> = (0..N).map(|i| format!("[{i}, {}]", N - 1 - i)).collect();
    let third = write(
        dir,
        "third.toml",
        &replay("a.csv", &format!("map = [{}]\n", pairs.join(", "))),
    );
    let out = dir.join("third.h5");
    run_json(&third, &out, &[]);
    let c = read_spikes(&out, "C");
    let mut mirrored: Vec<(u64, u64)> = b
        .timestamp_bits()
        .into_iter()
        .zip(b.node_ids.iter().map(|&i| u64::from(N) - 1 - i))
        .collect();
    mirrored.sort_unstable();
    let mut got: Vec<(u64, u64)> = c
        .timestamp_bits()
        .into_iter()
        .zip(c.node_ids.iter().copied())
        .collect();
    got.sort_unstable();
    assert_eq!(got, mirrored);
}

#[test]
fn spike_files_without_a_delay_act_one_step_after_their_spikes() {
    // A 1e5-pA spike at t makes the current jump at t + 0.1 ms (one step, the default
    // delay) and the neuron fire at the end of the next step, t + 0.2 ms: each neuron
    // fires 0.2 ms after each of its spikes (which are far enough apart for the current
    // to decay through the refractory period).
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    write(
        dir,
        "s.csv",
        "# node_id,time_ms, unsorted\n2,40.0\n0,10.0\n2,5.5\n0,70.3\n",
    );
    let config = write(
        dir,
        "c.toml",
        "[simulation]\nduration_ms = 100.0\n\n[neuron]\ntau_syn_ex_ms = 0.5\n\n\
         [populations.P]\nn = 3\n\n\
         [inputs.s]\nkind = \"spike_file\"\ntarget = \"P\"\npath = \"s.csv\"\nweight_pa = 1e5\n",
    );
    let out = dir.join("c.h5");
    run_json(&config, &out, &[]);
    let p = read_spikes(&out, "P");
    assert_eq!(p.timestamps, [5.7, 10.2, 40.2, 70.5]);
    assert_eq!(p.node_ids, [2, 0, 2, 0]);
}

#[test]
fn noise_currents_give_the_same_spikes_at_1_2_and_4_threads() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    let config = write(
        dir,
        "noise.toml",
        "[simulation]\nduration_ms = 200.0\nseed = 9\n\n\
         [populations.E]\nn = 500\n\n[populations.I]\nn = 125\n\n\
         [projections.EI]\nsource = \"E\"\ntarget = \"I\"\n\
         connectivity = { rule = \"fixed_indegree\", k = 20 }\nweight_pa = 60.0\n\n\
         [projections.IE]\nsource = \"I\"\ntarget = \"E\"\n\
         connectivity = { rule = \"fixed_indegree\", k = 20 }\nweight_pa = -100.0\n\n\
         [inputs.noise]\nkind = \"noise_current\"\ntarget = \"E\"\nmean_pa = 350.0\n\
         std_pa = 150.0\ndt_ms = 0.5\n\n\
         [inputs.fast]\nkind = \"noise_current\"\ntarget = \"I\"\nmean_pa = 380.0\n\
         std_pa = 200.0\nstart_ms = 50.0\nstop_ms = 150.0\n",
    );
    let run = |threads: &str| {
        let out = dir.join(format!("noise-{threads}.h5"));
        run_json(&config, &out, &["--threads", threads]);
        (read_spikes(&out, "E"), read_spikes(&out, "I"))
    };
    let (e1, i1) = run("1");
    assert!(
        e1.timestamps.len() > 500,
        "{} E spikes",
        e1.timestamps.len()
    );
    assert!(
        i1.timestamps.len() > 100,
        "{} I spikes",
        i1.timestamps.len()
    );
    for threads in ["2", "4"] {
        let (e, i) = run(threads);
        assert_eq!(e.timestamp_bits(), e1.timestamp_bits(), "{threads} threads");
        assert_eq!(e.node_ids, e1.node_ids, "{threads} threads");
        assert_eq!(i.timestamp_bits(), i1.timestamp_bits(), "{threads} threads");
        assert_eq!(i.node_ids, i1.node_ids, "{threads} threads");
    }
}

/// Runs `engram check CONFIG` and returns its error message, which must come with exit
/// code 2.
fn refused(config: &Path) -> String {
    let o = engram(["check".as_ref(), config.as_os_str()]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    err
}

#[test]
fn bad_spike_files_are_refused_naming_the_file_and_the_field() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    let abs = |name: &str| dir.canonicalize().expect("exists").join(name);

    // An HDF5 file whose datasets have other names than SONATA's.
    let wrong = dir.join("wrong.h5");
    {
        let f = hdf5::File::create(&wrong).expect("created");
        let g = f.create_group("spikes/A").expect("created");
        g.new_dataset_builder()
            .with_data(&[1.0f64, 2.0])
            .create("times")
            .expect("created");
        g.new_dataset_builder()
            .with_data(&[0u64, 1])
            .create("node_ids")
            .expect("created");
    }
    let c = write(dir, "wrong.toml", &replay("wrong.h5", ""));
    let e = refused(&c);
    assert!(
        e.contains(&format!(
            "inputs.replay.path: {}: /spikes/A: no dataset timestamps",
            abs("wrong.h5").display()
        )),
        "{e}"
    );

    // A population the file does not have.
    let first = write(dir, "first.toml", &first_run());
    let first_h5 = dir.join("first.h5");
    assert_ok(
        &engram([
            "run".as_ref(),
            first.as_os_str(),
            "-o".as_ref(),
            first_h5.as_os_str(),
            "--quiet".as_ref(),
        ]),
        "the first run",
    );
    let c = write(dir, "pop.toml", &replay("first.h5", "population = \"X\"\n"));
    let e = refused(&c);
    assert!(
        e.contains(&format!(
            "inputs.replay.path: {}: no population /spikes/X (it has A, B)",
            abs("first.h5").display()
        )),
        "{e}"
    );
    // Two populations and none named.
    let c = write(dir, "none.toml", &replay("first.h5", ""));
    let e = refused(&c);
    assert!(
        e.contains("2 populations under /spikes; name the one to read"),
        "{e}"
    );

    // A CSV: a bad row names its line; a node id beyond the population; a negative time.
    for (name, text, says) in [
        (
            "row.csv",
            "node_id,time_ms\n1,2.0\n1;3.0\n",
            "row.csv:3: \"1;3.0\" has 1 columns; expected node_id,time_ms",
        ),
        (
            "range.csv",
            "3,1.0\n30,2.0\n",
            "range.csv: node id 30 (spike 1) is not a neuron of population C (30 neurons)",
        ),
        (
            "negative.csv",
            "3,1.0\n4,-2.0\n",
            "negative.csv: spike 1 (node 4) is at -2 ms; spike times must be >= 0",
        ),
    ] {
        write(dir, name, text);
        let c = write(dir, &format!("{name}.toml"), &replay(name, ""));
        let e = refused(&c);
        assert!(e.contains(&format!("{name}.toml")), "{e}");
        assert!(e.contains("inputs.replay.path: "), "{e}");
        assert!(e.contains(says), "{e}");
    }
    // A map pair onto a neuron that does not exist; a population for a CSV.
    write(dir, "ok.csv", "1,2.0\n");
    let c = write(
        dir,
        "map.toml",
        &replay("ok.csv", "map = [[1, 2], [1, 30]]\n"),
    );
    let e = refused(&c);
    assert!(
        e.contains("inputs.replay.map: pair 1 = [1, 30]: neuron 30 is not in population C"),
        "{e}"
    );
    let c = write(
        dir,
        "csvpop.toml",
        &replay("ok.csv", "population = \"A\"\n"),
    );
    let e = refused(&c);
    assert!(
        e.contains("inputs.replay.population: ") && e.contains("is a CSV file"),
        "{e}"
    );
    // A missing file, relative to the config's folder.
    let c = write(dir, "missing.toml", &replay("nothing.h5", ""));
    let e = refused(&c);
    assert!(
        e.contains(&format!(
            "inputs.replay.path: {}: No such file",
            abs("nothing.h5").display()
        )),
        "{e}"
    );
}
